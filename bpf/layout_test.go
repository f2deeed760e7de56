package bpf

import (
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestLayoutMatchesBTF checks that the Go twins of the shared structs agree
// with the compiled object's BTF on size and on every member's offset, and
// that the Go constants agree with the maps' limits.
func TestLayoutMatchesBTF(t *testing.T) {
	spec, err := loadFilter()
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]any{
		"sc_chan_key": filterScChanKey{},
		"sc_rule":     filterScRule{},
		"sc_counters": filterScCounters{},
		"sc_disc_key": filterScDiscKey{},
		"sc_disc_val": filterScDiscVal{},
	} {
		var s *btf.Struct
		if err := spec.Types.TypeByName(name, &s); err != nil {
			t.Fatalf("find %s in BTF: %v", name, err)
		}
		gt := reflect.TypeOf(typ)
		if uintptr(s.Size) != gt.Size() {
			t.Errorf("%s: C size %d, Go size %d", name, s.Size, gt.Size())
		}
		var fields []reflect.StructField
		for i := range gt.NumField() {
			if f := gt.Field(i); f.Name != "_" {
				fields = append(fields, f)
			}
		}
		if len(fields) != len(s.Members) {
			t.Errorf("%s: C has %d members, Go %d fields", name, len(s.Members), len(fields))
			continue
		}
		for i, m := range s.Members {
			sz, err := btf.Sizeof(m.Type)
			if err != nil {
				t.Fatal(err)
			}
			if uintptr(m.Offset.Bytes()) != fields[i].Offset || uintptr(sz) != fields[i].Type.Size() {
				t.Errorf("%s.%s: C offset %d size %d, Go %s offset %d size %d", name, m.Name,
					m.Offset.Bytes(), sz, fields[i].Name, fields[i].Offset, fields[i].Type.Size())
			}
		}
	}
	if got := spec.Maps["counters"].MaxEntries; got != maxSlots {
		t.Errorf("counters map has %d entries, Go assumes %d", got, maxSlots)
	}
	if got := spec.Maps["channels"].InnerMap.MaxEntries; got != maxKeys {
		t.Errorf("channel map has %d entries, Go assumes %d", got, maxKeys)
	}
	if n := len(filterScCounters{}.Packets); n < NumReasons {
		t.Errorf("counters have %d verdicts, Go has %d", n, NumReasons)
	}
}

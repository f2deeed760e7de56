package bpf

import (
	"encoding/binary"
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
		"sc_rule":      filterScRule{},
		"sc_dir":       filterScDir{},
		"sc_addr_slot": filterScAddrSlot{},
		"sc_counters":  filterScCounters{},
		"sc_disc_key":  filterScDiscKey{},
		"sc_disc_val":  filterScDiscVal{},
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
	inner := spec.Maps["channels"].InnerMap
	if inner.MaxEntries != tableEntries {
		t.Errorf("channel table has %d entries, Go assumes %d", inner.MaxEntries, tableEntries)
	}
	if rule := binary.Size(filterScRule{}); inner.ValueSize != uint32(rule) || binary.Size(filterScDir{}) != rule ||
		binary.Size([addrPerEntry]filterScAddrSlot{}) > rule {
		t.Errorf("channel table entries of %d bytes: rule %d, directory %d, address slots %d", inner.ValueSize,
			rule, binary.Size(filterScDir{}), binary.Size([addrPerEntry]filterScAddrSlot{}))
	}
	if n := len(filterScCounters{}.Packets); n < NumReasons {
		t.Errorf("counters have %d verdicts, Go has %d", n, NumReasons)
	}
}

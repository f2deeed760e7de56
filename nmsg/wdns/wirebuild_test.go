package wdns_test

import (
	"encoding/binary"
	"strings"
)

// wire builds DNS wire data by hand.
type wire []byte

func (w wire) u8(v ...byte) wire { return append(w, v...) }
func (w wire) u16(v ...uint16) wire {
	for _, x := range v {
		w = binary.BigEndian.AppendUint16(w, x)
	}
	return w
}
func (w wire) u32(v uint32) wire { return binary.BigEndian.AppendUint32(w, v) }

// name appends an uncompressed name, labels split on "." (no escapes).
func (w wire) name(s string) wire {
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if l == "" {
			continue
		}
		w = append(w, byte(len(l)))
		w = append(w, l...)
	}
	return append(w, 0)
}

// labels appends labels without the root label (to end with a pointer).
func (w wire) labels(s string) wire {
	for _, l := range strings.Split(s, ".") {
		w = append(w, byte(len(l)))
		w = append(w, l...)
	}
	return w
}

func (w wire) ptr(off uint16) wire { return w.u16(0xc000 | off) }

func (w wire) str(s string) wire {
	w = append(w, byte(len(s)))
	return append(w, s...)
}

// rr appends type, class, TTL and rdlength+rdata after an owner name.
func (w wire) rr(typ, class uint16, ttl uint32, rdata wire) wire {
	w = w.u16(typ, class).u32(ttl).u16(uint16(len(rdata)))
	return append(w, rdata...)
}

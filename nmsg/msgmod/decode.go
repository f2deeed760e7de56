package msgmod

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Errors returned when a message cannot be decoded.
var (
	ErrUnknownType = errors.New("unknown message type")
	ErrMalformed   = errors.New("malformed message")
)

// maxFields bounds the fields of a module (dnsqr has the most, 28), so that
// a message's per-field index is a fixed array.
const maxFields = 32

// entry is one decoded value; next chains the values of one field in wire
// order (the index in ents of the field's next value, 0 for none: entry 0
// is never anyone's next, as it is the first value decoded).
type entry struct {
	v    val
	next int32
}

// slot indexes the values of one field in a msg: first and last are
// indexes into ents plus one (0: no value), n their number.
type slot struct {
	first, last, n int32
}

// msg is one decoded message: the values of its fields in wire order,
// indexed per field. It lives in a Printer and is reused for every
// payload.
//
// Hot path, hand-written: decoding walks the wire bytes once, with an
// inlined one-octet case for tags and varints (nearly every field of the
// DNS modules), into ents, which is reused from payload to payload, and
// idx, a fixed array reset per message; a field's values are then found
// without searching or allocating.
type msg struct {
	mod  *Module
	ents []entry
	idx  [maxFields]slot
	// p gives getters and formatters the printer's scratch space.
	p *Printer
}

// decode walks the protobuf wire bytes of one message of module mod.
func (m *msg) decode(mod *Module, b []byte) error {
	m.mod = mod
	m.ents = m.ents[:0]
	clear(m.idx[:len(mod.Fields)])
	for len(b) > 0 {
		var num protowire.Number
		var typ protowire.Type
		if c := b[0]; c < 0x80 && c >= 8 {
			num, typ = protowire.Number(c>>3), protowire.Type(c&7)
			b = b[1:]
		} else {
			var n int
			num, typ, n = protowire.ConsumeTag(b)
			if n < 0 {
				return fmt.Errorf("decode %s: %w: bad tag: %v", mod.MName, ErrMalformed, protowire.ParseError(n))
			}
			b = b[n:]
		}
		fi := mod.fieldByTag(num)
		if fi < 0 {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("decode %s: %w: field %d: %v", mod.MName, ErrMalformed, num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		f := &mod.Fields[fi]
		if typ != f.wt {
			if typ == protowire.BytesType && f.Repeated {
				// packed repeated scalars
				v, n := protowire.ConsumeBytes(b)
				if n < 0 {
					return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(n))
				}
				b = b[n:]
				for len(v) > 0 {
					x, k := consumeScalar(f, f.wt, v)
					if k < 0 {
						return fmt.Errorf("decode %s: %w: packed field %s", mod.MName, ErrMalformed, f.Name)
					}
					v = v[k:]
					m.add(fi, x)
				}
				continue
			}
			return fmt.Errorf("decode %s: %w: field %s has wire type %d", mod.MName, ErrMalformed, f.Name, typ)
		}
		x, k := consumeScalar(f, typ, b)
		if k < 0 {
			return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(k))
		}
		b = b[k:]
		m.add(fi, x)
	}
	return nil
}

// add appends value x of field fi.
func (m *msg) add(fi int, x val) {
	i := int32(len(m.ents))
	m.ents = append(m.ents, entry{v: x})
	s := &m.idx[fi]
	if s.last != 0 {
		m.ents[s.last-1].next = i
	} else {
		s.first = i + 1
	}
	s.last = i + 1
	s.n++
}

func wireTypeOf(p pbtype) protowire.Type {
	switch p {
	case pbUvarint, pbVarint:
		return protowire.VarintType
	case pbFixed32, pbSfixed32:
		return protowire.Fixed32Type
	case pbFixed64:
		return protowire.Fixed64Type
	case pbBytes:
		return protowire.BytesType
	}
	return 7 // no such wire type
}

// consumeVarint is protowire.ConsumeVarint with the one-octet case inlined.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

func consumeScalar(f *Field, typ protowire.Type, b []byte) (val, int) {
	switch typ {
	case protowire.VarintType:
		v, n := consumeVarint(b)
		if n < 0 {
			return val{}, n
		}
		switch f.Type {
		case ftInt16, ftInt32:
			v = uint64(int64(int32(v)))
		case ftEnum, ftUint16, ftUint32:
			v = uint64(uint32(v))
		case ftBool:
			if v != 0 {
				v = 1
			}
		}
		return val{u: v}, n
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		if n < 0 {
			return val{}, n
		}
		if f.PB == pbSfixed32 {
			return val{u: uint64(int64(int32(v)))}, n
		}
		return val{u: uint64(v)}, n
	case protowire.Fixed64Type:
		v, n := protowire.ConsumeFixed64(b)
		return val{u: v}, n
	case protowire.BytesType:
		if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) { // one-octet length
			l := int(b[0])
			return val{b: b[1 : 1+l], null: l == 0}, 1 + l
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return val{}, n
		}
		return val{b: v, null: len(v) == 0}, n
	}
	return val{}, -1
}

// count returns how many values field fi has.
func (m *msg) count(fi int) int { return int(m.idx[fi].n) }

// at returns value number k of field fi.
func (m *msg) at(fi, k int) (val, bool) {
	i := m.idx[fi].first
	if i == 0 || k >= int(m.idx[fi].n) {
		return val{}, false
	}
	i--
	for ; k > 0; k-- {
		i = m.ents[i].next
	}
	return m.ents[i].v, true
}

// one returns the value of a non-repeated field: the last one on the wire,
// as protobuf-c keeps. A missing required field gives its zero value with
// ok true, as protobuf-c's structure holds it.
func (m *msg) one(fi int) (val, bool) {
	if i := m.idx[fi].last; i != 0 {
		return m.ents[i-1].v, true
	}
	if f := &m.mod.Fields[fi]; f.Required {
		return f.zero(), true
	}
	return val{}, false
}

// zero is the value protobuf-c holds for an unset required field: zero,
// an enum's first value, NULL bytes.
func (f *Field) zero() val {
	if f.Type == ftEnum && f.Enum != nil && len(f.Enum.Values) > 0 {
		return val{u: uint64(f.Enum.Values[0])}
	}
	return val{null: true}
}

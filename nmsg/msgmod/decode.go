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

// entry is one decoded value, without pointers (so that filling ents
// costs no write barriers): u as in val, bytes as the span raw[off:off+n]
// of the message; next chains the values of one field in wire order (the
// index in ents of the field's next value, 0 for none: entry 0 is never
// anyone's next, as it is the first value decoded).
type entry struct {
	u      uint64
	off, n uint32
	next   int32
	null   bool
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
// inlined one-octet case for tags, varints and lengths (nearly every field
// of the DNS modules) and a per-module table of tags below 64, into ents,
// which is reused from payload to payload, and idx, a fixed array reset per
// message; a field's values are then found without searching or
// allocating.
type msg struct {
	mod  *Module
	raw  []byte
	ents []entry
	idx  [maxFields]slot
	// p gives getters and formatters the printer's scratch space.
	p *Printer
}

// decSlot is how decode handles one tag: the field index + 1 (0: not a
// field), its wire type and the conversion of its scalar.
type decSlot struct {
	fi   uint8
	wt   protowire.Type
	conv conv
}

// conv is how a scalar's wire value becomes val.u (see consumeScalar).
type conv uint8

const (
	cvNone     conv = iota
	cvInt32         // varint int16/int32: sign-extended from 32 bits
	cvUint32        // varint enum/uint16/uint32: the low 32 bits
	cvBool          // varint bool: 0 or 1
	cvSfixed32      // fixed32 sfixed32: sign-extended
)

func convOf(f *Field) conv {
	if f.PB == pbSfixed32 {
		return cvSfixed32
	}
	switch f.Type {
	case ftInt16, ftInt32:
		return cvInt32
	case ftEnum, ftUint16, ftUint32:
		return cvUint32
	case ftBool:
		return cvBool
	}
	return cvNone
}

func (c conv) apply(v uint64, typ protowire.Type) uint64 {
	switch typ {
	case protowire.VarintType:
		switch c {
		case cvInt32:
			return uint64(int64(int32(v)))
		case cvUint32:
			return uint64(uint32(v))
		case cvBool:
			if v != 0 {
				return 1
			}
		}
	case protowire.Fixed32Type:
		if c == cvSfixed32 {
			return uint64(int64(int32(v)))
		}
	}
	return v
}

// decSlotOf returns the decSlot of tag num.
func (mod *Module) decSlotOf(num protowire.Number) decSlot {
	if num < protowire.Number(len(mod.dec)) {
		return mod.dec[num]
	}
	fi := mod.fieldByTag(num)
	if fi < 0 {
		return decSlot{}
	}
	f := &mod.Fields[fi]
	return decSlot{fi: uint8(fi + 1), wt: f.wt, conv: convOf(f)}
}

// decode walks the protobuf wire bytes of one message of module mod.
func (m *msg) decode(mod *Module, b []byte) error {
	m.mod = mod
	m.raw = b
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
		var d decSlot
		if num < protowire.Number(len(mod.dec)) {
			d = mod.dec[num]
		} else {
			d = mod.decSlotOf(num)
		}
		if d.fi == 0 {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("decode %s: %w: field %d: %v", mod.MName, ErrMalformed, num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		fi := int(d.fi) - 1
		if typ != d.wt {
			f := &mod.Fields[fi]
			if typ == protowire.BytesType && f.Repeated {
				// packed repeated scalars
				v, n := protowire.ConsumeBytes(b)
				if n < 0 {
					return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(n))
				}
				b = b[n:]
				for len(v) > 0 {
					x, k := consumeScalar(d.wt, v)
					if k < 0 {
						return fmt.Errorf("decode %s: %w: packed field %s", mod.MName, ErrMalformed, f.Name)
					}
					v = v[k:]
					m.add(fi, d.conv.apply(x, d.wt), 0, 0, false)
				}
				continue
			}
			return fmt.Errorf("decode %s: %w: field %s has wire type %d", mod.MName, ErrMalformed, f.Name, typ)
		}
		if typ == protowire.BytesType {
			var l, n int
			if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) { // one-octet length
				l, n = int(b[0]), 1
			} else {
				v, k := protowire.ConsumeBytes(b)
				if k < 0 {
					return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, mod.Fields[fi].Name, protowire.ParseError(k))
				}
				l, n = len(v), k-len(v)
			}
			off := len(m.raw) - len(b) + n
			m.add(fi, 0, uint32(off), uint32(l), l == 0)
			b = b[n+l:]
			continue
		}
		var x uint64
		var k int
		if typ == protowire.VarintType && len(b) > 0 && b[0] < 0x80 {
			x, k = uint64(b[0]), 1
		} else if x, k = consumeScalar(typ, b); k < 0 {
			return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, mod.Fields[fi].Name, protowire.ParseError(k))
		}
		b = b[k:]
		m.add(fi, d.conv.apply(x, typ), 0, 0, false)
	}
	return nil
}

// add appends a value of field fi. (The entry is written field by field
// into ents: a whole entry built first and then copied costs a
// store-forwarding stall per value.)
func (m *msg) add(fi int, u uint64, off, n uint32, null bool) {
	i := int32(len(m.ents))
	if len(m.ents) < cap(m.ents) {
		m.ents = m.ents[:i+1]
	} else {
		m.ents = append(m.ents, entry{})
	}
	e := &m.ents[i]
	e.u, e.off, e.n, e.next, e.null = u, off, n, 0, null
	s := &m.idx[fi]
	if s.last != 0 {
		m.ents[s.last-1].next = i
	} else {
		s.first = i + 1
	}
	s.last = i + 1
	s.n++
}

// val returns entry i as a val.
func (m *msg) val(i int32) val {
	e := &m.ents[i]
	v := val{u: e.u, null: e.null}
	if e.n != 0 {
		v.b = m.raw[e.off : e.off+e.n]
	}
	return v
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

// consumeScalar reads a varint, fixed32 or fixed64 wire value.
func consumeScalar(typ protowire.Type, b []byte) (uint64, int) {
	switch typ {
	case protowire.VarintType:
		return consumeVarint(b)
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		return uint64(v), n
	case protowire.Fixed64Type:
		return protowire.ConsumeFixed64(b)
	}
	return 0, -1
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
	return m.val(i), true
}

// one returns the value of a non-repeated field: the last one on the wire,
// as protobuf-c keeps. A missing required field gives its zero value with
// ok true, as protobuf-c's structure holds it.
func (m *msg) one(fi int) (val, bool) {
	if i := m.idx[fi].last; i != 0 {
		return m.val(i - 1), true
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

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

type entry struct {
	fi int
	v  val
}

// msg is one decoded message: the values of its fields in wire order. It
// lives in a Printer and is reused for every payload.
type msg struct {
	mod  *Module
	ents []entry
	// last holds, per field, the index in ents of its last value (-1).
	last []int32
	// p gives getters and formatters the printer's scratch space.
	p *Printer
}

// decode walks the protobuf wire bytes of one message of module mod.
func (m *msg) decode(mod *Module, b []byte) error {
	m.mod = mod
	m.ents = m.ents[:0]
	m.last = m.last[:0]
	for range mod.Fields {
		m.last = append(m.last, -1)
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("decode %s: %w: bad tag: %v", mod.MName, ErrMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		fi := mod.fieldByTag(num)
		if fi < 0 {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("decode %s: %w: field %d: %v", mod.MName, ErrMalformed, num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		f := &mod.Fields[fi]
		if typ == protowire.BytesType && f.Repeated && f.PB != pbBytes {
			// packed repeated scalars
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(n))
			}
			b = b[n:]
			for len(v) > 0 {
				x, k := consumeScalar(f, wireTypeOf(f.PB), v)
				if k < 0 {
					return fmt.Errorf("decode %s: %w: packed field %s", mod.MName, ErrMalformed, f.Name)
				}
				v = v[k:]
				m.last[fi] = int32(len(m.ents))
				m.ents = append(m.ents, entry{fi: fi, v: x})
			}
			continue
		}
		if typ != wireTypeOf(f.PB) {
			return fmt.Errorf("decode %s: %w: field %s has wire type %d", mod.MName, ErrMalformed, f.Name, typ)
		}
		x, k := consumeScalar(f, typ, b)
		if k < 0 {
			return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(k))
		}
		b = b[k:]
		m.last[fi] = int32(len(m.ents))
		m.ents = append(m.ents, entry{fi: fi, v: x})
	}
	return nil
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

func consumeScalar(f *Field, typ protowire.Type, b []byte) (val, int) {
	switch typ {
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(b)
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
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return val{}, n
		}
		return val{b: v, null: len(v) == 0}, n
	}
	return val{}, -1
}

// count returns how many values field fi has.
func (m *msg) count(fi int) int {
	n := 0
	for i := range m.ents {
		if m.ents[i].fi == fi {
			n++
		}
	}
	return n
}

// at returns value number k of field fi.
func (m *msg) at(fi, k int) (val, bool) {
	for i := range m.ents {
		if m.ents[i].fi == fi {
			if k == 0 {
				return m.ents[i].v, true
			}
			k--
		}
	}
	return val{}, false
}

// one returns the value of a non-repeated field: the last one on the wire,
// as protobuf-c keeps. A missing required field gives its zero value with
// ok true, as protobuf-c's structure holds it.
func (m *msg) one(fi int) (val, bool) {
	if i := m.last[fi]; i >= 0 {
		return m.ents[i].v, true
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

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

// entry is one decoded value, without pointers (so that filling entries
// costs no write barriers): u as in val, bytes as the span raw[off:off+n]
// of the message; next chains the values of a repeated field in wire order
// (the index in ents of the field's next value, 0 for none: entry 0 is
// never anyone's next, as it is the first value decoded).
type entry struct {
	u      uint64
	off, n uint32
	next   int32
	null   bool
}

// slot indexes the values of a repeated field in ents: the first one, the
// last one and their number.
type slot struct {
	first, last, n int32
}

// msg is one decoded message, reused for every payload of a Printer.
//
// Hot path, hand-written: decoding walks the wire bytes once, with an
// inlined one-octet case for tags, varints and lengths (nearly every field
// of the DNS modules) and a per-module table of tags below 16. Each value
// lands in last, a fixed array by field (so the last one on the wire wins,
// as protobuf-c keeps it), and has marks the fields seen, so nothing is
// cleared per message; the values of repeated fields are also chained in
// ents, which is reused from payload to payload. A field's values are then
// found without searching or allocating.
type msg struct {
	mod  *Module
	raw  []byte
	has  uint32 // bit fi: field fi has a value
	last [maxFields]entry
	ents []entry
	idx  [maxFields]slot // of the repeated fields in has
	// p gives getters and formatters the printer's scratch space.
	p *Printer
}

// decSlot is how decode handles one tag: the field index + 1 (0: not a
// field), its wire type and the conversion of its scalar.
type decSlot struct {
	fi   uint8
	wt   protowire.Type
	conv conv
	rep  bool // a repeated field
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
	return decSlotFor(fi, f)
}

func decSlotFor(fi int, f *Field) decSlot {
	return decSlot{fi: uint8(fi + 1), wt: f.wt, conv: convOf(f), rep: f.Repeated}
}

// decode walks the protobuf wire bytes of one message of module mod.
func (m *msg) decode(mod *Module, raw []byte) error {
	m.mod, m.raw = mod, raw
	m.has = 0
	m.ents = m.ents[:0]
	pos := 0
	for pos < len(raw) {
		var num protowire.Number
		var typ protowire.Type
		var d decSlot
		if c := raw[pos]; c < 0x80 && c >= 8 {
			num, typ = protowire.Number(c>>3), protowire.Type(c&7)
			d = mod.dec[c>>3]
			pos++
		} else {
			var n int
			num, typ, n = protowire.ConsumeTag(raw[pos:])
			if n < 0 {
				return fmt.Errorf("decode %s: %w: bad tag: %v", mod.MName, ErrMalformed, protowire.ParseError(n))
			}
			pos += n
			d = mod.decSlotOf(num)
		}
		if d.fi == 0 || typ != d.wt {
			var err error
			if pos, err = m.decodeOther(d, num, typ, pos); err != nil {
				return err
			}
			continue
		}
		fi := int(d.fi) - 1
		var u uint64
		var off, n uint32
		switch typ {
		case protowire.BytesType:
			if pos < len(raw) && raw[pos] < 0x80 && int(raw[pos]) < len(raw)-pos { // one-octet length
				off, n = uint32(pos+1), uint32(raw[pos])
				pos += 1 + int(n)
			} else {
				v, k := protowire.ConsumeBytes(raw[pos:])
				if k < 0 {
					return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, mod.Fields[fi].Name, protowire.ParseError(k))
				}
				off, n = uint32(pos+k-len(v)), uint32(len(v))
				pos += k
			}
		case protowire.VarintType:
			if pos < len(raw) && raw[pos] < 0x80 {
				u = uint64(raw[pos])
				pos++
			} else {
				x, k := protowire.ConsumeVarint(raw[pos:])
				if k < 0 {
					return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, mod.Fields[fi].Name, protowire.ParseError(k))
				}
				u = x
				pos += k
			}
			u = d.conv.apply(u, typ)
		default:
			x, k := consumeScalar(typ, raw[pos:])
			if k < 0 {
				return fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, mod.Fields[fi].Name, protowire.ParseError(k))
			}
			u = d.conv.apply(x, typ)
			pos += k
		}
		// Store the value field by field (a whole entry built first and
		// then copied costs a store-forwarding stall per value).
		null := typ == protowire.BytesType && n == 0
		e := &m.last[fi&(maxFields-1)]
		e.u, e.off, e.n, e.null = u, off, n, null
		if d.rep {
			m.chain(fi, u, off, n, null)
		}
		m.has |= 1 << uint(fi&(maxFields-1))
	}
	return nil
}

// decodeOther handles what decode's loop does not: a field of no known
// tag (skipped), packed repeated scalars, or a wire type that does not
// match the field (an error). pos is just past the tag; it returns the
// position after the value.
func (m *msg) decodeOther(d decSlot, num protowire.Number, typ protowire.Type, pos int) (int, error) {
	mod := m.mod
	b := m.raw[pos:]
	if d.fi == 0 {
		n := protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return pos, fmt.Errorf("decode %s: %w: field %d: %v", mod.MName, ErrMalformed, num, protowire.ParseError(n))
		}
		return pos + n, nil
	}
	fi := int(d.fi) - 1
	f := &mod.Fields[fi]
	if typ != protowire.BytesType || !f.Repeated {
		return pos, fmt.Errorf("decode %s: %w: field %s has wire type %d", mod.MName, ErrMalformed, f.Name, typ)
	}
	// packed repeated scalars
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return pos, fmt.Errorf("decode %s: %w: field %s: %v", mod.MName, ErrMalformed, f.Name, protowire.ParseError(n))
	}
	for len(v) > 0 {
		x, k := consumeScalar(d.wt, v)
		if k < 0 {
			return pos, fmt.Errorf("decode %s: %w: packed field %s", mod.MName, ErrMalformed, f.Name)
		}
		v = v[k:]
		m.set(fi, true, d.conv.apply(x, d.wt), 0, 0, false)
	}
	return pos + n, nil
}

// set stores a value of field fi as decode does.
func (m *msg) set(fi int, rep bool, u uint64, off, n uint32, null bool) {
	e := &m.last[fi]
	e.u, e.off, e.n, e.null = u, off, n, null
	if rep {
		m.chain(fi, u, off, n, null)
	}
	m.has |= 1 << uint(fi)
}

// chain appends a value of repeated field fi to ents, before decode marks
// the field in has.
func (m *msg) chain(fi int, u uint64, off, n uint32, null bool) {
	i := int32(len(m.ents))
	if len(m.ents) < cap(m.ents) {
		m.ents = m.ents[:i+1]
	} else {
		m.ents = append(m.ents, entry{})
	}
	r := &m.ents[i]
	r.u, r.off, r.n, r.next, r.null = u, off, n, 0, null
	sl := &m.idx[fi]
	if m.has&(1<<uint(fi)) == 0 {
		sl.first, sl.last, sl.n = i, i, 1
	} else {
		m.ents[sl.last].next = i
		sl.last = i
		sl.n++
	}
}

// lastOf returns the last value of field fi, or nil.
func (m *msg) lastOf(fi int) *entry {
	if m.has&(1<<uint(fi&(maxFields-1))) == 0 {
		return nil
	}
	return &m.last[fi]
}

// values returns the index in ents of the first value of repeated field fi
// and the number of its values.
func (m *msg) values(fi int) (int32, int32) {
	if m.has&(1<<uint(fi&(maxFields-1))) == 0 {
		return 0, 0
	}
	return m.idx[fi].first, m.idx[fi].n
}

// valOf returns e as a val.
func (m *msg) valOf(e *entry) val {
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

// count returns how many values repeated field fi has (a field that is
// not repeated has at most one).
func (m *msg) count(fi int) int {
	if m.has&(1<<uint(fi)) == 0 {
		return 0
	}
	if m.mod.Fields[fi].Repeated {
		return int(m.idx[fi].n)
	}
	return 1
}

// at returns value number k of field fi.
func (m *msg) at(fi, k int) (val, bool) {
	if k < 0 || k >= m.count(fi) {
		return val{}, false
	}
	if !m.mod.Fields[fi].Repeated {
		return m.valOf(&m.last[fi]), true
	}
	i := m.idx[fi].first
	for ; k > 0; k-- {
		i = m.ents[i].next
	}
	return m.valOf(&m.ents[i]), true
}

// one returns the value of a non-repeated field: the last one on the wire,
// as protobuf-c keeps. A missing required field gives its zero value with
// ok true, as protobuf-c's structure holds it.
func (m *msg) one(fi int) (val, bool) {
	if e := m.lastOf(fi); e != nil {
		return m.valOf(e), true
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

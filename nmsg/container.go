package nmsg

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of Nmsg, NmsgPayload and NmsgFragment (nmsg/nmsg.proto).
const (
	fieldPayloads    = 1
	fieldPayloadCRCs = 2
	fieldSequence    = 3
	fieldSequenceID  = 4

	fieldVid      = 1
	fieldMsgtype  = 2
	fieldTimeSec  = 3
	fieldTimeNsec = 4
	fieldPayload  = 5
	fieldSource   = 7
	fieldOperator = 8
	fieldGroup    = 9

	fieldFragID      = 1
	fieldFragCurrent = 2
	fieldFragLast    = 3
	fieldFragData    = 4
	fieldFragCRC     = 5
)

// ContainerInfo holds the container-level fields of an Nmsg body.
type ContainerInfo struct {
	Payloads      int // payloads in the body, valid or not
	Sequence      uint32
	SequenceID    uint64
	HasSequence   bool
	HasSequenceID bool
	HasCRCs       bool
}

// bodyDecoder walks Nmsg bodies. It is hand-written over protowire rather
// than generated code because it runs once per payload on the capture path
// and must not allocate: payloads are views into the body and the CRC list
// lives in a reused slice.
type bodyDecoder struct {
	crcs []uint32 // payload_crcs as on the wire
	sums []uint32 // CRC-32C of each payload's message, as parsed
}

// decode parses body and appends its valid payloads to dst. Payloads whose
// CRC does not match, or that lack a required field, are left out; their
// numbers are returned so the caller can count and report them.
func (d *bodyDecoder) decode(dst []Payload, body []byte) (out []Payload, info ContainerInfo, badCRC, badPayload int, err error) {
	out = dst
	d.crcs, d.sums = d.crcs[:0], d.sums[:0]
	first := len(dst)
	// First pass: container fields and CRCs. Payload messages are parsed
	// here as well, into dst, so the body is walked once.
	b := body
	for len(b) > 0 {
		// Fast paths for the fields every container is made of.
		if b[0] == fieldPayloads<<3|2 {
			l, m := uvarint(b[1:])
			if m > 0 && l <= uint64(len(b)-1-m) {
				v := b[1+m : 1+m+int(l)]
				b = b[1+m+int(l):]
				info.Payloads++
				out = append(out, Payload{})
				if !d.payload(v, &out[len(out)-1]) {
					badPayload++
				}
				continue
			}
		} else if b[0] == fieldPayloadCRCs<<3|varintType {
			if len(b) >= 8 {
				if c, ok := varint5(binary.LittleEndian.Uint64(b) >> 8); ok {
					b = b[6:]
					d.crcs = append(d.crcs, uint32(c))
					info.HasCRCs = true
					continue
				}
			}
			c, m := uvarint(b[1:])
			if m > 0 {
				b = b[1+m:]
				d.crcs = append(d.crcs, uint32(c))
				info.HasCRCs = true
				continue
			}
		}
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return dst, info, 0, 0, fmt.Errorf("parse Nmsg tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case num == fieldPayloads && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg payload %d: %w", info.Payloads, protowire.ParseError(m))
			}
			b = b[m:]
			info.Payloads++
			out = append(out, Payload{})
			if !d.payload(v, &out[len(out)-1]) {
				badPayload++
			}
		case num == fieldPayloadCRCs && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg payload_crcs: %w", protowire.ParseError(m))
			}
			b = b[m:]
			d.crcs = append(d.crcs, uint32(v))
			info.HasCRCs = true
		case num == fieldPayloadCRCs && typ == protowire.BytesType:
			// Packed encoding: not what libnmsg writes, but valid protobuf.
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg payload_crcs: %w", protowire.ParseError(m))
			}
			b = b[m:]
			for len(v) > 0 {
				c, k := protowire.ConsumeVarint(v)
				if k < 0 {
					return dst, info, 0, 0, fmt.Errorf("parse Nmsg payload_crcs: %w", protowire.ParseError(k))
				}
				v = v[k:]
				d.crcs = append(d.crcs, uint32(c))
			}
			info.HasCRCs = true
		case num == fieldSequence && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg sequence: %w", protowire.ParseError(m))
			}
			b = b[m:]
			info.Sequence, info.HasSequence = uint32(v), true
		case num == fieldSequenceID && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg sequence_id: %w", protowire.ParseError(m))
			}
			b = b[m:]
			info.SequenceID, info.HasSequenceID = v, true
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return dst, info, 0, 0, fmt.Errorf("parse Nmsg field %d: %w", num, protowire.ParseError(m))
			}
			b = b[m:]
		}
	}
	// Second pass: compare the CRCs computed in the first with those of
	// the container, then, only if a payload is to go, compact them out.
	n := len(out) - first
	if badPayload == 0 {
		k := min(n, len(d.crcs))
		sums, crcs := d.sums[:k], d.crcs[:k]
		for i, c := range crcs {
			if bits.ReverseBytes32(c) != sums[i] {
				badCRC++
			}
		}
		if badCRC == 0 {
			return out, info, 0, 0, nil
		}
	}
	badCRC = 0
	w := first
	for i := first; i < len(out); i++ {
		p := &out[i]
		if p.Vid == badSlot {
			continue
		}
		if k := i - first; k < len(d.crcs) && bits.ReverseBytes32(d.crcs[k]) != d.sums[k] {
			badCRC++
			continue
		}
		if w != i {
			out[w] = *p
		}
		w++
	}
	return out[:w], info, badCRC, badPayload, nil
}

// payload parses the serialized NmsgPayload v into p and fills its wire
// cache, the CRC-32C of its message included, while p and v are in the
// cache: checking the CRCs later needs only the list of sums. A payload
// that does not parse is marked with badSlot (it keeps CRC indexes
// aligned until it is removed).
func (d *bodyDecoder) payload(v []byte, p *Payload) bool {
	if parsePayload(v, p) != nil {
		p.Vid = badSlot
		d.sums = append(d.sums, 0)
		return false
	}
	crc := CRC32C(p.Message)
	p.wire.raw, p.wire.crc = v, crc
	p.snapshot()
	d.sums = append(d.sums, crc)
	return true
}

// varintType is protowire.VarintType as an untyped constant, for building
// one-byte tags in switch cases.
const varintType = 0

// badSlot marks a payload that failed to parse. No vendor id comes close.
const badSlot = ^uint32(0)

// parsePayload parses one NmsgPayload message into p. vid, msgtype,
// time_sec and time_nsec are required, as in nmsg.proto. The fields every
// writer uses have one-byte tags, switched on directly: this runs once per
// payload on the capture path.
func parsePayload(b []byte, p *Payload) error {
	if parseCanonical(b, p) {
		return nil
	}
	*p = Payload{}
	return parseGeneric(b, p)
}

// parseGeneric parses any valid NmsgPayload: fields in any order,
// repeated (the last wins) or unknown.
func parseGeneric(b []byte, p *Payload) error {
	const required = 1<<fieldVid | 1<<fieldMsgtype | 1<<fieldTimeSec | 1<<fieldTimeNsec
	var seen uint32
	for len(b) > 0 {
		tag := b[0]
		var v uint64
		n := -1
		switch tag {
		case fieldVid<<3 | varintType, fieldMsgtype<<3 | varintType, fieldTimeSec<<3 | varintType,
			fieldSource<<3 | varintType, fieldOperator<<3 | varintType, fieldGroup<<3 | varintType:
			v, n = uvarint(b[1:])
		case fieldTimeNsec<<3 | 5:
			if len(b) >= 5 {
				v, n = uint64(binary.LittleEndian.Uint32(b[1:5])), 4
			}
		case fieldPayload<<3 | 2:
			l, m := uvarint(b[1:])
			if m > 0 && l <= uint64(len(b)-1-m) {
				p.Message, p.HasMessage = b[1+m:1+m+int(l)], true
				n = m + int(l)
			}
		default:
			num, typ, m := protowire.ConsumeTag(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			if num >= fieldVid && num <= fieldGroup && num != 6 {
				return fmt.Errorf("field %d has wire type %d", num, typ)
			}
			k := protowire.ConsumeFieldValue(num, typ, b[m:])
			if k < 0 {
				return protowire.ParseError(k)
			}
			b = b[m+k:]
			continue
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", tag>>3, protowire.ParseError(-1))
		}
		b = b[1+n:]
		seen |= 1 << (tag >> 3)
		switch tag >> 3 {
		case fieldVid:
			p.Vid = uint32(v)
		case fieldMsgtype:
			p.Msgtype = uint32(v)
		case fieldTimeSec:
			p.TimeSec = int64(v)
		case fieldTimeNsec:
			p.TimeNsec = uint32(v)
		case fieldSource:
			p.Source = uint32(v)
		case fieldOperator:
			p.Operator = uint32(v)
		case fieldGroup:
			p.Group = uint32(v)
		}
	}
	if seen&required != required {
		return fmt.Errorf("required field missing")
	}
	if p.Vid == badSlot {
		return fmt.Errorf("vendor id %d", p.Vid)
	}
	return nil
}

// parseCanonical parses the layout protobuf-c and Go protobuf write: vid
// and msgtype (one byte each), time_sec, time_nsec, the payload, then any
// of source, operator and group, each once, in tag order. It reports
// false for anything else, leaving p to be reset and parsed the general
// way. Straight-line code for the common case saves a third of the
// decoding time of a payload.
func parseCanonical(b []byte, p *Payload) bool {
	if len(b) < 11 || b[0] != fieldVid<<3 || b[1] >= 0x80 || b[2] != fieldMsgtype<<3 || b[3] >= 0x80 ||
		b[4] != fieldTimeSec<<3 {
		return false
	}
	// time_sec is a 5-byte varint from 2004 to 2514.
	sec, ok := uint64(0), false
	if len(b) >= 15 {
		sec, ok = varint5(binary.LittleEndian.Uint64(b[5:]))
	}
	i := 10
	if !ok {
		var n int
		sec, n = uvarint(b[5:])
		if n <= 0 {
			return false
		}
		i = 5 + n
	}
	if i+5 > len(b) || b[i] != fieldTimeNsec<<3|5 {
		return false
	}
	p.Vid, p.Msgtype, p.TimeSec = uint32(b[1]), uint32(b[3]), int64(sec)
	p.TimeNsec = binary.LittleEndian.Uint32(b[i+1:])
	i += 5
	if i < len(b) && b[i] == fieldPayload<<3|2 {
		l, m := uvarint(b[i+1:])
		if m <= 0 || l > uint64(len(b)-i-1-m) {
			return false
		}
		i += 1 + m
		p.Message, p.HasMessage = b[i:i+int(l)], true
		i += int(l)
	}
	if i+6 == len(b) && b[i] == fieldSource<<3 {
		// A source is a random 32-bit id: usually a 5-byte varint, and
		// the last field.
		if v, ok := varint5(binary.LittleEndian.Uint64(b[i-2:]) >> 24); ok {
			p.Source = uint32(v)
			return true
		}
	}
	ok = true
	i, ok = optVarint(b, i, fieldSource<<3, &p.Source, ok)
	i, ok = optVarint(b, i, fieldOperator<<3, &p.Operator, ok)
	i, ok = optVarint(b, i, fieldGroup<<3, &p.Group, ok)
	return ok && i == len(b)
}

// optVarint reads into v the varint field with the one-byte tag at b[i],
// if there is one, and returns the index after it; ok stays false once a
// varint did not decode.
func optVarint(b []byte, i int, tag byte, v *uint32, ok bool) (int, bool) {
	if !ok || i >= len(b) || b[i] != tag {
		return i, ok
	}
	x, m := uvarint(b[i+1:])
	if m <= 0 {
		return i, false
	}
	*v = uint32(x)
	return i + 1 + m, true
}

// varint5 decodes a 5-byte varint from the low five bytes of x (read
// little-endian), reporting false when they do not hold one: the first
// four with the continuation bit, the fifth without. Random 32-bit values
// (CRCs, source ids) and this century's time_sec are 5-byte varints, and
// decoding them from one load saves a branch per byte.
func varint5(x uint64) (uint64, bool) {
	if x&0x8080808080 != 0x80808080 {
		return 0, false
	}
	return x&0x7f | x>>1&(0x7f<<7) | x>>2&(0x7f<<14) | x>>3&(0x7f<<21) | x>>4&(0x7f<<28), true
}

// uvarint reads a varint. Up to five bytes (every field of NmsgPayload but
// a pre-2004 or post-2514 time_sec) are decoded inline; longer ones go to
// protowire.
func uvarint(b []byte) (uint64, int) {
	if len(b) >= 5 {
		v := uint64(b[0])
		if v < 0x80 {
			return v, 1
		}
		v &= 0x7f
		c := uint64(b[1])
		if c < 0x80 {
			return v | c<<7, 2
		}
		v |= (c & 0x7f) << 7
		c = uint64(b[2])
		if c < 0x80 {
			return v | c<<14, 3
		}
		v |= (c & 0x7f) << 14
		c = uint64(b[3])
		if c < 0x80 {
			return v | c<<21, 4
		}
		v |= (c & 0x7f) << 21
		c = uint64(b[4])
		if c < 0x80 {
			return v | c<<28, 5
		}
	}
	return protowire.ConsumeVarint(b)
}

// Fragment is a decoded NmsgFragment.
type Fragment struct {
	ID      uint32
	Current uint32
	Last    uint32
	Data    []byte
	CRC     uint32 // as on the wire (byte-swapped CRC-32C)
	HasCRC  bool
}

// ParseFragment parses an NmsgFragment body.
func ParseFragment(b []byte) (Fragment, error) {
	var f Fragment
	var seen uint32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return f, fmt.Errorf("parse NmsgFragment: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v uint64
		m := -1
		switch {
		case typ == protowire.VarintType && num >= fieldFragID && num <= fieldFragCRC && num != fieldFragData:
			v, m = protowire.ConsumeVarint(b)
		case typ == protowire.BytesType && num == fieldFragData:
			f.Data, m = protowire.ConsumeBytes(b)
		case num >= fieldFragID && num <= fieldFragCRC:
			return f, fmt.Errorf("parse NmsgFragment: field %d has wire type %d", num, typ)
		default:
			m = protowire.ConsumeFieldValue(num, typ, b)
		}
		if m < 0 {
			return f, fmt.Errorf("parse NmsgFragment: %w", protowire.ParseError(m))
		}
		b = b[m:]
		if num < 32 {
			seen |= 1 << num
		}
		switch num {
		case fieldFragID:
			f.ID = uint32(v)
		case fieldFragCurrent:
			f.Current = uint32(v)
		case fieldFragLast:
			f.Last = uint32(v)
		case fieldFragCRC:
			f.CRC, f.HasCRC = uint32(v), true
		}
	}
	const required = 1<<fieldFragID | 1<<fieldFragCurrent | 1<<fieldFragLast | 1<<fieldFragData
	if seen&required != required {
		return f, fmt.Errorf("parse NmsgFragment: required field missing")
	}
	return f, nil
}

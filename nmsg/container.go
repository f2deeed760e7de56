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
	crcs []uint32
}

// decode parses body and appends its valid payloads to dst. Payloads whose
// CRC does not match, or that lack a required field, are left out; their
// numbers are returned so the caller can count and report them.
func (d *bodyDecoder) decode(dst []Payload, body []byte) (out []Payload, info ContainerInfo, badCRC, badPayload int, err error) {
	out = dst
	d.crcs = d.crcs[:0]
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
				if parsePayload(v, &out[len(out)-1]) == nil {
					out[len(out)-1].wire.raw = v
				} else {
					out[len(out)-1].Vid = badSlot
					badPayload++
				}
				continue
			}
		} else if b[0] == fieldPayloadCRCs<<3|varintType {
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
			if perr := parsePayload(v, &out[len(out)-1]); perr == nil {
				out[len(out)-1].wire.raw = v
			} else {
				// Keep a marker slot so CRC indexes stay aligned; it is
				// removed below.
				out[len(out)-1].Vid = badSlot
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
	// Second pass over the new payloads: verify CRCs and compact out the
	// rejected ones.
	w := first
	for i := first; i < len(out); i++ {
		p := &out[i]
		if p.Vid == badSlot {
			continue
		}
		if k := i - first; k < len(d.crcs) {
			crc := CRC32C(p.Message)
			if bits.ReverseBytes32(d.crcs[k]) != crc {
				badCRC++
				continue
			}
			p.wire.crc, p.wire.hasCRC = crc, true
		}
		p.wire.snap = p.envelope()
		if w != i {
			out[w] = *p
		}
		w++
	}
	return out[:w], info, badCRC, badPayload, nil
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

package msgmod

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/siecap/siecap/nmsg"
)

// Printer prints payloads as nmsgtool does. It reuses its scratch space
// from payload to payload; it is not safe for concurrent use.
type Printer struct {
	// Aliases names operators and groups; nil prints numbers.
	Aliases *nmsg.Aliases

	m    msg
	tmp  []byte // formatter output
	tmp2 []byte // getter output (reassembled packets, ...)
}

// AppendJSON appends the nmsgtool -J line of pl (with its "\n") to dst.
//
// A payload of no known module prints with "mname":"(unknown)", its vid
// and msgtype, and the message as base64 under "b64" (nmsgtool prints
// nothing for it). A message that does not decode is an error wrapping
// ErrMalformed, and nothing is appended (nmsgtool skips it silently).
func (p *Printer) AppendJSON(dst []byte, pl *nmsg.Payload) ([]byte, error) {
	mod := Lookup(pl.Vid, pl.Msgtype)
	if mod != nil {
		p.m.p = p
		if err := p.m.decode(mod, pl.Message); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `{"time":"`...)
	dst = appendJSONTime(dst, pl.TimeSec, pl.TimeNsec)
	dst = append(dst, `","vname":`...)
	vname := VendorName(pl.Vid)
	if vname == "" {
		vname = "(unknown)"
	}
	dst = appendJSONString(dst, []byte(vname))
	dst = append(dst, `,"mname":`...)
	if mod == nil {
		dst = append(dst, `"(unknown)","vid":`...)
		dst = strconv.AppendUint(dst, uint64(pl.Vid), 10)
		dst = append(dst, `,"msgtype":`...)
		dst = strconv.AppendUint(dst, uint64(pl.Msgtype), 10)
	} else {
		dst = appendJSONString(dst, []byte(mod.MName))
	}
	if pl.Source != 0 {
		dst = append(dst, `,"source":"`...)
		dst = appendHex8(dst, pl.Source)
		dst = append(dst, '"')
	}
	if pl.Operator != 0 {
		dst = append(dst, `,"operator":`...)
		dst = p.appendAliasJSON(dst, p.opTable(), pl.Operator)
	}
	if pl.Group != 0 {
		dst = append(dst, `,"group":`...)
		dst = p.appendAliasJSON(dst, p.grTable(), pl.Group)
	}
	dst = append(dst, `,"message":{`...)
	if mod == nil {
		if pl.HasMessage {
			dst = append(dst, `"b64":"`...)
			dst = base64.StdEncoding.AppendEncode(dst, pl.Message)
			dst = append(dst, '"')
		}
		return append(dst, "}}\n"...), nil
	}
	dst = p.appendJSONFields(dst)
	return append(dst, "}}\n"...), nil
}

func (p *Printer) opTable() *nmsg.AliasTable {
	if p.Aliases == nil {
		return nil
	}
	return p.Aliases.Operator
}

func (p *Printer) grTable() *nmsg.AliasTable {
	if p.Aliases == nil {
		return nil
	}
	return p.Aliases.Group
}

func (p *Printer) appendAliasJSON(dst []byte, t *nmsg.AliasTable, n uint32) []byte {
	if name, ok := t.Name(n); ok {
		return appendJSONString(dst, []byte(name))
	}
	return strconv.AppendUint(dst, uint64(n), 10)
}

// appendJSONFields writes the message's fields in module order. A message
// with no field present prints its required fields' zero values and its
// repeated fields as [] (nmsgtool aborts on a payload with every field
// absent).
func (p *Printer) appendJSONFields(dst []byte) []byte {
	m := &p.m
	mod := m.mod
	first := true
	declare := func(dst []byte, name string) []byte {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, name...)
		return append(dst, '"', ':')
	}
	for fi := range mod.Fields {
		f := &mod.Fields[fi]
		if f.Hidden {
			continue
		}
		if f.Tag == 0 {
			if f.get == nil {
				continue
			}
			k := 0
			for ; ; k++ {
				v, ok := f.get(m, k)
				if !ok {
					break
				}
				if k == 0 {
					dst = declare(dst, f.Name)
					if f.Repeated {
						dst = append(dst, '[')
					}
				} else if f.Repeated {
					dst = append(dst, ',')
				}
				dst = p.appendJSONValue(dst, f, v)
				if !f.Repeated {
					k++
					break
				}
			}
			if k > 0 && f.Repeated {
				dst = append(dst, ']')
			}
			continue
		}
		if !f.Repeated {
			v, ok := m.one(fi)
			if !ok {
				continue
			}
			dst = declare(dst, f.Name)
			dst = p.appendJSONValue(dst, f, v)
			continue
		}
		dst = declare(dst, f.Name)
		dst = append(dst, '[')
		n := 0
		for i := range m.ents {
			if m.ents[i].fi != fi {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = p.appendJSONValue(dst, f, m.ents[i].v)
		}
		dst = append(dst, ']')
	}
	return dst
}

// appendJSONValue is libnmsg's _nmsg_message_payload_to_json_load.
func (p *Printer) appendJSONValue(dst []byte, f *Field, v val) []byte {
	if f.format != nil {
		out, ok := f.format(&p.m, f, v, p.tmp[:0])
		p.tmp = out[:0]
		if !ok {
			return append(dst, "null"...)
		}
		if f.FormatRaw {
			return append(dst, out...)
		}
		return appendJSONString(dst, out)
	}
	switch f.Type {
	case ftBytes:
		if v.null {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.b)
		return append(dst, '"')
	case ftString, ftMlstring:
		return appendJSONStringUTF8(dst, v.b)
	case ftBool:
		if v.u != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case ftEnum:
		if name, ok := f.Enum.name(uint32(v.u)); ok {
			dst = append(dst, '"')
			dst = append(dst, name...)
			return append(dst, '"')
		}
		return strconv.AppendUint(dst, uint64(uint32(v.u)), 10)
	case ftIP:
		if v.null || (len(v.b) != 4 && len(v.b) != 16) {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = appendIP(dst, v.b)
		return append(dst, '"')
	case ftUint16:
		return strconv.AppendUint(dst, uint64(uint16(v.u)), 10)
	case ftUint32:
		return strconv.AppendUint(dst, uint64(uint32(v.u)), 10)
	case ftInt16:
		// libnmsg prints negative numbers as their uint64 two's complement.
		return strconv.AppendUint(dst, uint64(int64(int16(v.u))), 10)
	case ftUint64, ftInt32, ftInt64:
		return strconv.AppendUint(dst, v.u, 10)
	case ftDouble:
		return appendJSONDouble(dst, math.Float64frombits(v.u))
	}
	return append(dst, "null"...)
}

// appendJSONDouble prints as libnmsg's append_json_value_double: "%.18f"
// with trailing zeros trimmed down to one decimal. nmsgtool prints NaN and
// infinities bare ("nan", "inf"), which is not JSON; they print as null
// here. nmsgtool also cuts doubles of 1e44 or more at its 64-byte buffer
// (and the line at the NUL it leaves); they print in full here.
func appendJSONDouble(dst []byte, d float64) []byte {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return append(dst, "null"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, d, 'f', 18, 64)
	for len(dst)-start > 1 && dst[len(dst)-1] == '0' && dst[len(dst)-2] != '.' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// appendJSONTime writes "YYYY-MM-DD HH:MM:SS.nnnnnnnnn" (UTC).
func appendJSONTime(dst []byte, sec int64, nsec uint32) []byte {
	t := time.Unix(sec, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = appendDigits(dst, y, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, ' ')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, s, 2)
	dst = append(dst, '.')
	return appendDigits(dst, int(nsec), 9)
}

// appendDigits writes the last n decimal digits of v, zero-padded (libnmsg
// num_to_str).
func appendDigits(dst []byte, v, n int) []byte {
	if v < 0 {
		v = -v
	}
	var b [20]byte
	for i := n - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, b[:n]...)
}

// appendDateTime writes "YYYY-MM-DD HH:MM:SS" as strftime "%Y-%m-%d %T".
func appendDateTime(dst []byte, sec int64) []byte {
	t := time.Unix(sec, 0).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y >= 0 && y < 10000 {
		dst = appendDigits(dst, y, 4)
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10)
	}
	dst = append(dst, '-')
	dst = appendDigits(dst, int(mo), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, d, 2)
	dst = append(dst, ' ')
	dst = appendDigits(dst, h, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, mi, 2)
	dst = append(dst, ':')
	return appendDigits(dst, s, 2)
}

const hexDigits = "0123456789abcdef"

func appendHex8(dst []byte, v uint32) []byte {
	for i := 28; i >= 0; i -= 4 {
		dst = append(dst, hexDigits[(v>>uint(i))&0xf])
	}
	return dst
}

// appendIP writes a 4- or 16-byte address as inet_ntop does.
func appendIP(dst []byte, b []byte) []byte {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)).AppendTo(dst)
	case 16:
		if isZero(b[:12]) && (b[12] != 0 || b[13] != 0) {
			// glibc inet_ntop writes IPv4-compatible addresses as
			// ::a.b.c.d (netip would write ::a0b:c0d).
			dst = append(dst, ':', ':')
			return netip.AddrFrom4([4]byte(b[12:])).AppendTo(dst)
		}
		return netip.AddrFrom16([16]byte(b)).AppendTo(dst)
	}
	return fmt.Appendf(dst, "<INVALID IP len=%d>", len(b))
}

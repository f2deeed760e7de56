package msgmod

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/wdns"
)

// Printer prints payloads as nmsgtool does. It reuses its scratch space
// from payload to payload; it is not safe for concurrent use.
type Printer struct {
	// Aliases names operators and groups; nil prints numbers.
	Aliases *nmsg.Aliases

	m    msg
	tmp  []byte // text to escape, rdata lines
	tmp2 []byte // getter output (reassembled packets, ...)
	days dayCache
	zero entry        // a missing required field's value
	dns  wdns.Message // the DNS message fields parse into
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
	dst = p.appendJSONTime(dst, pl.TimeSec, pl.TimeNsec)
	if mod == nil {
		dst = append(dst, `","vname":`...)
		vname := VendorName(pl.Vid)
		if vname == "" {
			vname = "(unknown)"
		}
		dst = appendJSONString(dst, []byte(vname))
		dst = append(dst, `,"mname":"(unknown)","vid":`...)
		dst = strconv.AppendUint(dst, uint64(pl.Vid), 10)
		dst = append(dst, `,"msgtype":`...)
		dst = strconv.AppendUint(dst, uint64(pl.Msgtype), 10)
	} else {
		dst = append(dst, mod.jsonNames...)
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
	comma := false
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
					dst = appendKey(dst, f, &comma)
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
			e := m.lastOf(fi)
			if e == nil {
				if !f.Required {
					continue
				}
				p.zero = f.zeroEntry()
				e = &p.zero
			}
			dst = appendKey(dst, f, &comma)
			dst = p.appendJSONEntry(dst, f, e)
			continue
		}
		dst = appendKey(dst, f, &comma)
		dst = append(dst, '[')
		i, n := m.values(fi)
		for k := int32(0); k < n; k++ {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = p.appendJSONEntry(dst, f, &m.ents[i])
			i = m.ents[i].next
		}
		dst = append(dst, ']')
	}
	return dst
}

// appendKey writes `"name":`, after a comma unless it is the first.
func appendKey(dst []byte, f *Field, comma *bool) []byte {
	if *comma {
		return appendWord(dst, &f.keyWord, f.jsonKey)
	}
	*comma = true
	return append(dst, f.jsonKey[1:]...)
}

// appendJSONValue is libnmsg's _nmsg_message_payload_to_json_load. A
// formatter writes straight into dst; its text is escaped afterwards only
// when it holds an octet JSON must escape, which names and rdata seldom do.
func (p *Printer) appendJSONValue(dst []byte, f *Field, v val) []byte {
	if f.kind == fkTime {
		dst = append(dst, '"')
		dst = p.appendTime32(dst, uint32(v.u))
		return append(dst, '"')
	}
	if f.format != nil {
		start := len(dst)
		if f.FormatRaw {
			out, ok := f.format(&p.m, f, v, dst)
			if !ok {
				return append(out[:start], "null"...)
			}
			return out
		}
		out, ok := f.format(&p.m, f, v, append(dst, '"'))
		if !ok {
			return append(out[:start], "null"...)
		}
		return p.closeJSONString(out, start+1)
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

// closeJSONString escapes dst[from:], raw text just written, in place if it
// needs it, and appends the closing quote.
func (p *Printer) closeJSONString(dst []byte, from int) []byte {
	if jsonClean(dst[from:]) {
		return append(dst, '"')
	}
	p.tmp = append(p.tmp[:0], dst[from:]...)
	dst = wdns.AppendJSONEscaped(dst[:from], p.tmp)
	return append(dst, '"')
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

// appendJSONTime writes "YYYY-MM-DD HH:MM:SS.nnnnnnnnn" (UTC), the year
// and the nanoseconds cut to their last 4 and 9 digits (libnmsg
// num_to_str).
func (p *Printer) appendJSONTime(dst []byte, sec int64, nsec uint32) []byte {
	if sec >= 0 && sec < maxFastSec {
		dst = p.days.appendDateTimeFast(dst, uint64(sec))
	} else {
		dst = appendTimeSlow(dst, sec, func(dst []byte, y int) []byte { return appendDigits(dst, y, 4) })
	}
	dst = append(dst, '.')
	if nsec < 1e9 {
		return appendNano9(dst, nsec)
	}
	return appendDigits(dst, int(nsec), 9)
}

// appendTime32 is time_format: a uint32 of Unix seconds as
// "YYYY-MM-DD HH:MM:SS" (UTC; its years all have four digits).
func (p *Printer) appendTime32(dst []byte, sec uint32) []byte {
	return p.days.appendDateTimeFast(dst, uint64(sec))
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
func (p *Printer) appendDateTime(dst []byte, sec int64) []byte {
	if sec >= 0 && sec < maxFastSec {
		return p.days.appendDateTimeFast(dst, uint64(sec))
	}
	return appendTimeSlow(dst, sec, func(dst []byte, y int) []byte {
		if y >= 0 && y < 10000 {
			return appendDigits(dst, y, 4)
		}
		return strconv.AppendInt(dst, int64(y), 10)
	})
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
		return wdns.AppendIPv4(dst, [4]byte(b))
	case 16:
		if isZero(b[:12]) && (b[12] != 0 || b[13] != 0) {
			// glibc inet_ntop writes IPv4-compatible addresses as
			// ::a.b.c.d (netip would write ::a0b:c0d).
			dst = append(dst, ':', ':')
			return wdns.AppendIPv4(dst, [4]byte(b[12:]))
		}
		return netip.AddrFrom16([16]byte(b)).AppendTo(dst)
	}
	return fmt.Appendf(dst, "<INVALID IP len=%d>", len(b))
}

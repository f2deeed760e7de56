package msgmod

import (
	"bytes"
	"math"
	"strconv"

	"github.com/siecap/siecap/nmsg"
)

// AppendPres appends the nmsgtool -o form of pl to dst: the header line
// "[len] [time] [vid:type vname mname] [source] [operator] [group] ", one
// line per field, and a blank line. A payload of no known module prints
// "<UNKNOWN NMSG vid:type>" as nmsgtool does. A message that does not
// decode is an error wrapping ErrMalformed, and nothing is appended
// (nmsgtool skips it silently).
func (p *Printer) AppendPres(dst []byte, pl *nmsg.Payload) ([]byte, error) {
	mod := Lookup(pl.Vid, pl.Msgtype)
	if mod != nil {
		p.m.p = p
		if err := p.m.decode(mod, pl.Message); err != nil {
			return dst, err
		}
	}
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(len(pl.Message)), 10)
	dst = append(dst, "] ["...)
	dst = p.appendDateTime(dst, pl.TimeSec)
	dst = append(dst, '.')
	if pl.TimeNsec < 1e9 {
		dst = appendNano9(dst, pl.TimeNsec)
	} else {
		dst = strconv.AppendUint(dst, uint64(pl.TimeNsec), 10)
	}
	dst = append(dst, "] ["...)
	if mod != nil {
		dst = append(dst, mod.presNames...)
	} else {
		dst = strconv.AppendInt(dst, int64(int32(pl.Vid)), 10)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, int64(int32(pl.Msgtype)), 10)
		dst = append(dst, ' ')
		// glibc prints a NULL name as "(null)".
		if vn := VendorName(pl.Vid); vn != "" {
			dst = append(dst, vn...)
		} else {
			dst = append(dst, "(null)"...)
		}
		dst = append(dst, " (null)"...)
	}
	dst = append(dst, "] ["...)
	dst = appendHex8(dst, pl.Source)
	dst = append(dst, "] ["...)
	if pl.Operator != 0 {
		dst = p.appendAliasPres(dst, p.opTable(), pl.Operator)
	}
	dst = append(dst, "] ["...)
	if pl.Group != 0 {
		dst = p.appendAliasPres(dst, p.grTable(), pl.Group)
	}
	dst = append(dst, "] \n"...)
	if mod == nil {
		dst = append(dst, "<UNKNOWN NMSG "...)
		dst = strconv.AppendUint(dst, uint64(pl.Vid), 10)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(pl.Msgtype), 10)
		dst = append(dst, ">\n"...)
		return append(dst, '\n'), nil
	}
	dst = p.appendPresFields(dst)
	return append(dst, '\n'), nil
}

func (p *Printer) appendAliasPres(dst []byte, t *nmsg.AliasTable, n uint32) []byte {
	if name, ok := t.Name(n); ok {
		return append(dst, name...)
	}
	return strconv.AppendUint(dst, uint64(n), 10)
}

func (p *Printer) appendPresFields(dst []byte) []byte {
	m := &p.m
	mod := m.mod
	for fi := range mod.Fields {
		f := &mod.Fields[fi]
		if f.NoPrint || f.Hidden {
			continue
		}
		switch {
		case f.get != nil:
			for k := 0; ; k++ {
				v, ok := f.get(m, k)
				if !ok {
					break
				}
				dst = p.appendPresValue(dst, f, v)
			}
		case !f.Repeated:
			if e := m.lastOf(fi); e != nil {
				dst = p.appendPresEntry(dst, f, e)
			} else if f.Required {
				p.zero = f.zeroEntry()
				dst = p.appendPresEntry(dst, f, &p.zero)
			}
		default:
			i, n := m.values(fi)
			for k := int32(0); k < n; k++ {
				dst = p.appendPresEntry(dst, f, &m.ents[i])
				i = m.ents[i].next
			}
		}
	}
	return dst
}

// appendPresValue is libnmsg's _nmsg_message_payload_to_pres_load. A
// formatter writes straight into dst, after the field's name.
func (p *Printer) appendPresValue(dst []byte, f *Field, v val) []byte {
	if f.print != nil {
		return f.print(&p.m, f, v, dst)
	}
	if f.format != nil && !f.FormatRaw {
		start := len(dst)
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		from := len(dst)
		out, ok := f.format(&p.m, f, v, dst)
		if !ok {
			return out[:start]
		}
		if i := bytes.IndexByte(out[from:], 0); i >= 0 {
			out = out[:from+i] // C's "%s" stops at a NUL
		}
		return append(out, '\n')
	}
	dst = append(dst, f.Name...)
	switch f.Type {
	case ftBytes:
		dst = append(dst, ": <BYTE ARRAY LEN="...)
		dst = strconv.AppendInt(dst, int64(len(v.b)), 10)
		dst = append(dst, '>')
	case ftString:
		dst = append(dst, ':', ' ')
		dst = append(dst, cutNUL(v.b)...)
	case ftMlstring:
		dst = append(dst, ':', '\n')
		dst = append(dst, cutNUL(v.b)...)
		dst = append(dst, '.')
	case ftBool:
		if v.u != 0 {
			dst = append(dst, ": True"...)
		} else {
			dst = append(dst, ": False"...)
		}
	case ftEnum:
		if name, ok := f.Enum.name(uint32(v.u)); ok {
			dst = append(dst, ':', ' ')
			dst = append(dst, name...)
		} else {
			dst = append(dst, ": <UNKNOWN ENUM VAL="...)
			dst = strconv.AppendUint(dst, uint64(uint32(v.u)), 10)
			dst = append(dst, '>')
		}
	case ftIP:
		dst = append(dst, ':', ' ')
		dst = appendIP(dst, v.b)
	case ftUint16:
		dst = append(dst, ':', ' ')
		dst = strconv.AppendUint(dst, uint64(uint16(v.u)), 10)
	case ftUint32:
		dst = append(dst, ':', ' ')
		dst = strconv.AppendUint(dst, uint64(uint32(v.u)), 10)
	case ftUint64:
		dst = append(dst, ':', ' ')
		dst = strconv.AppendUint(dst, v.u, 10)
	case ftInt16:
		dst = append(dst, ':', ' ')
		dst = strconv.AppendInt(dst, int64(int16(v.u)), 10)
	case ftInt32, ftInt64:
		dst = append(dst, ':', ' ')
		dst = strconv.AppendInt(dst, int64(v.u), 10)
	case ftDouble:
		dst = append(dst, ':', ' ')
		dst = appendCDouble(dst, math.Float64frombits(v.u))
	}
	return append(dst, '\n')
}

// appendCDouble prints d as C's "%f".
func appendCDouble(dst []byte, d float64) []byte {
	switch {
	case math.IsNaN(d):
		if math.Signbit(d) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(d, 1):
		return append(dst, "inf"...)
	case math.IsInf(d, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, d, 'f', 6, 64)
}

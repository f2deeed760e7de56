package msgmod

import (
	"strconv"

	"github.com/siecap/siecap/nmsg/wdns"
)

// Hot path, hand-written: the printers write a decoded field value from its
// entry, switching on the field's kind and type, instead of building a val
// and calling the field's print or format function. It prints exactly what
// those functions print (they stay the reference and serve getters, JSON
// input and the rarer fields); a val is a five-word struct whose copies
// through the stack cost store-forwarding stalls, and most fields of the
// DNS modules are a number, a name, a type, a class or rdata.

// bytesOf returns the bytes of entry e.
func (m *msg) bytesOf(e *entry) []byte {
	if e.n == 0 {
		return nil
	}
	return m.raw[e.off : e.off+e.n]
}

// oneU is one(fi) for a scalar: its value and whether it is set.
func (m *msg) oneU(fi int) (uint64, bool) {
	if i := m.idx[fi].last; i != 0 {
		return m.ents[i-1].u, true
	}
	if f := &m.mod.Fields[fi]; f.Required {
		return f.zero().u, true
	}
	return 0, false
}

// zeroEntry is zero() as an entry.
func (f *Field) zeroEntry() entry {
	z := f.zero()
	return entry{u: z.u, null: z.null}
}

// appendJSONEntry writes the JSON value of entry e of field f.
func (p *Printer) appendJSONEntry(dst []byte, f *Field, e *entry) []byte {
	m := &p.m
	switch f.kind {
	case fkTime:
		dst = append(dst, '"')
		dst = p.appendTime32(dst, uint32(e.u))
		return append(dst, '"')
	case fkName:
		dst = append(dst, '"')
		start := len(dst)
		if e.n > 0 && e.n <= 255 {
			dst = wdns.AppendDomain(dst, m.bytesOf(e))
		}
		return p.closeJSONString(dst, start)
	case fkType:
		dst = append(dst, '"')
		dst = appendTypeMnemonic(dst, uint16(e.u))
		return append(dst, '"')
	case fkSIEClass:
		dst = append(dst, '"')
		if n, ok := wdns.ClassName(uint16(e.u)); ok {
			dst = append(dst, n...)
		} else {
			dst = append(dst, "<UNKNOWN>"...)
		}
		return append(dst, '"')
	case fkBaseClass:
		dst = append(dst, '"')
		dst = appendBaseClass(dst, uint16(e.u))
		return append(dst, '"')
	case fkRdata:
		t, c, ok := rdataTypeClass(m)
		if !ok {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		start := len(dst)
		dst = wdns.AppendRdata(dst, t, c, m.bytesOf(e))
		return p.closeJSONString(dst, start)
	}
	if f.format == nil {
		switch f.Type {
		case ftEnum:
			if name, ok := f.Enum.name(uint32(e.u)); ok {
				dst = append(dst, '"')
				dst = append(dst, name...)
				return append(dst, '"')
			}
			return strconv.AppendUint(dst, uint64(uint32(e.u)), 10)
		case ftIP:
			if e.null || (e.n != 4 && e.n != 16) {
				return append(dst, "null"...)
			}
			dst = append(dst, '"')
			dst = appendIP(dst, m.bytesOf(e))
			return append(dst, '"')
		case ftUint16:
			return strconv.AppendUint(dst, uint64(uint16(e.u)), 10)
		case ftUint32:
			return strconv.AppendUint(dst, uint64(uint32(e.u)), 10)
		case ftUint64, ftInt32, ftInt64:
			return strconv.AppendUint(dst, e.u, 10)
		}
	}
	return p.appendJSONValue(dst, f, val{u: e.u, b: m.bytesOf(e), null: e.null})
}

// appendPresEntry writes the presentation line(s) of entry e of field f.
func (p *Printer) appendPresEntry(dst []byte, f *Field, e *entry) []byte {
	m := &p.m
	switch f.kind {
	case fkTime:
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		dst = p.appendTime32(dst, uint32(e.u))
		return append(dst, '\n')
	case fkName:
		if e.n == 0 || e.n > 255 {
			return dst
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		dst = wdns.AppendDomain(dst, m.bytesOf(e))
		return append(dst, '\n')
	case fkType:
		t := uint16(e.u)
		n, ok := wdns.TypeName(t)
		if !ok {
			n = "<UNKNOWN>"
		}
		return appendMnemonicLine(dst, f.Name, n, uint64(t))
	case fkSIEClass:
		c := uint16(e.u)
		n, ok := wdns.ClassName(c)
		if !ok {
			n = "<UNKNOWN>"
		}
		return appendMnemonicLine(dst, f.Name, n, uint64(c))
	case fkBaseClass:
		c := uint16(e.u)
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		dst = appendBaseClass(dst, c)
		dst = append(dst, ' ', '(')
		dst = strconv.AppendUint(dst, uint64(c), 10)
		return append(dst, ')', '\n')
	case fkRdata:
		t, c, ok := rdataTypeClass(m)
		if !ok {
			return dst
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ':', ' ')
		dst = wdns.AppendRdata(dst, t, c, m.bytesOf(e))
		return append(dst, '\n')
	}
	if f.format == nil && f.print == nil {
		switch f.Type {
		case ftEnum:
			dst = append(dst, f.Name...)
			if name, ok := f.Enum.name(uint32(e.u)); ok {
				dst = append(dst, ':', ' ')
				dst = append(dst, name...)
			} else {
				dst = append(dst, ": <UNKNOWN ENUM VAL="...)
				dst = strconv.AppendUint(dst, uint64(uint32(e.u)), 10)
				dst = append(dst, '>')
			}
			return append(dst, '\n')
		case ftIP:
			dst = append(dst, f.Name...)
			dst = append(dst, ':', ' ')
			dst = appendIP(dst, m.bytesOf(e))
			return append(dst, '\n')
		case ftUint16, ftUint32, ftUint64:
			dst = append(dst, f.Name...)
			dst = append(dst, ':', ' ')
			u := e.u
			switch f.Type {
			case ftUint16:
				u = uint64(uint16(u))
			case ftUint32:
				u = uint64(uint32(u))
			}
			dst = strconv.AppendUint(dst, u, 10)
			return append(dst, '\n')
		}
	}
	return p.appendPresValue(dst, f, val{u: e.u, b: m.bytesOf(e), null: e.null})
}

// appendTypeMnemonic is typeFormat: the mnemonic or "TYPEn".
func appendTypeMnemonic(dst []byte, t uint16) []byte {
	if n, ok := wdns.TypeName(t); ok {
		return append(dst, n...)
	}
	dst = append(dst, "TYPE"...)
	return strconv.AppendUint(dst, uint64(t), 10)
}

// appendBaseClass is baseClassFormat: the mnemonic or "CLASSn".
func appendBaseClass(dst []byte, c uint16) []byte {
	if n, ok := wdns.ClassName(c); ok {
		return append(dst, n...)
	}
	dst = append(dst, "CLASS"...)
	return strconv.AppendUint(dst, uint64(c), 10)
}

package msgmod

import (
	"encoding/binary"
	"slices"
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
	if e := m.lastOf(fi); e != nil {
		return e.u, true
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
		if e.n > 0 && e.n <= 255 {
			dst = wdns.AppendDomainJSON(dst, m.bytesOf(e))
		}
		return append(dst, '"')
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
		dst = appendPresKey(dst, f)
		dst = p.appendTime32(dst, uint32(e.u))
		return append(dst, '\n')
	case fkName:
		if e.n == 0 || e.n > 255 {
			return dst
		}
		dst = appendPresKey(dst, f)
		dst = wdns.AppendDomain(dst, m.bytesOf(e))
		return append(dst, '\n')
	case fkType:
		t := uint16(e.u)
		n, ok := wdns.TypeName(t)
		if !ok {
			n = "<UNKNOWN>"
		}
		return appendMnemonicLineKey(dst, f, n, uint64(t))
	case fkSIEClass:
		c := uint16(e.u)
		n, ok := wdns.ClassName(c)
		if !ok {
			n = "<UNKNOWN>"
		}
		return appendMnemonicLineKey(dst, f, n, uint64(c))
	case fkBaseClass:
		c := uint16(e.u)
		dst = appendPresKey(dst, f)
		dst = appendBaseClass(dst, c)
		dst = append(dst, ' ', '(')
		dst = strconv.AppendUint(dst, uint64(c), 10)
		return append(dst, ')', '\n')
	case fkRdata:
		t, c, ok := rdataTypeClass(m)
		if !ok {
			return dst
		}
		dst = appendPresKey(dst, f)
		dst = wdns.AppendRdata(dst, t, c, m.bytesOf(e))
		return append(dst, '\n')
	}
	if f.format == nil && f.print == nil {
		switch f.Type {
		case ftEnum:
			if name, ok := f.Enum.name(uint32(e.u)); ok {
				dst = appendPresKey(dst, f)
				dst = append(dst, name...)
			} else {
				dst = append(dst, f.Name...)
				dst = append(dst, ": <UNKNOWN ENUM VAL="...)
				dst = strconv.AppendUint(dst, uint64(uint32(e.u)), 10)
				dst = append(dst, '>')
			}
			return append(dst, '\n')
		case ftIP:
			dst = appendPresKey(dst, f)
			dst = appendIP(dst, m.bytesOf(e))
			return append(dst, '\n')
		case ftUint16, ftUint32, ftUint64:
			dst = appendPresKey(dst, f)
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

// appendPresKey writes "name: ", as one fixed-size copy when it fits.
func appendPresKey(dst []byte, f *Field) []byte {
	return appendWord(dst, &f.presWord, f.presKey)
}

// appendWord appends s, which word holds when it fits.
func appendWord(dst []byte, word *keyWord, s string) []byte {
	if len(s) > 24 {
		return append(dst, s...)
	}
	return appendWordN(dst, word, len(s))
}

// appendWordN appends the first n <= 24 octets of word: three 8-octet
// stores and a cut, instead of a memmove call for a few octets.
func appendWordN(dst []byte, word *keyWord, n int) []byte {
	l := len(dst)
	dst = slices.Grow(dst, 24)
	out := dst[l : l+24]
	binary.LittleEndian.PutUint64(out[0:], word[0])
	binary.LittleEndian.PutUint64(out[8:], word[1])
	binary.LittleEndian.PutUint64(out[16:], word[2])
	return dst[:l+n]
}

// keyWord is up to 24 octets of text as little-endian words.
type keyWord [3]uint64

func makeKeyWord(s string) (w keyWord) {
	var b [24]byte
	copy(b[:], s)
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return w
}

// appendMnemonicLineKey is appendMnemonicLine for field f.
func appendMnemonicLineKey(dst []byte, f *Field, mnem string, n uint64) []byte {
	dst = appendPresKey(dst, f)
	dst = append(dst, mnem...)
	dst = append(dst, ' ', '(')
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, ')', '\n')
}

package msgmod

import (
	"strconv"

	"github.com/siecap/siecap/nmsg/wdns"
)

// Field behaviours shared by the DNS-carrying modules (SIE dnsdedupe,
// newdomain, dnsnx; base dns, dnsqr, dnsobs): libnmsg's dns_name_*,
// dns_type_*, dns_class_*, dns_rdata_*, dns_message_* and time_* functions.

// nameFormat is dns_name_format: the name as wdns_domain_to_str prints it
// when it is 1..255 octets, else nothing.
func nameFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	if len(v.b) > 0 && len(v.b) <= 255 {
		dst = wdns.AppendDomain(dst, v.b)
	}
	return dst, true
}

// namePrint is dns_name_print: like nameFormat, but nothing at all is
// printed for an empty or oversized name.
func namePrint(m *msg, f *Field, v val, dst []byte) []byte {
	if len(v.b) == 0 || len(v.b) > 255 {
		return dst
	}
	dst = append(dst, f.Name...)
	dst = append(dst, ':', ' ')
	dst = wdns.AppendDomain(dst, v.b)
	return append(dst, '\n')
}

// typeFormat is dns_type_format: the mnemonic or "TYPEn".
func typeFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	t := uint16(v.u)
	if n, ok := wdns.TypeName(t); ok {
		return append(dst, n...), true
	}
	dst = append(dst, "TYPE"...)
	return strconv.AppendUint(dst, uint64(t), 10), true
}

// typePrint is dns_type_print: "name: A (1)" or "name: <UNKNOWN> (n)".
func typePrint(_ *msg, f *Field, v val, dst []byte) []byte {
	t := uint16(v.u)
	n, ok := wdns.TypeName(t)
	if !ok {
		n = "<UNKNOWN>"
	}
	return appendMnemonicLine(dst, f.Name, n, uint64(t))
}

func appendMnemonicLine(dst []byte, name, mnem string, n uint64) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	dst = append(dst, mnem...)
	dst = append(dst, ' ', '(')
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, ')', '\n')
}

// sieClassFormat is the SIE module's dns_class_format: the mnemonic or
// "<UNKNOWN>".
func sieClassFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	if n, ok := wdns.ClassName(uint16(v.u)); ok {
		return append(dst, n...), true
	}
	return append(dst, "<UNKNOWN>"...), true
}

// baseClassFormat is the base module's dns_class_format: the mnemonic or
// "CLASSn".
func baseClassFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	c := uint16(v.u)
	if n, ok := wdns.ClassName(c); ok {
		return append(dst, n...), true
	}
	dst = append(dst, "CLASS"...)
	return strconv.AppendUint(dst, uint64(c), 10), true
}

// sieClassPrint is the SIE dns_class_print: "name: IN (1)" or
// "name: <UNKNOWN> (n)".
func sieClassPrint(_ *msg, f *Field, v val, dst []byte) []byte {
	c := uint16(v.u)
	n, ok := wdns.ClassName(c)
	if !ok {
		n = "<UNKNOWN>"
	}
	return appendMnemonicLine(dst, f.Name, n, uint64(c))
}

// baseClassPrint is the base dns_class_print: "name: CLASS42 (42)" for a
// class without mnemonic.
func baseClassPrint(_ *msg, f *Field, v val, dst []byte) []byte {
	c := uint16(v.u)
	dst = append(dst, f.Name...)
	dst = append(dst, ':', ' ')
	if n, ok := wdns.ClassName(c); ok {
		dst = append(dst, n...)
	} else {
		dst = append(dst, "CLASS"...)
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	dst = append(dst, ' ', '(')
	dst = strconv.AppendUint(dst, uint64(c), 10)
	return append(dst, ')', '\n')
}

// rdataTypeClass returns the message's rrtype and rrclass, which libnmsg's
// rdata formatters need (they fail when either is absent).
func rdataTypeClass(m *msg) (uint16, uint16, bool) {
	if m.mod.rrtypeFi < 0 || m.mod.rrclassFi < 0 {
		return 0, 0, false
	}
	t, ok1 := m.oneU(m.mod.rrtypeFi)
	c, ok2 := m.oneU(m.mod.rrclassFi)
	return uint16(t), uint16(c), ok1 && ok2
}

// rdataFormat is dns_rdata_format: wdns_rdata_to_str of the value.
func rdataFormat(m *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	t, c, ok := rdataTypeClass(m)
	if !ok {
		return dst, false
	}
	return wdns.AppendRdata(dst, t, c, v.b), true
}

// rdataPrint is dns_rdata_print: "rdata: text". Without rrtype or rrclass
// libnmsg fails the whole payload; it prints nothing here.
func rdataPrint(m *msg, f *Field, v val, dst []byte) []byte {
	t, c, ok := rdataTypeClass(m)
	if !ok {
		return dst
	}
	dst = append(dst, f.Name...)
	dst = append(dst, ':', ' ')
	dst = wdns.AppendRdata(dst, t, c, v.b)
	return append(dst, '\n')
}

// timeFormat is time_format: a uint32 of Unix seconds as
// "YYYY-MM-DD HH:MM:SS" (UTC, the year unpadded: always four digits).
func timeFormat(m *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	return m.p.appendTime32(dst, uint32(v.u)), true
}

// messageFormat is dns_message_format: the DNS message as
// wdns_message_to_str prints it, or "<PARSE ERROR>".
func messageFormat(m *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	if out, ok := m.p.appendMessageText(dst, v.b); ok {
		return out, true
	}
	return append(dst, "<PARSE ERROR>"...), true
}

// messagePrint is dns_message_print:
// "name: [n octets]\n<text>---\n" or "name: <PARSE ERROR>\n".
func messagePrint(m *msg, f *Field, v val, dst []byte) []byte {
	dst = append(dst, f.Name...)
	dst = append(dst, ':', ' ')
	start := len(dst)
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(len(v.b)), 10)
	dst = append(dst, " octets]\n"...)
	if out, ok := m.p.appendMessageText(dst, v.b); ok {
		return append(out, "---\n"...)
	}
	dst = dst[:start]
	return append(dst, "<PARSE ERROR>\n"...)
}

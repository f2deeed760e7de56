package wdns

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Type numbers with special meaning in this package.
const (
	TypeA      uint16 = 1
	TypeNS     uint16 = 2
	TypeCNAME  uint16 = 5
	TypeSOA    uint16 = 6
	TypePTR    uint16 = 12
	TypeMX     uint16 = 15
	TypeTXT    uint16 = 16
	TypeAAAA   uint16 = 28
	TypeSRV    uint16 = 33
	TypeOPT    uint16 = 41
	TypeDS     uint16 = 43
	TypeRRSIG  uint16 = 46
	TypeNSEC   uint16 = 47
	TypeDNSKEY uint16 = 48
	TypeNSEC3  uint16 = 50
	TypeSPF    uint16 = 99
	TypeCAA    uint16 = 257

	ClassIN uint16 = 1
	ClassCH uint16 = 3
)

// ErrUnknownMnemonic is returned by ParseType, ParseClass and ParseRcode for
// text that names nothing.
var ErrUnknownMnemonic = errors.New("unknown mnemonic")

// typeNames is the WDNS_TYPE_* list of wdns.h: the names wdns_rrtype_to_str
// knows. Types missing here print as TYPEn.
var typeNames = map[uint16]string{
	1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG",
	9: "MR", 10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO",
	15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT",
	22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS",
	28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV",
	34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME",
	40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
	46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
	51: "NSEC3PARAM", 52: "TLSA", 55: "HIP", 56: "NINFO", 57: "RKEY",
	58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC",
	64: "SVCB", 65: "HTTPS",
	99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID",
	105: "L32", 106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64",
	249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR", 253: "MAILB",
	254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA", 32769: "DLV",
}

var classNames = map[uint16]string{1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}

var rcodeNames = [...]string{
	0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
	5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH",
	10: "NOTZONE", 16: "BADVERS",
}

var opcodeNames = [...]string{0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}

// Lookup tables built once, so that the printers neither hash nor allocate.
var (
	typeTable   [258]string
	typeByName  = map[string]uint16{}
	classByName = map[string]uint16{}
	rcodeByName = map[string]uint16{}
)

func init() {
	for t, n := range typeNames {
		if int(t) < len(typeTable) {
			typeTable[t] = n
		}
		typeByName[n] = t
	}
	for c, n := range classNames {
		classByName[n] = c
	}
	for rc, n := range rcodeNames {
		if n != "" {
			rcodeByName[n] = uint16(rc)
		}
	}
}

// TypeName returns wdns_rrtype_to_str's mnemonic and whether the type has one.
// nmsgtool prints "<UNKNOWN>" for a type without one in its pres output.
func TypeName(t uint16) (string, bool) {
	n := typeName(t)
	return n, n != ""
}

func typeName(t uint16) string {
	if int(t) < len(typeTable) {
		return typeTable[t]
	}
	switch t {
	case 32768:
		return "TA"
	case 32769:
		return "DLV"
	}
	return ""
}

// TypeString returns the mnemonic of t, or "TYPEn" as wdns prints unknown
// types in rdata and messages. It does not allocate for known types.
func TypeString(t uint16) string {
	if n := typeName(t); n != "" {
		return n
	}
	return genericTypes.get(t)
}

// AppendType appends TypeString(t) without allocating.
func AppendType(dst []byte, t uint16) []byte {
	if n := typeName(t); n != "" {
		return append(dst, n...)
	}
	dst = append(dst, "TYPE"...)
	return strconv.AppendUint(dst, uint64(t), 10)
}

// ParseType converts a mnemonic (any case) or "TYPEn" to a type number, as
// wdns_str_to_rrtype does. wdns reports failure as 0; this returns an error.
func ParseType(s string) (uint16, error) {
	if t, ok := typeByName[strings.ToUpper(s)]; ok {
		return t, nil
	}
	if v, ok := parseGeneric(s, "TYPE"); ok {
		return v, nil
	}
	return 0, fmt.Errorf("parse type %q: %w", s, ErrUnknownMnemonic)
}

// ClassName returns wdns_rrclass_to_str's mnemonic and whether the class has one.
func ClassName(c uint16) (string, bool) {
	n := className(c)
	return n, n != ""
}

// className is classNames[c] without hashing (it is on every record's
// printing path).
func className(c uint16) string {
	switch c {
	case 1:
		return "IN"
	case 3:
		return "CH"
	case 4:
		return "HS"
	case 254:
		return "NONE"
	case 255:
		return "ANY"
	}
	return ""
}

// ClassString returns the mnemonic of c or "CLASSn" as wdns prints unknown
// classes in messages.
func ClassString(c uint16) string {
	if n := className(c); n != "" {
		return n
	}
	return genericClasses.get(c)
}

// AppendClass appends ClassString(c) without allocating.
func AppendClass(dst []byte, c uint16) []byte {
	if n := className(c); n != "" {
		return append(dst, n...)
	}
	dst = append(dst, "CLASS"...)
	return strconv.AppendUint(dst, uint64(c), 10)
}

// ParseClass converts a mnemonic (any case) or "CLASSn" to a class number, as
// wdns_str_to_rrclass does.
func ParseClass(s string) (uint16, error) {
	if c, ok := classByName[strings.ToUpper(s)]; ok {
		return c, nil
	}
	if v, ok := parseGeneric(s, "CLASS"); ok {
		return v, nil
	}
	return 0, fmt.Errorf("parse class %q: %w", s, ErrUnknownMnemonic)
}

// parseGeneric mirrors wdns's convert_generic_rrtype/rrclass: the prefix in
// any case, then a decimal number 0..65535 that strtol accepts in full.
func parseGeneric(s, prefix string) (uint16, bool) {
	if len(s) <= len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return 0, false
	}
	num := strings.TrimLeft(s[len(prefix):], " \t\n\v\f\r")
	num = strings.TrimPrefix(num, "+")
	if num == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(num, 10, 16)
	if err != nil {
		return 0, false
	}
	return uint16(v), true
}

// RcodeName returns wdns_rcode_to_str's mnemonic and whether rc has one.
func RcodeName(rc uint16) (string, bool) {
	if int(rc) < len(rcodeNames) && rcodeNames[rc] != "" {
		return rcodeNames[rc], true
	}
	return "", false
}

// RcodeString returns the mnemonic of rc, or its decimal value as
// wdns_message_to_str and the dnsqr JSON print unknown rcodes.
func RcodeString(rc uint16) string {
	if n, ok := RcodeName(rc); ok {
		return n
	}
	return strconv.FormatUint(uint64(rc), 10)
}

// ParseRcode converts a mnemonic (any case) to an rcode, as wdns_str_to_rcode.
func ParseRcode(s string) (uint16, error) {
	if rc, ok := rcodeByName[strings.ToUpper(s)]; ok {
		return rc, nil
	}
	return 0, fmt.Errorf("parse rcode %q: %w", s, ErrUnknownMnemonic)
}

// OpcodeName returns wdns_opcode_to_str's mnemonic and whether op has one.
func OpcodeName(op uint8) (string, bool) {
	if int(op) < len(opcodeNames) && opcodeNames[op] != "" {
		return opcodeNames[op], true
	}
	return "", false
}

// OpcodeString returns the mnemonic of op or its decimal value, as
// wdns_message_to_str prints it.
func OpcodeString(op uint8) string {
	if n, ok := OpcodeName(op); ok {
		return n
	}
	return strconv.FormatUint(uint64(op), 10)
}

// genericNames holds "PREFIXn" for every 16-bit n in one string, built on
// first use, so that TypeString and ClassString never allocate per call.
type genericNames struct {
	prefix string
	once   sync.Once
	all    string
	off    []uint32
}

var (
	genericTypes   = &genericNames{prefix: "TYPE"}
	genericClasses = &genericNames{prefix: "CLASS"}
)

func (g *genericNames) get(n uint16) string {
	g.once.Do(func() {
		var b []byte
		g.off = make([]uint32, 65537)
		for i := 0; i < 65536; i++ {
			g.off[i] = uint32(len(b))
			b = append(b, g.prefix...)
			b = strconv.AppendUint(b, uint64(i), 10)
		}
		g.off[65536] = uint32(len(b))
		g.all = string(b)
	})
	return g.all[g.off[n]:g.off[int(n)+1]]
}

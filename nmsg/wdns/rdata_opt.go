package wdns

import (
	"encoding/base64"
	"net/netip"
	"strconv"
)

// SVCB SvcParamKeys (record_descr.h).
const (
	svcMandatory = 0
	svcALPN      = 1
	svcNoDefALPN = 2
	svcPort      = 3
	svcIPv4Hint  = 4
	svcECH       = 5
	svcIPv6Hint  = 6
	svcInvalid   = 65535
)

func appendSvcKey(dst []byte, key uint16) []byte {
	switch key {
	case svcMandatory:
		return append(dst, "mandatory"...)
	case svcALPN:
		return append(dst, "alpn"...)
	case svcNoDefALPN:
		return append(dst, "no-default-alpn"...)
	case svcPort:
		return append(dst, "port"...)
	case svcECH:
		return append(dst, "ech"...)
	case svcIPv4Hint:
		return append(dst, "ipv4hint"...)
	case svcIPv6Hint:
		return append(dst, "ipv6hint"...)
	case svcInvalid:
		return append(dst, "invalid key"...)
	}
	dst = append(dst, "key"...)
	return strconv.AppendUint(dst, uint64(key), 10)
}

// svcParams prints SVCB/HTTPS SvcParams as wdns's rdf_svcparams case.
func (p *rdataPrinter) svcParams(dst []byte) ([]byte, int) {
	for p.n > 0 {
		if p.n < 2 {
			return dst, -1
		}
		key := be16(p.b[p.off:])
		if key == svcInvalid {
			return dst, -1
		}
		dst = appendSvcKey(dst, key)
		if key != svcNoDefALPN {
			dst = append(dst, '=')
		}
		p.consume(2)
		if p.n < 2 {
			return dst, -1
		}
		vlen := int(be16(p.b[p.off:]))
		p.consume(2)
		if p.n < vlen {
			return dst, -1
		}
		var ok bool
		dst, ok = appendSvcValue(dst, key, p.b[p.off:p.off+vlen])
		if !ok {
			return dst, resParseError
		}
		p.consume(vlen)
	}
	return dst, 0
}

// appendSvcValue is wdns's svcparam_to_str.
func appendSvcValue(dst []byte, key uint16, v []byte) ([]byte, bool) {
	switch key {
	case svcMandatory:
		for i := 0; i < len(v); {
			if i+2 > len(v) {
				return dst, false
			}
			dst = appendSvcKey(dst, be16(v[i:]))
			i += 2
			if i < len(v) {
				dst = append(dst, ',')
			} else {
				dst = append(dst, ' ')
			}
		}
	case svcNoDefALPN:
		if len(v) != 0 {
			return dst, false
		}
		dst = append(dst, ' ')
	case svcPort:
		if len(v) != 2 {
			return dst, false
		}
		dst = strconv.AppendUint(dst, uint64(be16(v)), 10)
		dst = append(dst, ' ')
	case svcECH:
		dst = base64.StdEncoding.AppendEncode(dst, v)
		dst = append(dst, ' ')
	case svcIPv4Hint, svcIPv6Hint:
		k := 4
		if key == svcIPv6Hint {
			k = 16
		}
		for i := 0; i < len(v); {
			if i+k > len(v) {
				return dst, false
			}
			if k == 4 {
				dst = netip.AddrFrom4([4]byte(v[i : i+4])).AppendTo(dst)
			} else {
				dst = appendIPv6(dst, [16]byte(v[i:i+16]))
			}
			i += k
			if i < len(v) {
				dst = append(dst, ',')
			} else {
				dst = append(dst, ' ')
			}
		}
	case svcALPN:
		dst = append(dst, '"')
		for i := 0; i < len(v); {
			oclen := int(v[i])
			i++
			if i+oclen > len(v) {
				return dst, false
			}
			for _, c := range v[i : i+oclen] {
				switch {
				case c == '"':
					dst = append(dst, '\\', '"')
				case c == '\\':
					dst = append(dst, '\\', '\\', '\\', '\\')
				case c == ',':
					dst = append(dst, '\\', '\\', ',')
				case c >= ' ' && c <= '~':
					dst = append(dst, c)
				default:
					dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
				}
			}
			i += oclen
			if i < len(v) {
				dst = append(dst, ',')
			} else {
				dst = append(dst, '"')
			}
		}
		dst = append(dst, ' ')
	default:
		dst = appendQuoted(dst, v)
	}
	return dst, true
}

// EDNS0 option codes with their own presentation.
const (
	ednsClientSubnet = 8
	ednsEDE          = 15
)

var edePurpose = [...]string{
	"Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
	"Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
	"Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing",
	"RRSIGs Missing", "No Zone Key Bit Set", "NSEC Missing", "Cached Error",
	"Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
	"Stale NXDomain Answer", "Not Authoritative", "Not Supported",
	"No Reachable Authority", "Network Error", "Invalid Data",
}

// ednsOptions prints OPT rdata as wdns's rdf_edns_opt_rdata case: each
// option on its own line, "\nOPT=10: 00 01 (\"..\")", "\nCLIENT-SUBNET:
// 192.0.2.0/24/0" or "\nEDE: 18 (Prohibited): (text)".
func (p *rdataPrinter) ednsOptions(dst []byte) ([]byte, int) {
	for p.n > 0 {
		if p.n < 2 {
			return dst, -1
		}
		code := be16(p.b[p.off:])
		switch code {
		case ednsClientSubnet:
			dst = append(dst, "\nCLIENT-SUBNET:"...)
		case ednsEDE:
			dst = append(dst, "\nEDE:"...)
		default:
			dst = append(dst, "\nOPT="...)
			dst = strconv.AppendUint(dst, uint64(code), 10)
			dst = append(dst, ':')
		}
		p.consume(2)
		if p.n < 2 {
			return dst, -1
		}
		olen := int(be16(p.b[p.off:]))
		p.consume(2)
		if p.n < olen {
			return dst, -1
		}
		var ok bool
		dst, ok = appendEDNSOption(dst, code, p.b[p.off:p.off+olen])
		if !ok {
			return dst, resParseError
		}
		p.consume(olen)
	}
	return dst, 0
}

func appendPrintable(dst, v []byte) []byte {
	for _, c := range v {
		if c < ' ' || c > '~' {
			c = '.'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendEDNSOption is wdns's _wdns_ednsoptdata_to_ubuf.
func appendEDNSOption(dst []byte, code uint16, v []byte) ([]byte, bool) {
	dst = append(dst, ' ')
	switch code {
	case ednsClientSubnet:
		if len(v) < 4 {
			return dst, false
		}
		family := be16(v)
		source, scope := v[2], v[3]
		addr := v[4:]
		switch {
		case len(addr) == 0:
			return dst, false
		case family == 1 && len(addr) <= 4:
			var a [4]byte
			copy(a[:], addr)
			dst = netip.AddrFrom4(a).AppendTo(dst)
		case family == 2 && len(addr) <= 16:
			var a [16]byte
			copy(a[:], addr)
			dst = appendIPv6(dst, a)
		default:
			return dst, false
		}
		dst = append(dst, '/')
		dst = strconv.AppendUint(dst, uint64(source), 10)
		dst = append(dst, '/')
		dst = strconv.AppendUint(dst, uint64(scope), 10)
	case ednsEDE:
		if len(v) < 2 {
			return dst, false
		}
		info := be16(v)
		dst = strconv.AppendUint(dst, uint64(info), 10)
		if int(info) < len(edePurpose) {
			dst = append(dst, " ("...)
			dst = append(dst, edePurpose[info]...)
			dst = append(dst, ')')
		}
		dst = append(dst, ": ("...)
		dst = appendPrintable(dst, v[2:])
		dst = append(dst, ')')
	default:
		for _, c := range v {
			dst = append(dst, hexLower[c>>4], hexLower[c&15], ' ')
		}
		dst = append(dst, '(', '"')
		dst = appendPrintable(dst, v)
		dst = append(dst, '"', ')')
	}
	return dst, true
}

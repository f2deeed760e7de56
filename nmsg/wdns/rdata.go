package wdns

import (
	"encoding/base32"
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
)

// wdns_res values printed inside " ### PARSE ERROR #n ###".
const (
	resInvalidLengthOctet = 3
	resNameLen            = 8
	resOverflow           = 11
	resParseError         = 12
)

var base32Hex = base32.HexEncoding.WithPadding(base32.NoPadding)

// AppendRdata appends the presentation form of rdata of the given type and
// class exactly as wdns_rdata_to_str prints it:
//   - a type without a wdns layout (SSHFP, CAA, TYPE65280, ...) in the
//     generic form `\# 3 ab cd ef ` (lower-case hex, each octet followed by a
//     space, so the text ends with a space);
//   - a class-IN-only type (A, AAAA, SRV, ...) in another class prints nothing;
//   - rdata that does not fit its layout prints what came before, then
//     " ### PARSE ERROR ###" or " ### PARSE ERROR #n ###" (n a wdns_res).
//
// It never fails and does not allocate when dst has room.
//
// wdns takes the rdata length as a uint16: longer rdata (possible in an NMSG
// field, never in a DNS message) is cut to its length modulo 65536, as
// nmsgtool prints it.
func AppendRdata(dst []byte, rrtype, rrclass uint16, rdata []byte) []byte {
	if len(rdata) > 0xffff {
		rdata = rdata[:len(rdata)&0xffff]
	}
	return appendRdata(dst, len(dst), rrtype, rrclass, rdata)
}

// appendRdata is _wdns_rdata_to_ubuf writing into dst, where dst[floor:] is
// wdns's ubuf: the final trailing-space clip may remove the space written
// before the rdata when the ubuf is a whole message (floor 0).
func appendRdata(dst []byte, floor int, rrtype, rrclass uint16, rdata []byte) []byte {
	// Hot path: A and AAAA rdata of class IN print their address (the
	// layout loop below would print it, a space, and clip the space).
	if rrclass == ClassIN {
		switch {
		case rrtype == TypeA && len(rdata) >= 4:
			return appendIPv4(dst, [4]byte(rdata[:4]))
		case rrtype == TypeAAAA && len(rdata) >= 16:
			return appendIPv6(dst, [16]byte(rdata[:16]))
		}
	}
	d := lookupDescr(rrtype)
	if d == nil {
		dst = append(dst, '\\', '#', ' ')
		dst = strconv.AppendUint(dst, uint64(len(rdata)), 10)
		dst = append(dst, ' ')
		for _, c := range rdata {
			dst = append(dst, hexLower[c>>4], hexLower[c&15], ' ')
		}
		return dst
	}
	if d.inOnly && rrclass != ClassIN {
		return dst
	}
	p := rdataPrinter{b: rdata, n: len(rdata)}
	var res int
	for _, f := range d.fields {
		if p.n == 0 {
			break
		}
		dst, res = p.field(dst, f)
		if res < 0 {
			counters.rdataPrintErrors.Add(1)
			return append(dst, " ### PARSE ERROR ###"...)
		}
		if res > 0 {
			counters.rdataPrintErrors.Add(1)
			dst = append(dst, " ### PARSE ERROR #"...)
			dst = strconv.AppendUint(dst, uint64(res), 10)
			return append(dst, " ###"...)
		}
	}
	if len(dst) > floor && dst[len(dst)-1] == ' ' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

const (
	hexLower = "0123456789abcdef"
	hexUpper = "0123456789ABCDEF"
)

// rdataPrinter walks rdata like wdns's src/src_bytes pair. n may become
// negative (see the name case), exactly as src_bytes does in wdns.
type rdataPrinter struct {
	b   []byte
	off int
	n   int
}

// rest returns the octets left, never beyond the rdata.
func (p *rdataPrinter) rest() []byte {
	if p.n <= 0 || p.off >= len(p.b) {
		return nil
	}
	return p.b[p.off:]
}

func (p *rdataPrinter) consume(k int) {
	p.off += k
	p.n -= k
}

// field prints one field. res is 0 on success, -1 for wdns's "err" label
// and a wdns_res value for its "err_res" label.
func (p *rdataPrinter) field(dst []byte, f rdf) ([]byte, int) {
	switch f {
	case rdfName, rdfUname:
		sz, res := lenUname(p.rest(), p.n)
		if res != 0 {
			return dst, res
		}
		name := p.rest()
		if sz < len(name) {
			name = name[:sz]
		}
		dst = AppendDomain(dst, name)
		dst = append(dst, ' ')
		p.consume(sz)

	case rdfBytes:
		for _, c := range p.rest() {
			dst = append(dst, hexUpper[c>>4], hexUpper[c&15])
		}
		p.n = 0

	case rdfBytesB64:
		dst = base64.StdEncoding.AppendEncode(dst, p.rest())
		p.n = 0

	case rdfBytesStr:
		r := p.rest()
		dst = appendQuoted(dst, r)
		p.consume(len(r))

	case rdfIPv6Prefix:
		if p.n < 1 {
			return dst, -1
		}
		plen := int(p.b[p.off])
		p.off++ // wdns advances src before it knows the field fits
		if plen > 128 {
			return dst, -1
		}
		oclen := (128 - plen) / 8
		if plen%8 != 0 {
			oclen++
		}
		if p.n < 1+oclen {
			return dst, -1
		}
		dst = strconv.AppendUint(dst, uint64(plen), 10)
		dst = append(dst, ' ')
		if oclen > 0 {
			var a [16]byte
			copy(a[16-oclen:], p.b[p.off:p.off+oclen])
			dst = netip.AddrFrom16(a).AppendTo(dst)
			dst = append(dst, ' ')
		}
		p.n -= oclen + 1
		p.off += oclen

	case rdfSalt:
		if p.n < 1 {
			return dst, -1
		}
		oclen := int(p.b[p.off])
		p.off++
		if p.n < 1+oclen {
			return dst, -1
		}
		if oclen == 0 {
			dst = append(dst, '-')
		}
		for _, c := range p.b[p.off : p.off+oclen] {
			dst = append(dst, hexLower[c>>4], hexLower[c&15])
		}
		dst = append(dst, ' ')
		p.off += oclen
		p.n -= oclen + 1

	case rdfHash:
		if p.n < 1 {
			return dst, -1
		}
		oclen := int(p.b[p.off])
		p.off++
		if p.n < 1+oclen {
			return dst, -1
		}
		if oclen == 0 {
			dst = append(dst, '0', ' ')
			p.n--
			break
		}
		dst = base32Hex.AppendEncode(dst, p.b[p.off:p.off+oclen])
		dst = append(dst, ' ')
		p.off += oclen
		p.n -= oclen + 1

	case rdfInt8:
		if p.n < 1 {
			return dst, -1
		}
		dst = strconv.AppendUint(dst, uint64(p.b[p.off]), 10)
		dst = append(dst, ' ')
		p.consume(1)

	case rdfInt16:
		if p.n < 2 {
			return dst, -1
		}
		dst = strconv.AppendUint(dst, uint64(be16(p.b[p.off:])), 10)
		dst = append(dst, ' ')
		p.consume(2)

	case rdfInt32:
		if p.n < 4 {
			return dst, -1
		}
		dst = strconv.AppendUint(dst, uint64(be32(p.b[p.off:])), 10)
		dst = append(dst, ' ')
		p.consume(4)

	case rdfIPv4:
		if p.n < 4 {
			return dst, -1
		}
		dst = appendIPv4(dst, [4]byte(p.b[p.off:p.off+4]))
		dst = append(dst, ' ')
		p.consume(4)

	case rdfIPv6:
		if p.n < 16 {
			return dst, -1
		}
		dst = appendIPv6(dst, [16]byte(p.b[p.off:p.off+16]))
		dst = append(dst, ' ')
		p.consume(16)

	case rdfEUI48, rdfEUI64:
		k := 6
		if f == rdfEUI64 {
			k = 8
		}
		if p.n < k {
			return dst, -1
		}
		for i, c := range p.b[p.off : p.off+k] {
			if i != 0 {
				dst = append(dst, '-')
			}
			dst = append(dst, hexLower[c>>4], hexLower[c&15])
		}
		p.consume(k)

	case rdfString:
		if p.n < 1 {
			return dst, -1
		}
		oclen := int(p.b[p.off])
		p.consume(1)
		if p.n < oclen {
			return dst, -1
		}
		dst = appendQuoted(dst, p.b[p.off:p.off+oclen])
		p.consume(oclen)

	case rdfRepString:
		for p.n > 0 {
			oclen := int(p.b[p.off])
			p.consume(1)
			if p.n < oclen {
				return dst, -1
			}
			dst = appendQuoted(dst, p.b[p.off:p.off+oclen])
			p.consume(oclen)
		}

	case rdfRRType:
		if p.n < 2 {
			return dst, -1
		}
		dst = AppendType(dst, be16(p.b[p.off:]))
		dst = append(dst, ' ')
		p.consume(2)

	case rdfTypeBitmap:
		if p.n < 2 {
			return dst, -1
		}
		for p.n >= 2 {
			window := uint16(p.b[p.off])
			blen := int(p.b[p.off+1])
			p.consume(2)
			if p.n < blen {
				return dst, -1
			}
			for i, a := range p.b[p.off : p.off+blen] {
				for j := 0; j < 8; j++ {
					if a&(0x80>>j) != 0 {
						dst = AppendType(dst, window<<8|uint16(i*8+j))
						dst = append(dst, ' ')
					}
				}
			}
			p.consume(blen)
		}

	case rdfSvcParams:
		return p.svcParams(dst)

	case rdfEDNSOpt:
		return p.ednsOptions(dst)
	}
	return dst, 0
}

// lenUname is wdns_len_uname over b, of which n octets are wdns's notion of
// what is left (n may exceed len(b) by nothing, or be negative). A name
// whose labels end exactly at the end of the rdata without a root label is
// accepted with a length one past the rdata, as wdns computes it; wdns then
// reads one octet beyond the rdata, which here is taken as the root label.
func lenUname(b []byte, n int) (int, int) {
	if n <= 0 {
		return 0, resOverflow
	}
	olen := n
	rem := n
	i := 0
	terminated := false
	for rem != 0 {
		rem--
		oclen := int(b[i])
		i++
		if oclen > 63 || oclen > rem {
			return 0, resInvalidLengthOctet
		}
		if oclen == 0 {
			terminated = true
			break
		}
		i += oclen
		rem -= oclen
	}
	sz := olen - rem
	if !terminated {
		sz = olen + 1
	}
	if sz > MaxNameLen {
		return 0, resNameLen
	}
	return sz, 0
}

// appendQuoted is wdns's rdata_to_str_string: the octets in double quotes
// with \" \\ and \DDD escapes, then a space.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendUnquoted(dst, s)
	return append(dst, '"', ' ')
}

func appendUnquoted(dst, s []byte) []byte {
	for _, c := range s {
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c >= ' ' && c <= '~':
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		}
	}
	return dst
}

// appendIPv6 prints an address as glibc's inet_ntop does. It differs from
// netip for IPv4-mapped and IPv4-compatible addresses ("::ffff:1.2.3.4",
// "::1.2.3.4"), which inet_ntop writes with a dotted quad.
func appendIPv6(dst []byte, a [16]byte) []byte {
	// glibc: the longest run of at least two zero words (the first of equal
	// runs) becomes "::"; a run of the first six words, or of the first five
	// followed by ffff, puts the last four octets in dotted form.
	base, best := -1, 0
	for i := 0; i < 8; {
		if a[2*i] != 0 || a[2*i+1] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && a[2*j] == 0 && a[2*j+1] == 0 {
			j++
		}
		if j-i > best {
			base, best = i, j-i
		}
		i = j
	}
	if best < 2 {
		base = -1
	}
	if base == 0 && (best == 6 || (best == 5 && a[10] == 0xff && a[11] == 0xff)) {
		dst = append(dst, ':', ':')
		if best == 5 {
			dst = append(dst, "ffff:"...)
		}
		return appendIPv4(dst, [4]byte(a[12:16]))
	}
	return netip.AddrFrom16(a).AppendTo(dst)
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// AppendIPv4 appends a dotted quad as netip and inet_ntop write it.
func AppendIPv4(dst []byte, a [4]byte) []byte { return appendIPv4(dst, a) }

// appendIPv4 writes a dotted quad as netip and inet_ntop do. Hot path,
// hand-written: most payloads print an IPv4 address or A rdata, and this
// writes the octets from a table instead of dividing.
func appendIPv4(dst []byte, a [4]byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 15)
	out := dst[n : n+15]
	j := 0
	for i, c := range a {
		if i > 0 {
			out[j] = '.'
			j++
		}
		d := decOctets[c]
		copy(out[j:j+3], d.text[:])
		j += int(d.n)
	}
	return dst[:n+j]
}

// decOctets holds the decimal text of every octet.
var decOctets = func() (t [256]struct {
	text [3]byte
	n    uint8
}) {
	for c := range 256 {
		s := strconv.Itoa(c)
		copy(t[c].text[:], s)
		t[c].n = uint8(len(s))
	}
	return t
}()

package wdns

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ErrRdataSyntax is returned by ParseRdata for text it cannot convert.
var ErrRdataSyntax = errors.New("rdata syntax")

// ParseRdata converts presentation text to wire rdata as wdns_str_to_rdata
// does (what nmsgtool's JSON input uses for rdata fields). Types without a
// wdns layout need the generic form `\# 3 ab cd ef`. Like wdns it stops at
// the end of the text (later fields may be missing), ignores text after the
// last field, and returns empty rdata for a class-IN-only type in another
// class. OPT rdata cannot be parsed (wdns fails too).
func ParseRdata(rrtype, rrclass uint16, s string) ([]byte, error) {
	b, err := AppendParsedRdata(nil, rrtype, rrclass, s)
	if err != nil {
		counters.rdataTextRejected.Add(1)
		return nil, fmt.Errorf("parse %s rdata %q: %w", TypeString(rrtype), s, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// AppendParsedRdata is ParseRdata appending to dst. On error dst is
// returned unchanged in length.
func AppendParsedRdata(dst []byte, rrtype, rrclass uint16, s string) ([]byte, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	start := len(dst)
	d := lookupDescr(rrtype)
	if d == nil {
		out, err := parseGenericRdata(dst, s)
		if err != nil {
			return dst[:start], err
		}
		return out, nil
	}
	if d.inOnly && rrclass != ClassIN {
		return dst, nil
	}
	for _, f := range d.fields {
		s = strings.TrimLeft(s, spaceChars)
		if s == "" {
			break
		}
		var err error
		dst, s, err = parseField(dst, f, s)
		if err != nil {
			return dst[:start], err
		}
	}
	return dst, nil
}

// spaceChars is what C isspace accepts; tokenChars ends a token (strpbrk).
const (
	spaceChars = " \t\n\v\f\r"
	tokenEnd   = " \t\r\n"
)

func token(s string) (string, string) {
	if i := strings.IndexAny(s, tokenEnd); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

func syntax(what string) error { return fmt.Errorf("%s: %w", what, ErrRdataSyntax) }

func parseUintToken(s string, bits int) (uint64, string, error) {
	tok, rest := token(s)
	for i := 0; i < len(tok); i++ {
		if !isDigit(tok[i]) {
			return 0, s, syntax("number " + strconv.Quote(tok))
		}
	}
	v, err := strconv.ParseUint(tok, 10, bits)
	if err != nil {
		return 0, s, syntax("number " + strconv.Quote(tok) + " out of range")
	}
	return v, rest, nil
}

func parseField(dst []byte, f rdf, s string) ([]byte, string, error) {
	switch f {
	case rdfName, rdfUname:
		tok, rest := token(s)
		var err error
		dst, err = AppendParsedName(dst, tok)
		return dst, rest, err

	case rdfBytes:
		h := strings.TrimRight(s, spaceChars)
		if len(h)%2 != 0 {
			return dst, s, syntax("odd hex")
		}
		for i := 0; i < len(h); i += 2 {
			c, ok := hexByte(h[i], h[i+1])
			if !ok {
				return dst, s, syntax("hex")
			}
			dst = append(dst, c)
		}
		return dst, "", nil

	case rdfBytesB64:
		b, err := decodeBase64(s)
		if err != nil {
			return dst, s, err
		}
		return append(dst, b...), "", nil

	case rdfBytesStr:
		if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
			return dst, s, syntax("quoted string")
		}
		var err error
		dst, _, err = appendCharString(dst, s)
		if err != nil {
			return dst, s, err
		}
		return dst, "", nil

	case rdfInt8, rdfInt16, rdfInt32:
		bits := 32
		switch f {
		case rdfInt8:
			bits = 8
		case rdfInt16:
			bits = 16
		}
		v, rest, err := parseUintToken(s, bits)
		if err != nil {
			return dst, s, err
		}
		switch bits {
		case 8:
			dst = append(dst, byte(v))
		case 16:
			dst = append(dst, byte(v>>8), byte(v))
		default:
			dst = append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
		}
		return dst, rest, nil

	case rdfIPv4:
		tok, rest := token(s)
		a, err := netip.ParseAddr(tok)
		if err != nil || !a.Is4() {
			return dst, s, syntax("IPv4 address " + strconv.Quote(tok))
		}
		b := a.As4()
		return append(dst, b[:]...), rest, nil

	case rdfIPv6:
		tok, rest := token(s)
		a, err := parseIPv6(tok)
		if err != nil {
			return dst, s, err
		}
		return append(dst, a[:]...), rest, nil

	case rdfIPv6Prefix:
		v, rest, err := parseUintToken(s, 8)
		if err != nil || v > 128 {
			return dst, s, syntax("A6 prefix length")
		}
		plen := int(v)
		dst = append(dst, byte(plen))
		rest = strings.TrimLeft(rest, spaceChars)
		if rest == "" {
			return dst, s, syntax("A6 without address")
		}
		tok, after := token(rest)
		oclen := (128 - plen) / 8
		if plen%8 != 0 {
			oclen++
		}
		a, err := parseIPv6(tok)
		if err != nil {
			if plen != 128 {
				return dst, s, err
			}
			// wdns: with prefix 128 the text after the length is the name.
			return dst, rest, nil
		}
		dst = append(dst, a[16-oclen:]...)
		if plen == 0 && strings.TrimLeft(after, spaceChars) != "" {
			return dst, s, syntax("A6 with prefix 0 and a name")
		}
		return dst, after, nil

	case rdfEUI48, rdfEUI64:
		k := 6
		if f == rdfEUI64 {
			k = 8
		}
		if len(s) != 3*k-1 {
			return dst, s, syntax("EUI")
		}
		for i := 0; i < k; i++ {
			c, ok := hexByte(s[3*i], s[3*i+1])
			if !ok || (i < k-1 && s[3*i+2] != '-') {
				return dst, s, syntax("EUI")
			}
			dst = append(dst, c)
		}
		return dst, "", nil

	case rdfString:
		return parseCharStringField(dst, s)

	case rdfRepString:
		for {
			s = strings.TrimLeft(s, spaceChars)
			if s == "" {
				return dst, "", nil
			}
			var err error
			dst, s, err = parseCharStringField(dst, s)
			if err != nil {
				return dst, s, err
			}
		}

	case rdfRRType:
		tok, rest := token(s)
		t, err := ParseType(tok)
		if err != nil || t == 0 {
			return dst, s, syntax("type " + strconv.Quote(tok))
		}
		return append(dst, byte(t>>8), byte(t)), rest, nil

	case rdfTypeBitmap:
		var types []uint16
		for {
			s = strings.TrimLeft(s, spaceChars)
			if s == "" {
				break
			}
			var tok string
			tok, s = token(s)
			t, err := ParseType(tok)
			if err != nil || t == 0 {
				return dst, s, syntax("type " + strconv.Quote(tok))
			}
			types = append(types, t)
		}
		return appendTypeBitmap(dst, types), "", nil

	case rdfSalt:
		tok, rest := token(s)
		if tok == "-" {
			return append(dst, 0), rest, nil
		}
		if len(tok) > 2*255 || len(tok)%2 != 0 {
			return dst, s, syntax("salt")
		}
		dst = append(dst, byte(len(tok)/2))
		for i := 0; i < len(tok); i += 2 {
			c, ok := hexByte(tok[i], tok[i+1])
			if !ok {
				return dst, s, syntax("salt")
			}
			dst = append(dst, c)
		}
		return dst, rest, nil

	case rdfHash:
		tok, rest := token(s)
		if len(tok) == 1 {
			return append(dst, 0), rest, nil
		}
		b, err := base32Hex.DecodeString(strings.ToUpper(tok))
		if err != nil || len(b) > 255 {
			return dst, s, syntax("base32hex hash")
		}
		dst = append(dst, byte(len(b)))
		return append(dst, b...), rest, nil

	case rdfSvcParams:
		return parseSvcParams(dst, s)
	}
	return dst, s, syntax("field kind without a text form")
}

func hexByte(a, b byte) (byte, bool) {
	x, ok1 := hexVal(a)
	y, ok2 := hexVal(b)
	return x<<4 | y, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func parseIPv6(tok string) ([16]byte, error) {
	a, err := netip.ParseAddr(tok)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return [16]byte{}, syntax("IPv6 address " + strconv.Quote(tok))
	}
	return a.As16(), nil
}

// decodeBase64 is libb64's decoder as wdns uses it: characters outside the
// alphabet (spaces, padding) are skipped.
func decodeBase64(s string) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	b, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return nil, syntax("base64")
	}
	return b, nil
}

// parseCharStringField is wdns's str_to_ubuf: one character-string, its
// length octet first.
func parseCharStringField(dst []byte, s string) ([]byte, string, error) {
	at := len(dst)
	dst = append(dst, 0)
	out, n, err := appendCharString(dst, s)
	if err != nil {
		return dst[:at], s, err
	}
	if len(out)-at-1 > 255 {
		return dst[:at], s, syntax("character-string longer than 255 octets")
	}
	out[at] = byte(len(out) - at - 1)
	return out, s[n:], nil
}

// appendCharString is wdns's rdata_from_str_string: a quoted string (ends at
// its closing quote) or a bare word (ends at a space), with \" \\ and \DDD
// escapes; other escapes and octets outside ' '..'~' are errors. It returns
// the number of input characters used.
func appendCharString(dst []byte, s string) ([]byte, int, error) {
	quoted := len(s) > 0 && s[0] == '"'
	i := 0
	if quoted {
		i++
	}
	for i < len(s) {
		c := s[i]
		switch {
		case quoted && c == '"':
			return dst, i + 1, nil
		case !quoted && strings.IndexByte(spaceChars, c) >= 0:
			return dst, i, nil
		case c == '\\':
			i++
			if i >= len(s) {
				return dst, 0, syntax("escape at end")
			}
			switch e := s[i]; {
			case e == '"' || e == '\\':
				dst = append(dst, e)
				i++
			case isDigit(e):
				if i+3 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
					return dst, 0, syntax("decimal escape")
				}
				v := int(e-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
				if v > 255 {
					return dst, 0, syntax("decimal escape above 255")
				}
				dst = append(dst, byte(v))
				i += 3
			default:
				return dst, 0, syntax("escape \\" + string(e))
			}
		case c >= ' ' && c <= '~':
			dst = append(dst, c)
			i++
		default:
			return dst, 0, syntax("octet outside ' '..'~'")
		}
	}
	if quoted {
		return dst, 0, syntax("unterminated quote")
	}
	return dst, i, nil
}

// appendTypeBitmap builds NSEC-style window blocks from types, as wdns.
func appendTypeBitmap(dst []byte, types []uint16) []byte {
	slices.Sort(types)
	types = slices.Compact(types)
	var bitmap [32]byte
	window, blen := -1, 0
	flush := func() {
		if blen > 0 {
			dst = append(dst, byte(window), byte(blen))
			dst = append(dst, bitmap[:blen]...)
		}
		bitmap = [32]byte{}
		blen = 0
	}
	for _, t := range types {
		w := int(t >> 8)
		if w != window {
			flush()
			window = w
		}
		off := t & 0xff
		bitmap[off/8] |= 0x80 >> (off % 8)
		blen = int(off/8) + 1
	}
	flush()
	return dst
}

// parseGenericRdata reads RFC 3597's `\# len hex...`.
func parseGenericRdata(dst []byte, s string) ([]byte, error) {
	if !strings.HasPrefix(s, `\#`) {
		return dst, syntax(`generic rdata without \#`)
	}
	s = s[2:]
	if s == "" || strings.IndexByte(spaceChars, s[0]) < 0 {
		return dst, syntax(`generic rdata: no space after \#`)
	}
	s = strings.TrimLeft(s, spaceChars)
	v, rest, err := parseUintToken(s, 16)
	if err != nil {
		return dst, err
	}
	n := 0
	for {
		rest = strings.TrimLeft(rest, spaceChars)
		if rest == "" {
			break
		}
		if len(rest) < 2 {
			return dst, syntax("generic rdata: odd hex")
		}
		c, ok := hexByte(rest[0], rest[1])
		if !ok {
			return dst, syntax("generic rdata: hex")
		}
		dst = append(dst, c)
		n++
		rest = rest[2:]
	}
	if uint64(n) != v {
		return dst, syntax("generic rdata: length " + strconv.FormatUint(v, 10) + " but " + strconv.Itoa(n) + " octets")
	}
	return dst, nil
}

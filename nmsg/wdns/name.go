package wdns

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxNameLen is the longest wire-format name (WDNS_MAXLEN_NAME).
const MaxNameLen = 255

// Errors for malformed names.
var (
	ErrNameMalformed = errors.New("malformed name")
	ErrNameTooLong   = errors.New("name longer than 255 octets")
)

// AppendName appends the presentation form of an uncompressed wire-format
// name: "www.example.com.", "." for the root, labels escaped as wdns does
// ("\." and "\\" for dots and backslashes inside labels, "\DDD" decimal for
// octets outside '!'..'~'). The name must be well formed: labels of at most
// 63 octets, at most 255 octets in all, ending with the root label as its
// last octet. It does not allocate when dst has room.
func AppendName(dst, name []byte) ([]byte, error) {
	n, err := nameLen(name)
	if err != nil {
		counters.malformedNames.Add(1)
		return dst, err
	}
	if n != len(name) {
		counters.malformedNames.Add(1)
		return dst, fmt.Errorf("append name: %d octets after the root label: %w", len(name)-n, ErrNameMalformed)
	}
	return AppendDomain(dst, name), nil
}

// nameLen returns the length of the well-formed uncompressed name at the
// start of b.
func nameLen(b []byte) (int, error) {
	i := 0
	for {
		if i >= len(b) {
			return 0, fmt.Errorf("name without root label: %w", ErrNameMalformed)
		}
		c := int(b[i])
		if c == 0 {
			i++
			break
		}
		if c > 63 {
			return 0, fmt.Errorf("label length octet %#x: %w", c, ErrNameMalformed)
		}
		i += 1 + c
	}
	if i > MaxNameLen {
		return 0, ErrNameTooLong
	}
	return i, nil
}

// AppendDomain appends b exactly as wdns_domain_to_str prints it, for any
// bytes, well formed or not, the way nmsg's dns_name_print and
// dns_name_format show a name field (they call it for 1..255 octets). A
// length octet is taken at face value, a label cut short by the end of b
// prints the octets present, and printing stops at the first zero length
// octet or at the end of b. An empty b prints ".".
//
// Hot path, hand-written: it reserves room for the longest text b can give
// (four octets per input octet, "\DDD") and writes into it octet by octet
// from a table, without an append per octet or per label. (Names are short:
// testing eight octets at a time measured slower.)
func AppendDomain(dst, b []byte) []byte { return appendDomain(dst, b, false) }

// AppendDomainJSON appends the text of AppendDomain escaped for the inside
// of a JSON string as nmsg_strbuf_append_str_json escapes it: '"' and the
// backslashes of wdns's escapes get a backslash (the text holds no other
// octet JSON escapes). nmsg's JSON output of name fields is this, quoted.
func AppendDomainJSON(dst, b []byte) []byte { return appendDomain(dst, b, true) }

// appendDomain is AppendDomain, or AppendDomainJSON when json is set.
func appendDomain(dst, b []byte, json bool) []byte {
	if len(b) == 0 || b[0] == 0 {
		return append(dst, '.')
	}
	tab := &plainOctets
	if json {
		tab = &plainOctetsJSON
	}
	n := len(dst)
	dst = slices.Grow(dst, 5*len(b)) // `\\DDD` in JSON
	out := dst[n : n+5*len(b)]
	j := 0
	src := 0
	for {
		end := src + 1 + int(b[src])
		if end > len(b) {
			end = len(b)
		}
		for _, c := range b[src+1 : end] {
			if tab[c] {
				out[j] = c
				j++
				continue
			}
			j = escapeOctet(out, j, c, json)
		}
		out[j] = '.'
		j++
		src = end
		if src >= len(b) || b[src] == 0 {
			return dst[:n+j]
		}
	}
}

// escapeOctet writes at out[j:] the escape of an octet that does not print
// as itself (`\.`, `\\`, `\DDD`; in JSON `\\.`, `\\\\`, `\\DDD` and `\"`
// for '"') and returns the index after it.
func escapeOctet(out []byte, j int, c byte, json bool) int {
	if json {
		switch c {
		case '"':
			out[j], out[j+1] = '\\', '"'
			return j + 2
		case '.':
			out[j], out[j+1], out[j+2] = '\\', '\\', '.'
			return j + 3
		case '\\':
			out[j], out[j+1], out[j+2], out[j+3] = '\\', '\\', '\\', '\\'
			return j + 4
		}
		out[j] = '\\'
		j++
	}
	if c == '.' || c == '\\' {
		out[j], out[j+1] = '\\', c
		return j + 2
	}
	out[j], out[j+1], out[j+2], out[j+3] = '\\', '0'+c/100, '0'+c/10%10, '0'+c%10
	return j + 4
}

// plainOctets marks the octets wdns prints as themselves in a name:
// '!'..'~' but '.' and '\\'.
var plainOctets = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '.' && c != '\\'
	}
	return t
}()

// plainOctetsJSON is plainOctets for AppendDomainJSON: '"' is escaped.
var plainOctetsJSON = func() (t [256]bool) {
	t = plainOctets
	t['"'] = false
	return t
}()

// ParseName converts presentation text to an uncompressed wire-format name,
// as wdns_str_to_name_case does (the case is kept): "\X" escapes the
// character X, "\DDD" is a decimal octet, a final dot is optional, "" and "."
// are the root. Errors: empty labels, escapes that are cut short or above
// 255, labels longer than 63 octets and names longer than 255 octets.
func ParseName(s string) ([]byte, error) {
	b, err := AppendParsedName(make([]byte, 0, len(s)+2), s)
	if err != nil {
		counters.nameTextRejected.Add(1)
		return nil, err
	}
	return b, nil
}

// AppendParsedName is ParseName appending to dst.
func AppendParsedName(dst []byte, s string) ([]byte, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i] // a C string ends at its first NUL
	}
	if s == "" || s == "." {
		return append(dst, 0), nil
	}
	start := len(dst)
	lenAt := len(dst)
	dst = append(dst, 0)
	label := 0
	for i := 0; i < len(s); {
		c := s[i]
		i++
		switch {
		case c == '\\':
			if i >= len(s) {
				return dst[:start], fmt.Errorf("parse name %q: escape at end: %w", s, ErrNameMalformed)
			}
			if isDigit(s[i]) {
				if i+3 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
					return dst[:start], fmt.Errorf("parse name %q: short decimal escape: %w", s, ErrNameMalformed)
				}
				v := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
				if v > 255 {
					return dst[:start], fmt.Errorf("parse name %q: escape \\%s above 255: %w", s, s[i:i+3], ErrNameMalformed)
				}
				dst = append(dst, byte(v))
				i += 3
			} else {
				dst = append(dst, s[i])
				i++
			}
			label++
		case c == '.':
			if label == 0 {
				return dst[:start], fmt.Errorf("parse name %q: empty label: %w", s, ErrNameMalformed)
			}
			if label > 63 {
				return dst[:start], fmt.Errorf("parse name %q: label of %d octets: %w", s, label, ErrNameMalformed)
			}
			dst[lenAt] = byte(label)
			lenAt = len(dst)
			dst = append(dst, 0)
			label = 0
		default:
			dst = append(dst, c)
			label++
		}
		if len(dst)-start > MaxNameLen {
			return dst[:start], fmt.Errorf("parse name %q: %w", s, ErrNameTooLong)
		}
	}
	if label > 63 {
		return dst[:start], fmt.Errorf("parse name %q: label of %d octets: %w", s, label, ErrNameMalformed)
	}
	if label > 0 {
		dst[lenAt] = byte(label)
		dst = append(dst, 0)
	}
	if len(dst)-start > MaxNameLen {
		return dst[:start], fmt.Errorf("parse name %q: %w", s, ErrNameTooLong)
	}
	return dst, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

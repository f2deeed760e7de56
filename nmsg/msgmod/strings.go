package msgmod

import (
	"encoding/binary"

	"github.com/siecap/siecap/nmsg/wdns"
)

// appendJSONString writes b as a JSON string escaped as libnmsg's
// nmsg_strbuf_append_str_json: \b \f \n \r \t \" \\ by name, other bytes
// below 0x20 as \u00xx, everything else (DEL, bytes >= 0x80) as is.
func appendJSONString(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = wdns.AppendJSONEscaped(dst, b)
	return append(dst, '"')
}

// jsonClean reports whether b needs no escaping. Hot path, hand-written:
// every name and rdata text is checked, eight octets at a time (a word has
// an octet below 0x20, '"' or '\\' when one of the classic has-less and
// has-zero bit tests fires; both are exact about whether any octet does).
func jsonClean(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		q := x ^ (ones * '"')
		s := x ^ (ones * '\\')
		if ((x-ones*0x20)&^x|(q-ones)&^q|(s-ones)&^s)&highs != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if wdns.JSONEscapes[c] {
			return false
		}
	}
	return true
}

// appendJSONStringUTF8 writes a string field as libnmsg does: invalid
// UTF-8 replaced by U+FFFD the way _replace_invalid_utf8 does it (a lone
// or truncated byte gives one U+FFFD each, an overlong sequence one for the
// whole sequence; encoded surrogates and code points above U+10FFFF pass
// through raw, so the output is not always valid UTF-8), each run of valid
// text cut at its first NUL (libnmsg copies it with "%.*s"), then escaped.
func appendJSONStringUTF8(dst, s []byte) []byte {
	dst = append(dst, '"')
	begin, end := 0, 0
	n := len(s)
	for end < n {
		ch := s[end]
		if ch < 0x80 {
			end++
			continue
		}
		skip := 1
		switch {
		case ch&0xe0 == 0xc0:
			if end+1 < n && isCont(s[end+1]) {
				skip = 2
				if ch != 0xc0 && ch != 0xc1 {
					end += skip
					continue
				}
			}
		case ch&0xf0 == 0xe0:
			if end+2 < n && isCont(s[end+1]) && isCont(s[end+2]) {
				skip = 3
				if !(ch == 0xe0 && s[end+1] < 0xa0) {
					end += skip
					continue
				}
			}
		case ch&0xf8 == 0xf0:
			if end+3 < n && isCont(s[end+1]) && isCont(s[end+2]) && isCont(s[end+3]) {
				skip = 4
				if !(ch == 0xf0 && s[end+1] < 0x90) {
					end += skip
					continue
				}
			}
		}
		dst = wdns.AppendJSONEscaped(dst, cutNUL(s[begin:end]))
		dst = append(dst, 0xef, 0xbf, 0xbd)
		end += skip
		begin = end
	}
	if end > begin {
		dst = wdns.AppendJSONEscaped(dst, cutNUL(s[begin:end]))
	}
	return append(dst, '"')
}

func isCont(b byte) bool { return b&0xc0 == 0x80 }

// cutNUL returns b up to its first NUL, as C's "%.*s" reads it.
func cutNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

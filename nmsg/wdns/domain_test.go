package wdns_test

import (
	"bytes"
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"
)

// appendDomainRef is wdns_domain_to_str transcribed loop for loop, the
// reference AppendDomain's faster form is checked against.
func appendDomainRef(dst, b []byte) []byte {
	if len(b) == 0 {
		return append(dst, '.')
	}
	read := 0
	rem := len(b)
	src := 0
	oclen := int(b[0])
	for rem > 0 && oclen != 0 {
		src++
		rem--
		read += oclen + 1
		for ; oclen > 0 && rem > 0; oclen-- {
			c := b[src]
			src++
			rem--
			switch {
			case c == '.' || c == '\\':
				dst = append(dst, '\\', c)
			case c >= '!' && c <= '~':
				dst = append(dst, c)
			default:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			}
		}
		dst = append(dst, '.')
		if src >= len(b) {
			break
		}
		oclen = int(b[src])
	}
	if read == 0 {
		dst = append(dst, '.')
	}
	return dst
}

// checkDomain compares AppendDomain with the reference, and
// AppendDomainJSON with the reference escaped for JSON, appending to a
// non-empty dst.
func checkDomain(t *testing.T, b []byte) {
	t.Helper()
	want := appendDomainRef([]byte("x"), b)
	if got := wdns.AppendDomain([]byte("x"), b); !bytes.Equal(got, want) {
		t.Fatalf("AppendDomain(%q) = %q, want %q", b, got, want)
	}
	var wantJSON []byte
	for _, c := range want {
		if c == '"' || c == '\\' {
			wantJSON = append(wantJSON, '\\')
		}
		wantJSON = append(wantJSON, c)
	}
	if got := wdns.AppendDomainJSON(nil, b); !bytes.Equal(got, wantJSON[1:]) {
		t.Fatalf("AppendDomainJSON(%q) = %q, want %q", b, got, wantJSON[1:])
	}
}

// TestAppendDomainReference compares AppendDomain with the reference on
// every string of up to four octets over octets that matter (length
// octets, zero, escapes, plain text) and keeps dst's prefix.
func TestAppendDomainReference(t *testing.T) {
	alphabet := []byte{0, 1, 2, 3, 4, 63, 64, 0xc0, 0xff, '.', '\\', '"', 'a', ' ', '~', 0x7f}
	var b []byte
	var walk func(depth int)
	walk = func(depth int) {
		checkDomain(t, b)
		if depth == 4 {
			return
		}
		for _, c := range alphabet {
			b = append(b, c)
			walk(depth + 1)
			b = b[:len(b)-1]
		}
	}
	walk(0)
}

// TestAppendDomainWords puts every octet at every position of long labels,
// where AppendDomain tests eight octets at a time.
func TestAppendDomainWords(t *testing.T) {
	for n := 8; n <= 20; n++ {
		for at := 0; at < n; at++ {
			for c := range 256 {
				label := bytes.Repeat([]byte{'k'}, n)
				label[at] = byte(c)
				b := append(append([]byte{byte(n)}, label...), 3, 'c', 'o', 'm', 0)
				checkDomain(t, b)
			}
		}
	}
}

// TestAppendDomainTail varies the octets of a short last label, which
// AppendDomain reads as the word ending with it, with and without a root
// label after it.
func TestAppendDomainTail(t *testing.T) {
	for r := 1; r < 8; r++ {
		for at := 0; at < r; at++ {
			for c := range 256 {
				label := bytes.Repeat([]byte{'t'}, r)
				label[at] = byte(c)
				b := append(append([]byte("\x08abcdefgh"), byte(r)), label...)
				checkDomain(t, b)
				checkDomain(t, append(b, 0))
			}
		}
	}
}

// FuzzAppendDomain: AppendDomain prints what the reference prints.
func FuzzAppendDomain(f *testing.F) {
	f.Add([]byte("\x03www\x07example\x03com\x00"))
	f.Add([]byte("\x05a.b\\c\x02\x00\xff"))
	f.Add([]byte("\x3fabc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDomain(t, b)
	})
}

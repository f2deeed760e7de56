package msgmod

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/siecap/siecap/nmsg/wdns"
)

// TestDateTimeFast compares the cached date writer with time.Time over
// the whole range it serves, day boundaries and a day cache that moves
// back and forth.
func TestDateTimeFast(t *testing.T) {
	var c dayCache
	r := rand.New(rand.NewPCG(1, 2))
	secs := []uint64{0, 59, 60, 86399, 86400, 951782400, 951868800, 4102444800, 1<<32 - 1, maxFastSec - 1}
	for range 200000 {
		secs = append(secs, r.Uint64N(maxFastSec))
	}
	for range 2000 {
		secs = append(secs, r.Uint64N(1<<32))
	}
	for _, s := range secs {
		want := time.Unix(int64(s), 0).UTC().AppendFormat(nil, "2006-01-02 15:04:05")
		for range 2 { // a new day, then the cached one
			if got := c.appendDateTimeFast(nil, s); !bytes.Equal(got, want) {
				t.Fatalf("%d: %q, want %q", s, got, want)
			}
		}
	}
	for _, v := range []uint32{0, 1, 9, 10, 99, 100, 123456789, 999999999, 100000000, 50675} {
		got := appendNano9(nil, v)
		want := appendDigits(nil, int(v), 9)
		if !bytes.Equal(got, want) {
			t.Errorf("appendNano9(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestJSONClean compares the word-at-a-time check with the octet table at
// every position and length.
func TestJSONClean(t *testing.T) {
	for c := range 256 {
		for n := 1; n <= 20; n++ {
			for at := 0; at < n; at++ {
				b := bytes.Repeat([]byte{'a'}, n)
				b[at] = byte(c)
				want := !wdns.JSONEscapes[c]
				if got := jsonClean(b); got != want {
					t.Fatalf("jsonClean(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}

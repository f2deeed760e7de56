package wdns_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"
)

// TestAppendIPv4 compares the table-driven dotted quad with netip.
func TestAppendIPv4(t *testing.T) {
	for c := range 256 {
		for _, a := range [][4]byte{{byte(c), 0, 255, 9}, {10, byte(c), byte(c), 100}} {
			got := wdns.AppendIPv4([]byte("x"), a)
			want := netip.AddrFrom4(a).AppendTo([]byte("x"))
			if !bytes.Equal(got, want) {
				t.Fatalf("%v: %q, want %q", a, got, want)
			}
		}
	}
}

package pipeline

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// udpFrame builds an Ethernet/IPv4/UDP frame from 198.18.0.7:9999 carrying payload.
func udpFrame(payload []byte, vlan bool) []byte {
	f := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1}
	if vlan {
		f = append(f, 0x81, 0x00, 0x00, 0xcc)
	}
	f = append(f, 0x08, 0x00)
	tot := 28 + len(payload)
	f = append(f, 0x45, 0, byte(tot>>8), byte(tot), 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 7, 198, 19, 255, 255)
	f = binary.BigEndian.AppendUint16(f, 9999)
	f = binary.BigEndian.AppendUint16(f, 8430)
	f = binary.BigEndian.AppendUint16(f, uint16(8+len(payload)))
	f = append(f, 0, 0)
	return append(f, payload...)
}

func TestFrame(t *testing.T) {
	// A plain container of two payloads: SIE/dnsdedupe and base/dns.
	dg := []byte("NMSG\x00\x02\x00\x00\x00\x2c\x0a\x19\x08\x02\x10\x01\x18\xc1\xb2\xbb\xd4\x05\x25\x24\x9c\x49\x1e\x2a\x02\x50\x01\x38\xcf\x85\xe8\x8d\x0a\x0a\x0f\x08\x01\x10\x07\x18\x01\x25\x00\x00\x00\x00\x2a\x02\x10\x01")
	st, got := runPipeline(t, Config{Channel: 1, Shards: 1, Dedupe: DedupeNone}, func(r *Reader) {
		now := time.Unix(1700000000, 0)
		for _, f := range [][]byte{udpFrame(dg, false), udpFrame(dg, true), udpFrame(dg, false)[:40], {0, 1, 2}} {
			_ = r.Frame(f, now)
		}
		arp := udpFrame(nil, false)
		arp[12], arp[13] = 0x08, 0x06
		if err := r.Frame(arp, now); !errors.Is(err, ErrNotUDP) {
			t.Errorf("ARP frame: %v", err)
		}
	})
	rs := st.Readers[0]
	if len(got) != 4 || rs.Frames != 5 || rs.NotUDP != 1 || rs.BadFrames != 2 {
		t.Fatalf("stored %d, reader stats %+v", len(got), rs)
	}
	src, dst, _, err := ParseFrame(udpFrame(dg, true))
	if err != nil || src != netip.MustParseAddrPort("198.18.0.7:9999") || dst != netip.MustParseAddrPort("198.19.255.255:8430") {
		t.Fatalf("source %v, destination %v, %v", src, dst, err)
	}
	// IPv6 from 2001:db8::7 port 9999, 4 octets of payload.
	v6 := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 12, 17, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}
	v6 = append(v6, make([]byte, 16)...)
	v6 = append(v6, 0x27, 0x0f, 0x20, 0xee, 0, 12, 0, 0, 'N', 'M', 'S', 'G')
	src, dst, pl, err := ParseFrame(v6)
	if err != nil || src != netip.MustParseAddrPort("[2001:db8::7]:9999") || dst != netip.MustParseAddrPort("[::]:8430") || string(pl) != "NMSG" {
		t.Fatalf("IPv6: %v %q %v", src, pl, err)
	}
}

// FuzzFrame: captured frames are untrusted.
func FuzzFrame(f *testing.F) {
	f.Add(udpFrame([]byte("NMSG\x00\x02\x00\x00\x00\x00"), false))
	f.Add(udpFrame(nil, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		src, _, payload, err := ParseFrame(b)
		if err == nil && (!src.IsValid() || len(payload) > len(b)) {
			t.Fatalf("bad result %v %d", src, len(payload))
		}
	})
}

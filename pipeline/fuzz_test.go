package pipeline

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// FuzzParseCounts: record metadata comes from disk; it must parse or fail
// with ErrBadMeta, and what parses must encode back to the same bytes.
func FuzzParseCounts(f *testing.F) {
	f.Add([]byte{})
	f.Add(appendCount(nil, Count{Segment: spool.SegmentID{Node: 1, Channel: 204, Seq: 3}, Offset: 64, Index: 7, Duplicates: 2}))
	f.Add([]byte{1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var re []byte
		err := ParseCounts(b, func(c Count) { re = appendCount(re, c) })
		if err != nil {
			if !errors.Is(err, ErrBadMeta) {
				t.Fatalf("error %v does not wrap ErrBadMeta", err)
			}
			return
		}
		if len(b) > 0 && !bytes.Equal(re, b) && len(re) > 0 {
			// Varints may be overlong in b; re-parsing re must give
			// the same counts.
			var again []byte
			if err := ParseCounts(re, func(c Count) { again = appendCount(again, c) }); err != nil || !bytes.Equal(again, re) {
				t.Fatalf("counts do not round-trip: %x -> %x -> %x (%v)", b, re, again, err)
			}
		}
	})
}

// FuzzRRsetSplit: a dnsqr payload is untrusted (protobuf, IP/UDP packets,
// DNS message). Splitting it must never panic, every INSERTION it emits
// must be a dnsdedupe message whose EXPIRATION rewrite parses, and the
// identity hash must not depend on rdata order.
func FuzzRRsetSplit(f *testing.F) {
	f.Add(dnsqrSeed(false, 0))
	f.Add(dnsqrSeed(true, 0))
	f.Add(dnsqrSeed(false, 0x0400))
	f.Add([]byte{0x7a, 0x05, 1, 2, 3})
	h := newHasher()
	f.Fuzz(func(t *testing.T, msg []byte) {
		var sp rrsetSplitter
		p := &nmsg.Payload{Vid: 1, Msgtype: 9, TimeSec: 1700000000, Message: msg, HasMessage: true}
		n := sp.split(h, p, func(obs *nmsg.Payload, _, _ uint64) {
			exp := appendExpiration(nil, obs.Message, 3, 1, 2)
			for b := exp; len(b) > 0; {
				num, typ, k := protowire.ConsumeTag(b)
				if k < 0 {
					t.Fatalf("EXPIRATION does not parse: %x", exp)
				}
				m := protowire.ConsumeFieldValue(num, typ, b[k:])
				if m < 0 || num == ddResponseIP {
					t.Fatalf("bad EXPIRATION field %d: %x", num, exp)
				}
				b = b[k+m:]
			}
		})
		if uint64(n) != sp.st.RRsets {
			t.Fatalf("split returned %d, counted %d", n, sp.st.RRsets)
		}
	})
}

// dnsqrSeed builds a dnsqr message holding one IPv4/UDP response: a
// referral (flags) for example.com. with two NS records and a glue A.
func dnsqrSeed(fragmented bool, flags uint16) []byte {
	name := []byte("\x07example\x03com\x00")
	dns := []byte{0x12, 0x34, 0x80 | byte(flags>>8), byte(flags), 0, 1, 0, 0, 0, 2, 0, 1}
	dns = append(dns, name...)
	dns = append(dns, 0, 1, 0, 1)
	for _, ns := range []string{"\x02ns\xc0\x0c", "\x03ns2\xc0\x0c"} {
		dns = append(dns, 0xc0, 0x0c, 0, 2, 0, 1, 0, 0, 0x0e, 0x10, 0, byte(len(ns)))
		dns = append(dns, ns...)
	}
	dns = append(dns, 0xc0, 0x29, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, 0, 1)
	udp := []byte{0, 53, 0x30, 0x39, byte((8 + len(dns)) >> 8), byte(8 + len(dns)), 0, 0}
	udp = append(udp, dns...)
	ip := func(off int, more bool, data []byte) []byte {
		tot := 20 + len(data)
		fo := uint16(off / 8)
		if more {
			fo |= 0x2000
		}
		h := []byte{0x45, 0, byte(tot >> 8), byte(tot), 0, 1, byte(fo >> 8), byte(fo), 64, 17, 0, 0, 198, 18, 0, 53, 198, 18, 0, 2}
		return append(h, data...)
	}
	var b []byte
	b = protowire.AppendTag(b, dqResponseIP, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte{198, 18, 0, 53})
	if fragmented {
		b = protowire.AppendTag(b, dqResponsePacket, protowire.BytesType)
		b = protowire.AppendBytes(b, ip(0, true, udp[:24]))
		b = protowire.AppendTag(b, dqResponsePacket, protowire.BytesType)
		b = protowire.AppendBytes(b, ip(24, false, udp[24:]))
	} else {
		b = protowire.AppendTag(b, dqResponsePacket, protowire.BytesType)
		b = protowire.AppendBytes(b, ip(0, false, udp))
	}
	b = protowire.AppendTag(b, dqResponseTimeSec, protowire.VarintType)
	return protowire.AppendVarint(b, 1700000000)
}

// TestRRsetSplitSeeds checks what the fuzz seeds yield, so the seeds are
// known to reach the deep paths: the referral gives bailiwick com. and
// two RRsets (example.com./NS with 2 rdata, ns.example.com./A), also when
// the response came in two IP fragments; the same message with AA set has
// bailiwick example.com. and the same two RRsets.
func TestRRsetSplitSeeds(t *testing.T) {
	h := newHasher()
	for _, c := range []struct {
		msg []byte
		bw  string
	}{{dnsqrSeed(false, 0), "\x03com\x00"}, {dnsqrSeed(true, 0), "\x03com\x00"}, {dnsqrSeed(false, 0x0400), "\x07example\x03com\x00"}} {
		var sp rrsetSplitter
		var bws []string
		p := &nmsg.Payload{Vid: 1, Msgtype: 9, Message: c.msg, HasMessage: true}
		n := sp.split(h, p, func(obs *nmsg.Payload, _, _ uint64) {
			b := obs.Message
			for len(b) > 0 {
				num, typ, k := protowire.ConsumeTag(b)
				m := protowire.ConsumeFieldValue(num, typ, b[k:])
				if num == ddBailiwick {
					v, _ := protowire.ConsumeBytes(b[k:])
					bws = append(bws, string(v))
				}
				b = b[k+m:]
			}
		})
		if n != 2 || len(bws) != 2 || bws[0] != c.bw || bws[1] != c.bw {
			t.Errorf("split gave %d RRsets, bailiwicks %q (stats %+v)", n, bws, sp.st)
		}
	}
}

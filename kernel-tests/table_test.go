package kerneltests

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/siecap/siecap/bpf"
)

type tableCase struct {
	name     string
	frame    []byte
	reason   bpf.Reason
	channel  uint32
	payloads int
}

func rep(p payload, n int) []payload {
	out := make([]payload, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func vlan(vid uint16) []tag { return []tag{{0x8100, vid}} }

func tableCases() []tableCase {
	dedupe := payload{vid: 2, msgtype: 1, body: 120}
	newdomain := payload{vid: 2, msgtype: 5, body: 90}
	dnsqr := payload{vid: 1, msgtype: 9, body: 120}
	unknown := payload{vid: 3, msgtype: 1, body: 10}
	on := func(vid uint16, c []byte) []byte { return frameSpec{tags: vlan(vid), dst: other, payload: c}.build() }
	ch1 := func(c []byte) []byte { return on(100, c) }
	// ~60 dnsdedupe-sized payloads: an 8192-byte container in a 9 KB frame.
	jumboDeny := rep(payload{vid: 1, msgtype: 7, body: 118}, 60)
	jumboMixed := append(rep(payload{vid: 1, msgtype: 7, body: 118}, 59), payload{vid: 2, msgtype: 1, body: 118})
	cases := []tableCase{
		{"untagged v4 allowed", frameSpec{dst: ch3v4, payload: container(0, true, true, newdomain)}.build(), bpf.ReasonPass, 3, 1},
		{"untagged v4 denied", frameSpec{dst: ch3v4, payload: container(0, true, true, dedupe)}.build(), bpf.ReasonDrop, 3, 1},
		{"untagged v6 all denied", frameSpec{dst: ch3v6, payload: container(0, false, false, dedupe, dedupe)}.build(), bpf.ReasonDrop, 3, 2},
		{"untagged v6 mixed", frameSpec{dst: ch3v6, payload: container(0, true, false, dedupe, newdomain)}.build(), bpf.ReasonPass, 3, 2},
		{"untagged wrong port", frameSpec{dst: netipPort(ch3v4, 8431), payload: container(0, false, false, dedupe)}.build(), bpf.ReasonPass, 0, 0},
		{"vlan allowed first", ch1(container(0, true, true, dedupe, dnsqr)), bpf.ReasonPass, 1, 1},
		{"vlan 1.5KB denied", ch1(container(0, true, true, rep(dnsqr, 9)...)), bpf.ReasonDrop, 1, 9},
		{"vlan 9KB all denied", ch1(container(0, true, true, jumboDeny...)), bpf.ReasonDrop, 1, 60},
		{"vlan 9KB last allowed", ch1(container(0, true, true, jumboMixed...)), bpf.ReasonPass, 1, 60},
		{"vlan 9KB first allowed", ch1(container(0, true, true, rep(payload{vid: 2, msgtype: 1, body: 118}, 60)...)), bpf.ReasonPass, 1, 1},
		{"deny list pair", frameSpec{tags: vlan(200), dst: other, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonDrop, 2, 1},
		{"deny list vendor", frameSpec{tags: vlan(200), dst: other, payload: container(0, false, false, dnsqr, payload{vid: 1, msgtype: 200})}.build(), bpf.ReasonDrop, 2, 2},
		{"deny list other", frameSpec{tags: vlan(200), dst: other, payload: container(0, false, false, dnsqr, unknown)}.build(), bpf.ReasonPass, 2, 2},
		{"deny list big vid", frameSpec{tags: vlan(200), dst: other, payload: container(0, false, false, payload{vid: 300, msgtype: 1})}.build(), bpf.ReasonPass, 2, 1},
		{"qinq inner channel", frameSpec{tags: []tag{{0x88a8, 7}, {0x8100, 100}}, dst: other, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonPass, 1, 1},
		{"three tags", frameSpec{tags: []tag{{0x8100, 100}, {0x8100, 200}, {0x8100, 300}}, dst: other, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonNotNMSG, 2, 0},
		{"flags zlib", ch1(withHeader(1, 2, []byte{0, 0, 0, 4, 0x78, 0x9c})), bpf.ReasonOpaque, 1, 0},
		{"flags fragment", ch1(withHeader(2, 2, []byte{0x08, 1, 0x10, 0, 0x18, 2})), bpf.ReasonOpaque, 1, 0},
		{"flags zlib fragment", ch1(withHeader(3, 2, []byte{0x08, 1})), bpf.ReasonOpaque, 1, 0},
		{"flags unknown bit", ch1(withHeader(4, 2, nil)), bpf.ReasonMalformed, 1, 0},
		{"drop all zlib", frameSpec{tags: vlan(300), dst: other, payload: withHeader(1, 2, []byte{0, 0, 0, 4})}.build(), bpf.ReasonDrop, 4, 0},
		{"drop all plain", frameSpec{tags: vlan(300), dst: other, payload: container(0, false, false, newdomain)}.build(), bpf.ReasonDrop, 4, 0},
		{"pass all", frameSpec{tags: vlan(400), dst: other, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonPass, 5, 0},
		{"wrong magic", ch1([]byte("NMSX\x00\x02\x00\x00\x00\x00")), bpf.ReasonNotNMSG, 1, 0},
		{"wrong magic drop-not-nmsg", frameSpec{tags: vlan(300), dst: other, payload: []byte("hello world")}.build(), bpf.ReasonDropDefault, 4, 0},
		{"icmp drop-not-nmsg", frameSpec{tags: vlan(300), dst: other, ipProto: 1, payload: []byte{8, 0, 0, 0}}.build(), bpf.ReasonDropDefault, 4, 0},
		{"arp drop-not-nmsg passes", arp(300), bpf.ReasonNotNMSG, 4, 0},
		{"wrong version", ch1(withHeader(0, 1, nil)), bpf.ReasonMalformed, 1, 0},
		{"length mismatch", ch1(append(container(0, false, false, dedupe), 0)), bpf.ReasonMalformed, 1, 0},
		{"udp shorter than header", frameSpec{tags: vlan(100), dst: other, payload: []byte("NMSG\x00\x02"), udpLen: 14}.build(), bpf.ReasonMalformed, 1, 0},
		{"truncated ip", frameSpec{tags: vlan(100), dst: other, payload: container(0, false, false, dedupe)}.build()[:30], bpf.ReasonNotNMSG, 1, 0},
		{"truncated udp", frameSpec{tags: vlan(100), dst: other, payload: container(0, false, false, dedupe)}.build()[:18+20+4], bpf.ReasonNotNMSG, 1, 0},
		{"truncated body", frameSpec{tags: vlan(100), dst: other, payload: container(0, false, false, dedupe)}.build()[:18+20+8+30], bpf.ReasonMalformed, 1, 0},
		{"ip fragment", frameSpec{tags: vlan(100), dst: other, frag: true, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonOpaque, 1, 0},
		{"ip fragment untagged", frameSpec{dst: ch3v4, frag: true, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonOpaque, 0, 0},
		{"ipv6 extension header", frameSpec{dst: ch3v6, hopByHop: true, payload: []byte{17, 0, 0, 0, 0, 0, 0, 0}}.build(), bpf.ReasonOpaque, 0, 0},
		{"ipv4 options", frameSpec{dst: ch3v4, ihl: 7, payload: container(0, false, false, newdomain)}.build(), bpf.ReasonPass, 3, 1},
		{"unconfigured vlan", frameSpec{tags: vlan(999), dst: other, payload: container(0, false, false, dedupe)}.build(), bpf.ReasonPass, 0, 0},
		{"empty container", ch1(container(0, false, false)), bpf.ReasonPass, 1, 0},
		{"crcs only", ch1(withHeader(0, 2, []byte{0x10, 0x05, 0x18, 0x01})), bpf.ReasonPass, 1, 0},
		{"payload not in field order", ch1(container(0, false, false, payload{vid: 2, msgtype: 1, odd: true})), bpf.ReasonPartial, 1, 1},
		{"denied then unreadable", ch1(container(0, false, false, dnsqr, payload{vid: 2, msgtype: 1, odd: true})), bpf.ReasonPartial, 1, 2},
		{"garbage body", ch1(withHeader(0, 2, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})), bpf.ReasonMalformed, 1, 0},
		{"payload length past end", ch1(withHeader(0, 2, []byte{0x0a, 0x20, 0x08, 0x02, 0x10, 0x01})), bpf.ReasonMalformed, 1, 0},
		{"group wire type", ch1(withHeader(0, 2, []byte{0x0b, 0x0c})), bpf.ReasonMalformed, 1, 0},
		// Channels that count payloads (Rule.CountPayloads).
		{"drop all counted", on(500, container(0, true, true, dedupe, dnsqr, newdomain)), bpf.ReasonDrop, 6, 3},
		{"drop all counted 9KB", on(500, container(0, true, true, jumboDeny...)), bpf.ReasonDrop, 6, 60},
		{"drop all counted odd order", on(500, container(0, false, false, payload{vid: 2, msgtype: 1, odd: true}, dnsqr)), bpf.ReasonDrop, 6, 2},
		{"drop all counted empty", on(500, container(0, false, true)), bpf.ReasonDrop, 6, 0},
		{"drop all counted zlib passes", on(500, withHeader(1, 2, []byte{0, 0, 0, 4, 0x78, 0x9c})), bpf.ReasonOpaque, 6, 0},
		{"drop all counted fragment passes", on(500, withHeader(2, 2, []byte{0x08, 1, 0x10, 0, 0x18, 2})), bpf.ReasonOpaque, 6, 0},
		{"drop all counted garbage passes", on(500, withHeader(0, 2, append(container(0, false, false, dedupe)[10:], 0xff, 0xff))), bpf.ReasonMalformed, 6, 1},
		{"drop all counted bad version passes", on(500, withHeader(0, 1, nil)), bpf.ReasonMalformed, 6, 0},
		{"drop all counted not nmsg", on(500, []byte("hello world")), bpf.ReasonNotNMSG, 6, 0},
		{"pass all counted", on(600, container(0, true, false, rep(dnsqr, 9)...)), bpf.ReasonPass, 7, 9},
		{"pass all counted 9KB", on(600, container(0, true, true, jumboDeny...)), bpf.ReasonPass, 7, 60},
		{"pass all counted zlib", on(600, withHeader(1, 2, []byte{0, 0, 0, 4})), bpf.ReasonOpaque, 7, 0},
		{"allow counted first allowed 9KB", on(700, container(0, true, true, rep(payload{vid: 2, msgtype: 1, body: 118}, 60)...)), bpf.ReasonPass, 8, 60},
		{"allow counted all denied 9KB", on(700, container(0, true, true, jumboDeny...)), bpf.ReasonDrop, 8, 60},
		{"allow counted unreadable then more", on(700, container(0, true, false, dnsqr, payload{vid: 2, msgtype: 1, odd: true}, dedupe, dnsqr)), bpf.ReasonPartial, 8, 4},
		{"allow counted allowed then garbage", on(700, withHeader(0, 2, append(container(0, false, false, dedupe, dnsqr)[10:], 0x0b, 0x0c))), bpf.ReasonPass, 8, 2},
	}
	return cases
}

func netipPort(ap netip.AddrPort, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr(), port)
}

// arp returns an ARP request on vid.
func arp(vid uint16) []byte {
	b := append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, macA...), 0x81, 0x00)
	b = binary.BigEndian.AppendUint16(b, vid)
	b = append(b, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1)
	b = append(b, macA...)
	b = append(b, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2)
	return append(b, make([]byte, 18)...)
}

func TestProgramsTable(t *testing.T) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) {
		h := newHarness(t, b, testConfig())
		for _, tc := range tableCases() {
			t.Run(tc.name, func(t *testing.T) { h.checkCase(t, tc) })
		}
	})
}

// checkCase checks the reference classifier's verdict on tc's frame
// against the table's, then both programs against the reference.
func (h *harness) checkCase(t *testing.T, tc tableCase) {
	t.Helper()
	ref := bpf.Classify(tc.frame, 0, false, h.rs)
	want := bpf.Verdict{Drop: tc.reason.Drops(), Reason: tc.reason, Channel: tc.channel, Payloads: tc.payloads}
	if ref != want {
		t.Fatalf("reference classifier: %+v, want %+v", ref, want)
	}
	h.check(t, h.f.XDPProgram(), true, tc.frame)
	if socketRunnable(tc.frame) {
		h.check(t, h.f.SocketProgram(), false, tc.frame)
	}
}

func TestDropUnconfiguredAndDiscovery(t *testing.T) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) {
		cfg := testConfig()
		h := newHarness(t, b, cfg)
		frame := frameSpec{tags: vlan(999), dst: other, payload: container(0, false, false, payload{vid: 2, msgtype: 1})}.build()
		if v := h.check(t, h.f.XDPProgram(), true, frame); v.Reason != bpf.ReasonPass {
			t.Fatalf("unconfigured NMSG: %+v, want pass", v)
		}
		cfg.DropUnconfigured = true
		h.apply(t, cfg)
		if v := h.check(t, h.f.XDPProgram(), true, frame); v.Reason != bpf.ReasonDropDefault {
			t.Fatalf("unconfigured NMSG with DropUnconfigured: %+v, want drop-default", v)
		}
		h.check(t, h.f.SocketProgram(), false, frame)
		// Not NMSG on no channel passes even so.
		if v := h.check(t, h.f.XDPProgram(), true, arp(999)); v.Drop {
			t.Fatalf("ARP dropped: %+v", v)
		}
		d, err := h.f.Discovery()
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, e := range d {
			if e.HasVLAN && e.VLAN == 999 && e.Dst == other {
				found = true
				// Twice through XDP, once through the socket filter.
				if e.Packets != 3 || e.Bytes != 3*uint64(len(frame)) {
					t.Errorf("discovery entry %+v, want 3 packets of %d bytes", e, len(frame))
				}
			}
		}
		if !found {
			t.Fatalf("no discovery entry for vlan 999 %s in %+v", other, d)
		}
	})
}

// TestManyAddresses fills the kernel's address table (1,000 keys of the
// 1,023 allowed, IPv4 and IPv6) and checks that frames to every one of
// them land on their channel, and frames to neighbours of them on none.
func TestManyAddresses(t *testing.T) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) {
		var drop, pass []netip.AddrPort
		for i := range 1000 {
			var ap netip.AddrPort
			if i%2 == 0 {
				ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), uint16(8430+i%5))
			} else {
				a := [16]byte{0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
				ap = netip.AddrPortFrom(netip.AddrFrom16(a), 8430)
			}
			if i%4 < 2 {
				drop = append(drop, ap)
			} else {
				pass = append(pass, ap)
			}
		}
		h := newHarness(t, b, bpf.Config{Channels: []bpf.Channel{
			{ID: 1, Addrs: drop, Rule: bpf.Rule{Action: bpf.DropAll}},
			{ID: 2, Addrs: pass, Rule: bpf.Rule{Action: bpf.PassAll}},
		}})
		c := container(0, false, false, payload{vid: 2, msgtype: 1})
		for _, ap := range append(append([]netip.AddrPort{}, drop...), pass...) {
			want := uint32(1)
			if !slices.Contains(drop, ap) {
				want = 2
			}
			if v := h.check(t, h.f.XDPProgram(), true, frameSpec{dst: ap, payload: c}.build()); v.Channel != want {
				t.Fatalf("%s: reference channel %d, want %d", ap, v.Channel, want)
			}
			// The same address on the next port is on no channel.
			next := netip.AddrPortFrom(ap.Addr(), ap.Port()+1000)
			if v := h.check(t, h.f.XDPProgram(), true, frameSpec{dst: next, payload: c}.build()); v.Channel != 0 {
				t.Fatalf("%s: reference channel %d, want none", next, v.Channel)
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	})
}

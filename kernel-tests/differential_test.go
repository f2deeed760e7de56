package kerneltests

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/siecap/siecap/bpf"
)

// maxFrame is the largest frame the generators make (MTU 9000 plus
// Ethernet and two tags).
const maxFrame = 9022

var diffDsts = []netip.AddrPort{ch3v4, ch3v6, other, netip.MustParseAddrPort("198.19.0.255:8431"), netip.MustParseAddrPort("[2001:2::ff]:8431")}

var diffTypes = [][2]uint32{{2, 1}, {2, 5}, {1, 9}, {1, 7}, {3, 1}, {300, 1}, {2, 300}, {1, 200}}

func randTags(r *rand.Rand) []tag {
	var tags []tag
	vids := []uint16{100, 200, 300, 400, 500, 600, 700, 999}
	n := r.IntN(8) // mostly 0 or 1 tag, sometimes more
	switch {
	case n < 3:
		return nil
	case n < 6:
		n = 1
	case n == 6:
		n = 2
	default:
		n = 3
	}
	for range n {
		p := uint16(0x8100)
		if r.IntN(5) == 0 {
			p = 0x88a8
		}
		v := vids[r.IntN(len(vids))]
		if r.IntN(10) == 0 {
			v = uint16(r.IntN(4096))
		}
		tags = append(tags, tag{p, v})
	}
	return tags
}

func randContainer(r *rand.Rand, room int) []byte {
	var ps []payload
	size := 16
	for range r.IntN(70) {
		ty := diffTypes[r.IntN(len(diffTypes))]
		p := payload{vid: ty[0], msgtype: ty[1], body: r.IntN(200), odd: r.IntN(40) == 0}
		size += p.body + 30
		if size > room {
			break
		}
		ps = append(ps, p)
	}
	flags := byte(0)
	if r.IntN(8) == 0 {
		flags = byte(r.IntN(8))
	}
	return container(flags, r.IntN(2) == 0, r.IntN(3) == 0, ps...)
}

// wrap puts a UDP payload into a random Ethernet/IP/UDP frame.
func wrap(r *rand.Rand, udp []byte) []byte {
	s := frameSpec{tags: randTags(r), dst: diffDsts[r.IntN(len(diffDsts))], payload: udp}
	switch r.IntN(40) {
	case 0:
		s.frag = true
	case 1:
		s.ipProto = 6
	case 2:
		s.ihl = uint8(5 + r.IntN(11))
	case 3:
		s.hopByHop = true
	case 4:
		s.udpLen = r.IntN(len(udp) + 20)
	}
	return s.build()
}

// mutate applies a few random edits, biased to the headers.
func mutate(r *rand.Rand, f []byte) []byte {
	f = append([]byte{}, f...)
	for range 1 + r.IntN(4) {
		switch r.IntN(6) {
		case 0, 1, 2: // flip a byte, mostly in the first 128
			lim := len(f)
			if r.IntN(4) > 0 {
				lim = min(lim, 128)
			}
			f[r.IntN(lim)] ^= byte(1 + r.IntN(255))
		case 3: // truncate
			f = f[:14+r.IntN(len(f)-13)]
		case 4: // insert bytes
			at := 14 + r.IntN(len(f)-13)
			ins := make([]byte, 1+r.IntN(8))
			for i := range ins {
				ins[i] = byte(r.Uint32())
			}
			f = append(f[:at], append(ins, f[at:]...)...)
		case 5: // delete bytes
			if len(f) > 30 {
				at := 14 + r.IntN(len(f)-20)
				n := min(1+r.IntN(8), len(f)-at)
				f = append(f[:at], f[at+n:]...)
			}
		}
	}
	if len(f) > maxFrame {
		f = f[:maxFrame]
	}
	return f
}

// differentialConfigs are the rule sets the differential test cycles.
func differentialConfigs() []bpf.Config {
	a := testConfig()
	b := testConfig()
	b.DropUnconfigured = true
	b.Channels[0].Rule = bpf.Rule{Action: bpf.Deny, Types: []bpf.Type{{Vendor: 2, AnyType: true}}, DropNotNMSG: true}
	b.Channels[2].Rule.Action = bpf.Deny
	c := bpf.Config{}
	return []bpf.Config{a, b, c}
}

// compare runs frame through the programs and the reference classifier.
func compare(t *testing.T, h *harness, frame []byte) {
	t.Helper()
	h.check(t, h.f.XDPProgram(), true, frame)
	if socketRunnable(frame) {
		h.check(t, h.f.SocketProgram(), false, frame)
	}
	if t.Failed() {
		t.Fatalf("stopping at the first disagreement; frame %x", frame)
	}
}

func runDifferential(t *testing.T, n int, gen func(r *rand.Rand) []byte) {
	h := newHarness(t, testConfig())
	seed := uint64(0x5eca9)
	if s := os.Getenv("SIECAP_DIFF_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (set SIECAP_DIFF_SEED to repeat)", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	cfgs := differentialConfigs()
	stats := map[bpf.Reason]int{}
	for i := range n {
		if i%(n/6+1) == 0 {
			h.apply(t, cfgs[(i/(n/6+1))%len(cfgs)])
		}
		f := gen(r)
		stats[bpf.Classify(f, 0, false, h.rs).Reason]++
		compare(t, h, f)
	}
	t.Logf("%d frames, reference verdicts %v", n, stats)
}

func TestDifferentialRandom(t *testing.T) {
	n := 60_000
	if testing.Short() {
		n = 5_000
	}
	runDifferential(t, n, func(r *rand.Rand) []byte {
		var f []byte
		switch r.IntN(10) {
		case 0: // bytes with an Ethernet header
			f = make([]byte, 14+r.IntN(200))
			for i := range f {
				f[i] = byte(r.Uint32())
			}
			if r.IntN(2) == 0 {
				binary.BigEndian.PutUint16(f[12:], 0x0800)
			}
		default:
			f = wrap(r, randContainer(r, maxFrame-100))
		}
		if r.IntN(3) == 0 {
			f = mutate(r, f)
		}
		return f
	})
}

func TestDifferentialVectors(t *testing.T) {
	dir := vectorsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "nmsgtool", "*.nmsg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors in %s: %v", dir, err)
	}
	var corpus [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, splitContainers(b, maxFrame-100)...)
	}
	t.Logf("%d containers from %d files", len(corpus), len(files))
	n := 60_000
	if testing.Short() {
		n = 5_000
	}
	runDifferential(t, n, func(r *rand.Rand) []byte {
		f := wrap(r, corpus[r.IntN(len(corpus))])
		if r.IntN(10) < 7 {
			f = mutate(r, f)
		}
		return f
	})
}

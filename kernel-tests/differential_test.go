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

// randFields returns a container whose body is a random sequence of
// protobuf fields: payloads with vendor ids and types of every varint
// width, varints of 1 to 11 bytes, fixed32 and fixed64 fields, other
// length-delimited fields, multi-byte and non-minimal keys, bad wire types
// and lengths that run past the end. It exercises every branch of the
// payload walk's fast and general paths.
func randFields(r *rand.Rand, room int) []byte {
	varint := func(b []byte, v uint64, width int) []byte {
		// width > minimal: pad with continuation bytes (non-minimal
		// encoding, still valid protobuf).
		for i := 0; i < width-1; i++ {
			b = append(b, byte(v)|0x80)
			v >>= 7
		}
		return append(b, byte(v&0x7f))
	}
	minWidth := func(v uint64) int { return len(binary.AppendUvarint(nil, v)) }
	randVal := func() uint64 {
		return r.Uint64() >> r.IntN(64)
	}
	var body []byte
	for range r.IntN(300) {
		if len(body) > room {
			break
		}
		switch r.IntN(12) {
		case 0, 1, 2, 3: // payload
			var p []byte
			if r.IntN(10) > 0 {
				vid, mt := uint64(diffTypes[r.IntN(len(diffTypes))][0]), uint64(diffTypes[r.IntN(len(diffTypes))][1])
				if r.IntN(4) == 0 {
					vid, mt = randVal()&0x3ff, randVal()&0x3ff
				}
				p = varint(append(p, 0x08), vid, minWidth(vid)+r.IntN(2)*r.IntN(3))
				p = varint(append(p, 0x10), mt, minWidth(mt))
			} else if r.IntN(2) == 0 {
				p = append(p, 0x10, 0x01, 0x08, 0x02)
			}
			for range r.IntN(200) {
				p = append(p, byte(r.Uint32()))
			}
			n := uint64(len(p))
			if r.IntN(30) == 0 {
				n += uint64(r.IntN(50)) // runs past the payload's bytes
			}
			body = varint(append(body, 0x0a), n, minWidth(n)+r.IntN(2)*r.IntN(2))
			body = append(body, p...)
		case 4, 5: // varint field, 1 to 11 bytes
			v := randVal()
			w := minWidth(v)
			if r.IntN(8) == 0 {
				w = min(w+r.IntN(3), 11)
			}
			body = varint(append(body, byte(1+r.IntN(15))<<3), v, w)
		case 6: // fixed64, fixed32
			if r.IntN(2) == 0 {
				body = binary.LittleEndian.AppendUint64(append(body, 0x19), r.Uint64())
			} else {
				body = binary.LittleEndian.AppendUint32(append(body, 0x25), r.Uint32())
			}
		case 7: // another length-delimited field
			n := r.IntN(40)
			body = varint(append(body, 0x12+byte(r.IntN(4))<<3), uint64(n), minWidth(uint64(n)))
			for range n {
				body = append(body, byte(r.Uint32()))
			}
		case 8: // multi-byte key (field 16 and up), or a non-minimal one
			f := uint64(1 + r.IntN(3000))
			if r.IntN(3) == 0 {
				f = 1 // 0x8a 0x00: a payload key in two bytes
			}
			wt := uint64([]int{0, 2, 5}[r.IntN(3)])
			body = varint(body, f<<3|wt, max(minWidth(f<<3|wt), 1+r.IntN(2)))
			switch wt {
			case 0:
				v := randVal()
				body = varint(body, v, minWidth(v))
			case 2:
				body = append(body, 2, 0x08, 0x01)
			case 5:
				body = append(body, 1, 2, 3, 4)
			}
		case 9: // bad wire type or field number 0
			body = append(body, []byte{0x0b, 0x0c, 0x0e, 0x0f, 0x00, 0x02}[r.IntN(6)], 1)
		default: // CRC-like field
			crc := uint64(r.Uint32())
			body = varint(append(body, 0x10), crc, minWidth(crc))
		}
	}
	return withHeader(0, 2, body)
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

// runDifferential compares n frames from gen for each build.
func runDifferential(t *testing.T, n int, gen func(r *rand.Rand) []byte) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) { runDifferentialBuild(t, b, n, gen) })
}

func runDifferentialBuild(t *testing.T, b bpf.Build, n int, gen func(r *rand.Rand) []byte) {
	h := newHarness(t, b, testConfig())
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
		case 1, 2: // random protobuf fields
			f = wrap(r, randFields(r, maxFrame-200))
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

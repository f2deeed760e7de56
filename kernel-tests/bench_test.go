package kerneltests

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/siecap/siecap/bpf"
)

// Benchmarks of the programs through BPF_PROG_TEST_RUN. Each reports the
// program's ns/run, the baseline's ns/run measured in the same benchmark
// with the same repeat count (return XDP_PASS; for the socket filter
// return skb->len), and the difference. Run with
//
//	go test -run '^$' -bench BenchmarkPrograms -benchtime 1000000x -count 5 ./kernel-tests/
//
// (BenchmarkProgramsHardened for the hardened build.)

var (
	benchDrop  = netip.MustParseAddrPort("198.18.6.255:8430")
	benchAllow = netip.MustParseAddrPort("198.18.7.255:8430")
	benchWalk  = netip.MustParseAddrPort("198.18.8.255:8430")
	benchCount = netip.MustParseAddrPort("198.18.10.255:8430")
)

func benchConfig() bpf.Config {
	dedupe := []bpf.Type{{Vendor: 2, MsgType: 1}}
	return bpf.Config{Channels: []bpf.Channel{
		{ID: 1, VLANs: []uint16{100}, Rule: bpf.Rule{Action: bpf.DropAll}},
		{ID: 2, VLANs: []uint16{200}, Rule: bpf.Rule{Action: bpf.Allow, Types: dedupe}},
		{ID: 3, VLANs: []uint16{300}, Rule: bpf.Rule{Action: bpf.Deny, Types: dedupe}},
		{ID: 4, Addrs: []netip.AddrPort{benchDrop}, Rule: bpf.Rule{Action: bpf.DropAll}},
		{ID: 5, Addrs: []netip.AddrPort{benchAllow}, Rule: bpf.Rule{Action: bpf.Allow, Types: dedupe}},
		{ID: 6, Addrs: []netip.AddrPort{benchWalk}, Rule: bpf.Rule{Action: bpf.Deny, Types: dedupe}},
		{ID: 7, VLANs: []uint16{700}, Rule: bpf.Rule{Action: bpf.DropAll, CountPayloads: true}},
		{ID: 8, Addrs: []netip.AddrPort{benchCount}, Rule: bpf.Rule{Action: bpf.DropAll, CountPayloads: true}},
	}}
}

type benchCase struct {
	name   string
	frame  []byte
	reason bpf.Reason
}

// benchCases builds the cases with containers of about size bytes of
// dnsdedupe-sized payloads (~136 bytes each, as nmsgtool's 8192-byte
// containers hold about 60).
func benchCases(size int) []benchCase {
	n := (size - 10) / 138
	dedupe := rep(payload{vid: 2, msgtype: 1, body: 100}, n)
	c := container(0, true, false, dedupe...)
	mk := func(tags []tag, dst netip.AddrPort) []byte {
		return frameSpec{tags: tags, dst: dst, payload: c}.build()
	}
	return []benchCase{
		{"drop-by-channel/vlan", mk(vlan(100), other), bpf.ReasonDrop},
		{"drop-by-channel/untagged", mk(nil, benchDrop), bpf.ReasonDrop},
		{"first-payload-allowed/vlan", mk(vlan(200), other), bpf.ReasonPass},
		{"first-payload-allowed/untagged", mk(nil, benchAllow), bpf.ReasonPass},
		{"whole-container-walked/vlan", mk(vlan(300), other), bpf.ReasonDrop},
		{"whole-container-walked/untagged", mk(nil, benchWalk), bpf.ReasonDrop},
		// Rule.CountPayloads on a drop-all channel: the counting walk.
		{"drop-all-counted/vlan", mk(vlan(700), other), bpf.ReasonDrop},
		{"drop-all-counted/untagged", mk(nil, benchCount), bpf.ReasonDrop},
	}
}

// benchRounds is how many times benchProgram alternates the baseline and
// the program, b.N/benchRounds runs each time.
const benchRounds = 10

// benchProgram measures prog and base on one CPU, alternating them in
// rounds: BPF_PROG_TEST_RUN runs on the calling CPU, and the two CPUs of
// a shared machine need not run at the same speed, so a baseline and a
// program timed on different CPUs (or at different moments) differ by
// more than the program costs.
func benchProgram(b *testing.B, prog, base *ebpf.Program, frame []byte) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		b.Fatalf("read CPU affinity: %v", err)
	}
	var one unix.CPUSet
	for c := 0; c < 1024; c++ {
		if was.IsSet(c) {
			one.Set(c)
			break
		}
	}
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		b.Fatalf("pin to one CPU: %v", err)
	}
	defer unix.SchedSetaffinity(0, &was)

	n := max(b.N/benchRounds, 1)
	var d, dBase time.Duration
	b.ResetTimer()
	for range benchRounds {
		_, t, err := base.Benchmark(frame, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		dBase += t
		if _, t, err = prog.Benchmark(frame, n, nil); err != nil {
			b.Fatal(err)
		}
		d += t
	}
	b.StopTimer()
	d /= benchRounds
	dBase /= benchRounds
	b.ReportMetric(float64(d)/float64(time.Nanosecond), "ns/run")
	b.ReportMetric(float64(dBase)/float64(time.Nanosecond), "baseline-ns/run")
	b.ReportMetric(float64(d-dBase)/float64(time.Nanosecond), "over-baseline-ns")
}

func BenchmarkPrograms(b *testing.B) { benchPrograms(b, bpf.BuildDirect) }

// BenchmarkProgramsHardened measures the hardened build, which a loader
// without CAP_PERFMON gets.
func BenchmarkProgramsHardened(b *testing.B) { benchPrograms(b, bpf.BuildHardened) }

func benchPrograms(b *testing.B, build bpf.Build) {
	h := newHarness(b, build, benchConfig())
	for _, prog := range []struct {
		name       string
		xdp        bool
		size       int
		prog, base *ebpf.Program
	}{
		// XDP: 9 KB frames holding an 8192-byte container.
		{"xdp-9KB", true, 8192, h.f.XDPProgram(), h.f.BaselineXDP()},
		// Socket filter: BPF_PROG_TEST_RUN takes at most one page.
		{"socket-2.9KB", false, 2900, h.f.SocketProgram(), h.f.BaselineSocket()},
	} {
		for _, c := range benchCases(prog.size) {
			ref := bpf.Classify(c.frame, 0, false, h.rs)
			if ref.Reason != c.reason {
				b.Fatalf("%s: reference verdict %+v, want %s", c.name, ref, c.reason)
			}
			drop, err := run(prog.prog, prog.xdp, c.frame)
			if err != nil || drop != ref.Drop {
				b.Fatalf("%s: program dropped=%v (%v), reference %+v", c.name, drop, err, ref)
			}
			b.Run(prog.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.frame)))
				benchProgram(b, prog.prog, prog.base, c.frame)
			})
		}
	}
}

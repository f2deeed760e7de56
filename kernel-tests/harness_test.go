package kerneltests

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/testutil"
)

// maxSocketRun is the largest frame BPF_PROG_TEST_RUN accepts for a socket
// filter (one page minus headroom and skb_shared_info).
const maxSocketRun = 3000

// socketRunnable reports whether BPF_PROG_TEST_RUN takes frame for a
// socket filter and its verdict is observable: the kernel wants a whole IP
// header behind an IP ethertype, and a 14-byte frame's "keep skb->len"
// reads as 0, the same as a drop.
func socketRunnable(frame []byte) bool {
	if len(frame) <= 14 || len(frame) > maxSocketRun {
		return false
	}
	switch binary.BigEndian.Uint16(frame[12:]) {
	case 0x0800:
		return len(frame) >= 34
	case 0x86dd:
		return len(frame) >= 54
	}
	return true
}

// harness is a Filter loaded for BPF_PROG_TEST_RUN with a rule set.
type harness struct {
	f  *bpf.Filter
	rs *bpf.Ruleset
}

func loadFilter(t testing.TB, opts bpf.Options) *bpf.Filter {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapBPF, testutil.CapNetAdmin)
	f, err := bpf.Load(opts)
	if tail := verifierLogTail(err); tail != "" {
		t.Fatalf("load BPF programs: %v%s", err, tail)
	}
	testutil.SkipOnPermission(t, err, "load BPF programs")
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close filter: %v", err)
		}
	})
	return f
}

// verifierLogTail returns the end of the verifier's log in err, which
// says why it refused a program, on a line of its own; "" if err holds no
// log.
func verifierLogTail(err error) string {
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return ""
	}
	n := max(0, len(ve.Log)-60)
	return "\n" + strings.Join(ve.Log[n:], "\n")
}

// builds are the two compilations of the programs, which must behave
// alike.
var builds = []bpf.Build{bpf.BuildDirect, bpf.BuildHardened}

// forEachBuild runs fn as a subtest for each build.
func forEachBuild(t *testing.T, fn func(t *testing.T, b bpf.Build)) {
	for _, b := range builds {
		t.Run(b.String(), func(t *testing.T) { fn(t, b) })
	}
}

func newHarness(t testing.TB, b bpf.Build, cfg bpf.Config) *harness {
	t.Helper()
	h := &harness{f: loadFilter(t, bpf.Options{SocketDataAtL3: true, Baselines: true, Build: b})}
	if got := h.f.Build(); got != b {
		t.Fatalf("loaded the %s build, want %s", got, b)
	}
	h.apply(t, cfg)
	return h
}

func (h *harness) apply(t testing.TB, cfg bpf.Config) {
	t.Helper()
	rs, err := bpf.Compile(cfg)
	if err != nil {
		t.Fatalf("compile config: %v", err)
	}
	if err := h.f.Update(rs); err != nil {
		t.Fatalf("update filter: %v", err)
	}
	h.rs = rs
}

// run runs prog once on frame and returns whether it dropped the frame.
func run(prog *ebpf.Program, xdp bool, frame []byte) (bool, error) {
	ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
	if err != nil {
		return false, fmt.Errorf("run %s on %d bytes: %w", prog, len(frame), err)
	}
	if xdp {
		switch ret {
		case 1:
			return true, nil
		case 2:
			return false, nil
		}
		return false, fmt.Errorf("xdp returned %d", ret)
	}
	switch int(ret) {
	case 0:
		return true, nil
	case len(frame) - 14:
		return false, nil
	}
	return false, fmt.Errorf("socket filter returned %d for a %d-byte frame", ret, len(frame))
}

// check runs frame through prog, and fails t unless the program's verdict
// and its counter changes are exactly those of the reference classifier.
// It returns the reference verdict.
func (h *harness) check(t testing.TB, prog *ebpf.Program, xdp bool, frame []byte) bpf.Verdict {
	t.Helper()
	want := bpf.Classify(frame, 0, false, h.rs)
	before, err := h.f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	drop, err := run(prog, xdp, frame)
	if err != nil {
		t.Fatal(err)
	}
	after, err := h.f.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if drop != want.Drop {
		t.Errorf("%s dropped=%v, reference %+v (frame %x)", prog, drop, want, frame[:min(len(frame), 128)])
	}
	for id, a := range after {
		b := before[id]
		for r := range bpf.NumReasons {
			var w bpf.Counts
			if id == want.Channel && bpf.Reason(r) == want.Reason {
				w = bpf.Counts{Packets: 1, Bytes: uint64(len(frame)), Payloads: uint64(want.Payloads)}
			}
			got := bpf.Counts{
				Packets:  a[r].Packets - b[r].Packets,
				Bytes:    a[r].Bytes - b[r].Bytes,
				Payloads: a[r].Payloads - b[r].Payloads,
			}
			if got != w {
				t.Errorf("%s: channel %d %s counters moved by %+v, reference %+v (verdict %+v)",
					prog, id, bpf.Reason(r), got, w, want)
			}
		}
	}
	return want
}

// Addresses of the test channels (198.18.0.0/15 and 2001:2::/48).
var (
	ch3v4 = netip.MustParseAddrPort("198.18.1.255:8430")
	ch3v6 = netip.MustParseAddrPort("[2001:2::ff]:8430")
	other = netip.MustParseAddrPort("198.18.9.9:8430")
)

// testConfig is the rule set of the table and differential tests.
func testConfig() bpf.Config {
	return bpf.Config{Channels: []bpf.Channel{
		{ID: 1, VLANs: []uint16{100}, Rule: bpf.Rule{Action: bpf.Allow, Types: []bpf.Type{{Vendor: 2, MsgType: 1}}}},
		{ID: 2, VLANs: []uint16{200}, Rule: bpf.Rule{Action: bpf.Deny, Types: []bpf.Type{{Vendor: 2, MsgType: 1}, {Vendor: 1, AnyType: true}}}},
		{ID: 3, Addrs: []netip.AddrPort{ch3v4, ch3v6}, Rule: bpf.Rule{Action: bpf.Allow, Types: []bpf.Type{{Vendor: 2, MsgType: 5}}}},
		{ID: 4, VLANs: []uint16{300}, Rule: bpf.Rule{Action: bpf.DropAll, DropNotNMSG: true}},
		{ID: 5, VLANs: []uint16{400}, Rule: bpf.Rule{Action: bpf.PassAll}},
		{ID: 6, VLANs: []uint16{500}, Rule: bpf.Rule{Action: bpf.DropAll, CountPayloads: true}},
		{ID: 7, VLANs: []uint16{600}, Rule: bpf.Rule{Action: bpf.PassAll, CountPayloads: true}},
		{ID: 8, VLANs: []uint16{700}, Rule: bpf.Rule{Action: bpf.Allow, Types: []bpf.Type{{Vendor: 2, MsgType: 1}}, CountPayloads: true}},
	}}
}

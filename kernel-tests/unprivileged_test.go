package kerneltests

import (
	"runtime"
	"testing"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/caps"
	"github.com/siecap/siecap/internal/testutil"
)

// loadWithout loads the filter on a thread that has dropped cs from its
// effective set: the verifier judges a program by the loading thread's
// credentials, so this is what a daemon holding only the rest sees.
func loadWithout(t *testing.T, opts bpf.Options, cs ...caps.Cap) (*bpf.Filter, error) {
	t.Helper()
	type result struct {
		f   *bpf.Filter
		err error
	}
	done := make(chan result)
	go func() {
		// The thread ends with the goroutine: its credentials are never
		// handed back to the runtime.
		runtime.LockOSThread()
		if err := caps.DropThread(cs...); err != nil {
			done <- result{err: err}
			return
		}
		f, err := bpf.Load(opts)
		done <- result{f, err}
	}()
	r := <-done
	if r.f != nil {
		t.Cleanup(func() { r.f.Close() })
	}
	return r.f, r.err
}

// TestLoadUnprivileged loads the programs the way the daemon does with
// only CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF: without CAP_PERFMON the
// verifier applies its Spectre mitigations and refuses pointer arithmetic
// it allows otherwise, so Load must pick the hardened build, which it must
// pass; the programs must then classify like the direct build.
func TestLoadUnprivileged(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapBPF, testutil.CapNetAdmin, testutil.CapPerfmon, testutil.CapSysAdmin)
	f, err := loadWithout(t, bpf.Options{SocketDataAtL3: true}, caps.Perfmon, caps.SysAdmin)
	if err != nil {
		t.Fatalf("load without %s and %s: %v%s", caps.Perfmon, caps.SysAdmin, err, verifierLogTail(err))
	}
	if f.Build() != bpf.BuildHardened {
		t.Fatalf("loaded the %s build without %s, want %s", f.Build(), caps.Perfmon, bpf.BuildHardened)
	}
	// The verifier works hardest for an unprivileged loader: the budgets
	// hold here too, and the socket filter's size with the mitigations
	// the verifier added.
	checkBudget(t, "siecap_xdp", verifiedInsns(t, f.XDPProgram()))
	checkBudget(t, "siecap_socket", verifiedInsns(t, f.SocketProgram()))
	checkSocketSize(t, f.SocketProgram())
	// The programs the unprivileged thread loaded classify like the
	// reference.
	h := &harness{f: f}
	h.apply(t, testConfig())
	for _, tc := range tableCases() {
		t.Run(tc.name, func(t *testing.T) { h.checkCase(t, tc) })
	}
}

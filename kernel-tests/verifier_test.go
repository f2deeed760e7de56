package kerneltests

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/testutil"
)

// verifierBudget is the most instructions the verifier may process for each
// program (the kernel's limit is 1,000,000). Growing past it fails the test:
// raise it only with a measured reason.
//
// The count depends on the kernel as much as on the programs: the direct
// build's siecap_xdp takes 56,406 on 6.1, 68,898 on 6.12 and 71,408 on
// an early 6.18, but 163,296 on 6.18.44, whose stack liveness and
// precision tracking prune fewer of the fast walk's states. The budget
// leaves room for that spread and still catches a program that doubles.
var verifierBudget = map[string]uint32{
	"siecap_xdp":          250_000,
	"siecap_xdp_vlanmeta": 250_000,
	"siecap_socket":       250_000,
}

func verifiedInsns(t *testing.T, p *ebpf.Program) uint32 {
	t.Helper()
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	n, ok := info.VerifiedInstructions()
	if !ok {
		testutil.SkipIfKernelOlder(t, "5.16", "verified_insns in bpf_prog_info")
		t.Fatal("kernel reports no verified instruction count")
	}
	return n
}

func checkBudget(t *testing.T, name string, n uint32) {
	maj, min := testutil.KernelRelease()
	t.Logf("kernel %d.%d: %s: %s: %d instructions processed by the verifier (budget %d)", maj, min, t.Name(), name, n, verifierBudget[name])
	if n > verifierBudget[name] {
		t.Errorf("%s: %d verified instructions, over the budget of %d", name, n, verifierBudget[name])
	}
}

// socketFilterBudget is the largest socket filter, in translated
// instructions, that Linux 6.1 attaches with its default
// net.core.optmem_max of 20,480 bytes: SO_ATTACH_BPF charges the program's
// size (about 72 bytes plus 8 per instruction) to the socket and fails with
// ENOMEM above it (6.9 raised the default to 128 KiB). Kept a little below
// the limit, because the kernel's rewrites (inlined helpers) change the
// count from kernel to kernel.
const socketFilterBudget = 2_450

// checkSocketSize fails t if the socket filter p is too large for Linux
// 6.1 to attach.
func checkSocketSize(t *testing.T, p *ebpf.Program) {
	t.Helper()
	info, err := p.Info()
	if err != nil {
		t.Fatal(err)
	}
	size, err := info.TranslatedSize()
	if err != nil {
		t.Fatalf("read the socket filter's translated size: %v", err)
	}
	maj, min := testutil.KernelRelease()
	t.Logf("kernel %d.%d: %s: siecap_socket: %d translated instructions (budget %d)", maj, min, t.Name(), size/8, socketFilterBudget)
	if size/8 > socketFilterBudget {
		t.Errorf("siecap_socket: %d translated instructions, over the %d that Linux 6.1 attaches to a socket", size/8, socketFilterBudget)
	}
}

func TestVerifierBudget(t *testing.T) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) {
		f := loadFilter(t, bpf.Options{Build: b})
		checkBudget(t, "siecap_xdp", verifiedInsns(t, f.XDPProgram()))
		checkBudget(t, "siecap_socket", verifiedInsns(t, f.SocketProgram()))
		checkSocketSize(t, f.SocketProgram())
	})

	// siecap_xdp_vlanmeta is counted by TestEndToEndXDPMetadataTags: it
	// needs a device to bind to.
}

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
var verifierBudget = map[string]uint32{
	"siecap_xdp":          200_000,
	"siecap_xdp_vlanmeta": 200_000,
	"siecap_socket":       200_000,
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
	t.Logf("kernel %d.%d: %s: %d instructions processed by the verifier (budget %d)", maj, min, name, n, verifierBudget[name])
	if n > verifierBudget[name] {
		t.Errorf("%s: %d verified instructions, over the budget of %d", name, n, verifierBudget[name])
	}
}

func TestVerifierBudget(t *testing.T) {
	f := loadFilter(t, bpf.Options{})
	checkBudget(t, "siecap_xdp", verifiedInsns(t, f.XDPProgram()))
	checkBudget(t, "siecap_socket", verifiedInsns(t, f.SocketProgram()))

	// siecap_xdp_vlanmeta is counted by TestEndToEndXDPMetadataTags: it
	// needs a device to bind to.
}

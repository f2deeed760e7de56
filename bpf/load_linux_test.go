package bpf

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/siecap/siecap/internal/testutil"
)

// TestLoadFallsBackToHardened hands the kernel a direct build whose XDP
// program reads past its context, which every verifier refuses: BuildAuto
// must load the hardened build instead and say why, and BuildDirect must
// fail.
func TestLoadFallsBackToHardened(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapBPF, testutil.CapPerfmon)
	saved := directSpec
	t.Cleanup(func() { directSpec = saved })
	directSpec = func() (*ebpf.CollectionSpec, error) {
		spec, err := saved()
		if err != nil {
			return nil, err
		}
		spec.Programs["siecap_xdp"].Instructions = asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, 4096, asm.Word),
			asm.Return(),
		}
		return spec, nil
	}

	f, err := Load(Options{})
	if err != nil {
		t.Fatalf("load with a refused direct build: %v", err)
	}
	defer f.Close()
	if f.Build() != BuildHardened {
		t.Fatalf("loaded the %s build, want %s", f.Build(), BuildHardened)
	}
	var ve *ebpf.VerifierError
	if !errors.As(f.Fallback(), &ve) {
		t.Fatalf("Fallback() = %v, want the verifier's refusal", f.Fallback())
	}

	if f, err := Load(Options{Build: BuildDirect}); err == nil {
		f.Close()
		t.Fatal("BuildDirect loaded a program the verifier refuses")
	} else if !errors.As(err, &ve) {
		t.Fatalf("BuildDirect: %v, want a verifier error", err)
	}

	directSpec = saved
	f2, err := Load(Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	defer f2.Close()
	if f2.Build() != BuildDirect || f2.Fallback() != nil {
		t.Fatalf("loaded %s (fallback %v), want the direct build", f2.Build(), f2.Fallback())
	}
}

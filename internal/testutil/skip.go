package testutil

import (
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/siecap/siecap/internal/caps"
	"github.com/siecap/siecap/internal/netprobe"
)

// Capability numbers from linux/capability.h.
const (
	CapNetAdmin = int(caps.NetAdmin)
	CapNetRaw   = int(caps.NetRaw)
	CapSysAdmin = int(caps.SysAdmin)
	CapBPF      = int(caps.BPF)
	CapPerfmon  = int(caps.Perfmon)
)

// HasCap reports whether the process holds capability c in its effective set.
func HasCap(c int) bool { return caps.Has(caps.Cap(c)) }

// RequireCaps skips t, naming the first missing capability, unless the
// process holds every capability in caps. With CAP_NET_RAW or
// CAP_SYS_ADMIN among them it also requires working kernel networking
// (RequireNetworking).
func RequireCaps(t testing.TB, need ...int) {
	t.Helper()
	for _, c := range need {
		if !HasCap(c) {
			t.Skipf("missing privilege %s (run as root)", caps.Cap(c))
		}
	}
	// Tests that need CAP_NET_RAW or CAP_SYS_ADMIN build namespaces and
	// sockets: on a wedged kernel their first netlink request would block
	// forever.
	for _, c := range need {
		if c == CapNetRaw || c == CapSysAdmin {
			RequireNetworking(t)
			return
		}
	}
}

// SkipOnPermission skips t if err is EPERM (naming what) and
// fails it on any other non-nil error.
func SkipOnPermission(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	// EPERM is a missing privilege; EACCES is also what the BPF verifier
	// returns when it rejects a program, which must fail, not skip.
	if errors.Is(err, unix.EPERM) {
		t.Skipf("missing privilege for %s: %v", what, err)
	}
	t.Fatalf("%s: %v", what, err)
}

// KernelRelease returns the running kernel's major and minor version.
func KernelRelease() (major, minor int) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, 0
	}
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	return major, minor
}

// SkipIfKernelOlder skips t, naming feature, if the running kernel is older
// than version ("major.minor").
func SkipIfKernelOlder(t testing.TB, version, feature string) {
	t.Helper()
	var wmaj, wmin int
	fmt.Sscanf(version, "%d.%d", &wmaj, &wmin)
	maj, min := KernelRelease()
	if maj < wmaj || (maj == wmaj && min < wmin) {
		t.Skipf("kernel %d.%d lacks %s (needs %s)", maj, min, feature, version)
	}
}

// RequireNetworking skips t when the kernel's networking does not answer
// (netprobe.ErrNetworkingStuck: RTNL held by a crashed kernel worker), so
// that a wedged machine skips the network tests, naming why, instead of
// hanging in their first netlink request.
func RequireNetworking(t testing.TB) {
	t.Helper()
	if err := netprobe.Check(); err != nil {
		t.Skipf("kernel networking unavailable: %v", err)
	}
}

package netprobe

import (
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// ErrNetworkingStuck reports that the kernel does not answer netlink
// requests: a kernel worker died holding RTNL (seen after an oops), and
// every request that needs it blocks forever. Only a reboot helps.
var ErrNetworkingStuck = errors.New("kernel networking does not answer: netlink requests block (RTNL is held; reboot the machine)")

var (
	probeOnce sync.Once
	probeErr  error
)

// probeTimeout bounds the liveness probe. A healthy kernel answers in
// milliseconds even under load.
const probeTimeout = 10 * time.Second

// Check fails fast, with ErrNetworkingStuck, when the kernel's
// networking is wedged, instead of letting the caller block forever in its
// first netlink request. The probe (one "ip link show lo") runs in a child
// process, which is abandoned if it blocks: a thread stuck in the kernel
// cannot be interrupted, and this process must stay able to exit. It runs
// once per process.
func Check() error {
	probeOnce.Do(func() { probeErr = probe(probeTimeout) })
	return probeErr
}

func probe(timeout time.Duration) error {
	cmd := exec.Command("ip", "-o", "link", "show", "lo")
	if err := cmd.Start(); err != nil {
		// No ip(8): nothing to probe with; let the caller's own requests
		// say what is wrong.
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		return fmt.Errorf("%w: ip link show lo blocked for %v", ErrNetworkingStuck, timeout)
	}
}

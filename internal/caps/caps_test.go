package caps

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestEffectiveMatchesProc compares capget's answer with the CapEff line
// the kernel prints in /proc/self/status.
func TestEffectiveMatchesProc(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	var want uint64
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			if want, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := Effective()
	if err != nil || got != want {
		t.Fatalf("Effective() = %#x, %v; /proc says %#x", got, err, want)
	}
	if Has(NetRaw) != (want&(1<<13) != 0) {
		t.Error("Has(NetRaw) disagrees with CapEff")
	}
	if NetRaw.String() != "CAP_NET_RAW" || Cap(63).String() != "capability 63" {
		t.Errorf("names: %s, %s", NetRaw, Cap(63))
	}
}

// TestDropThread drops a capability from one locked thread and checks
// that it is gone there, and only there, until raised again.
func TestDropThread(t *testing.T) {
	if !Has(NetRaw) {
		t.Skip("missing privilege CAP_NET_RAW (run as root)")
	}
	done := make(chan error)
	go func() {
		// The thread ends with the goroutine: it is never handed back.
		runtime.LockOSThread()
		if err := DropThread(NetRaw); err != nil {
			done <- err
			return
		}
		if Has(NetRaw) {
			done <- errors.New("CAP_NET_RAW still effective after DropThread")
			return
		}
		if err := RaiseThread(NetRaw); err != nil || !Has(NetRaw) {
			done <- fmt.Errorf("raise CAP_NET_RAW again: %v", err)
			return
		}
		done <- DropThread(NetRaw)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !Has(NetRaw) {
		t.Error("DropThread on another thread changed this one")
	}
}

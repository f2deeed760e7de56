package netprobe

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProbeDetectsABlockedRequest stands a blocking "ip" in for a wedged
// kernel: the probe must give up after its timeout, not hang.
func TestProbeDetectsABlockedRequest(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ip")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexec /bin/sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	start := time.Now()
	err := probe(200 * time.Millisecond)
	if !errors.Is(err, ErrNetworkingStuck) {
		t.Fatalf("probe: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("probe took %v", d)
	}
}

func TestProbeAnswers(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ip")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if err := probe(10 * time.Second); err != nil {
		t.Fatalf("probe: %v", err)
	}
}

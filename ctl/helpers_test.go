package ctl

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startServer starts a server on a unix socket in a temporary directory
// (and TCP when opts asks) and closes it at the end of the test.
func startServer(t *testing.T, b Backend, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		tw := &testWriter{t: t}
		t.Cleanup(tw.stop) // runs after the server's Close
		opts.Logger = slog.New(slog.NewTextHandler(tw, nil))
	}
	if opts.Socket == "" && opts.TCP == "" {
		opts.Socket = filepath.Join(t.TempDir(), "run", "siecap.sock")
	}
	s, err := New(b, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// testWriter sends log lines to t.Log until the test ends (stream
// goroutines may log a little later).
type testWriter struct {
	t       *testing.T
	mu      sync.Mutex
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

func unixClient(t *testing.T, s *Server) *Client {
	t.Helper()
	c, err := NewClient(s.opts.Socket, ClientOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siecap/siecap/lab"
)

// daemonProcess is `siecap run` started as a process of its own (the test
// binary acting as siecap).
type daemonProcess struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error // Wait's, once done is closed
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDaemonProcess starts bin as `siecap run args...` inside ns, with
// attr's credentials and capabilities (nil: the test's own) and env added
// to its environment. It is killed at the end of the test if still
// running.
func startDaemonProcess(t *testing.T, ns *lab.Namespace, bin string, attr *syscall.SysProcAttr, env []string, args ...string) *daemonProcess {
	t.Helper()
	p := &daemonProcess{stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"run"}, args...)...)
	p.cmd.Env = append([]string{asMainEnv + "=1", "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	p.cmd.SysProcAttr = attr
	// The child inherits the network namespace of the thread that forks
	// it: Do's.
	if err := ns.Do(p.cmd.Start); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
			t.Logf("daemon killed at the end of the test; its log:\n%s", p.stderr)
		}
	})
	return p
}

// waitFile waits until path exists or the process exits.
func (p *daemonProcess) waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("daemon exited before %s appeared (%v):\n%s", path, p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared; daemon log:\n%s", path, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// status.
func (p *daemonProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("daemon still running %v later; its log:\n%s", timeout, p.stderr)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("wait for daemon: %v", p.err)
	}
	return 0
}

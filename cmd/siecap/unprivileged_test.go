package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/caps"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
)

// nobody is the unprivileged user the daemon runs as in these tests.
const nobody = 65534

// unprivilegedDir returns a directory that user nobody can reach: the
// test binary's copy and the configurations go there.
func unprivilegedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// asNobody runs a process as uid and gid 65534 holding exactly the ambient
// capabilities given.
func asNobody(ambient ...caps.Cap) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	for _, c := range ambient {
		attr.AmbientCaps = append(attr.AmbientCaps, uintptr(c))
	}
	return attr
}

// procStatus returns the fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		m[k] = strings.TrimSpace(v)
	}
	return m
}

// TestDaemonUnprivileged runs the daemon binary as user and group 65534
// holding only CAP_NET_RAW, CAP_NET_ADMIN and CAP_BPF (ambient): it must
// capture the lab's feed and write the spool. With any one of the three
// missing it must refuse to start, naming it. It must attach the kernel
// filter with XDP either way: the hardened build without CAP_PERFMON
// (the verifier's Spectre v1 rules refuse the direct build's pointer
// arithmetic to a loader without it), the direct build with it.
func TestDaemonUnprivileged(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw, testutil.CapBPF)
	if os.Geteuid() != 0 {
		t.Skip("missing privilege CAP_SETUID/CAP_SETGID (run as root) to start the daemon as another user")
	}
	l, err := lab.Up(lab.Config{Channels: []int{202, 204}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	dir := unprivilegedDir(t)
	bin := testutil.CopyTestBinary(t, dir, "siecap")
	granted := []caps.Cap{caps.NetRaw, caps.NetAdmin, caps.BPF}

	// Each capability missing in turn: refused, naming it.
	cfgFile, _ := unprivilegedConfig(t, dir, l.SIE.Link)
	for i, missing := range granted {
		rest := append(append([]caps.Cap{}, granted[:i]...), granted[i+1:]...)
		p := startDaemonProcess(t, l.Appliance, bin, asNobody(rest...), nil, "--config", cfgFile)
		if code := p.wait(t, 30*time.Second); code != 1 || !strings.Contains(p.stderr.String(), "missing "+missing.String()+" (") {
			t.Errorf("without %s: exit %d, want 1 and a message naming it:\n%s", missing, code, p.stderr)
		}
	}

	for _, tc := range []struct {
		granted []caps.Cap
		build   string
	}{
		{granted, "hardened"},
		{append(granted, caps.Perfmon), "direct"},
	} {
		t.Run(fmt.Sprint(tc.granted), func(t *testing.T) {
			p := runUnprivileged(t, l, bin, dir, tc.granted)
			if p.filter != "xdp" || p.build != tc.build {
				t.Errorf("filter %q, build %q; want XDP attached by the unprivileged daemon, %s build; its log:\n%s", p.filter, p.build, tc.build, p.stderr)
			}
		})
	}
}

// unprivilegedConfig writes a configuration for the lab's SIE link whose
// spool and socket lie in a fresh directory owned by nobody; it returns
// the file and that directory.
func unprivilegedConfig(t *testing.T, dir, link string) (file, state string) {
	t.Helper()
	state, err := os.MkdirTemp(dir, "state")
	if err == nil {
		err = os.Chown(state, nobody, nobody)
	}
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(state + ".toml")
	cfg := daemonConfig(link, state, "[[channel]]\nnumber = 202\ndedupe = \"none\"\n[[channel]]\nnumber = 204\ndedupe = \"none\"\n")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, state
}

// unprivilegedRun is what runUnprivileged saw.
type unprivilegedRun struct {
	filter string // the kernel filter the daemon reported
	build  string // and its build
	stderr *syncBuffer
}

// runUnprivileged starts the daemon as nobody with the ambient
// capabilities granted, checks its credentials, feeds the lab, waits for
// every payload to be stored, stops it with SIGTERM and checks the spool
// it wrote.
func runUnprivileged(t *testing.T, l *lab.Lab, bin, dir string, granted []caps.Cap) unprivilegedRun {
	cfgFile, state := unprivilegedConfig(t, dir, l.SIE.Link)
	ready := filepath.Join(state, "ready")
	p := startDaemonProcess(t, l.Appliance, bin, asNobody(granted...), nil, "--config", cfgFile, "--ready-file", ready)
	p.waitFile(t, ready)
	st := procStatus(t, p.cmd.Process.Pid)
	var want uint64
	for _, c := range granted {
		want |= 1 << uint(c)
	}
	eff, _ := strconv.ParseUint(st["CapEff"], 16, 64)
	if !strings.HasPrefix(st["Uid"], "65534\t65534") || !strings.HasPrefix(st["Gid"], "65534\t65534") || eff != want {
		t.Errorf("daemon runs with Uid %q Gid %q CapEff %#x, want 65534 and %#x", st["Uid"], st["Gid"], eff, want)
	}

	c, err := ctl.NewClient(filepath.Join(state, "siecap.sock"), ctl.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	status, err := c.Status(ctx)
	if err != nil || len(status.Interfaces) != 1 {
		t.Fatalf("status %+v (%v)", status, err)
	}
	sent := feedPayloads(t, l, []int{202, 204}, 300)
	wantStored := map[uint16]map[string]uint64{}
	for ch, n := range sent {
		wantStored[ch] = map[string]uint64{"stored": n, "lost": 0}
	}
	waitCounters(t, "the feed stored by the unprivileged daemon", func() (ctl.Channels, error) { return c.Channels(ctx) }, wantStored)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("daemon exited %d after SIGTERM:\n%s", code, p.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(state, "spool", "*"))
	owned := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Sys().(*syscall.Stat_t).Uid == nobody {
			owned++
		}
	}
	if owned == 0 || owned != len(files) {
		t.Errorf("%d of the %d files in the spool belong to uid %d, want all and at least one", owned, len(files), nobody)
	}
	stored := spooledPayloads(t, filepath.Join(state, "spool"))
	for ch, n := range sent {
		if stored[uint32(ch)] != n {
			t.Errorf("spool holds %d payloads of channel %d, want %d", stored[uint32(ch)], ch, n)
		}
	}
	return unprivilegedRun{filter: status.Interfaces[0].Filter, build: status.Interfaces[0].FilterBuild, stderr: p.stderr}
}

package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
)

// TestDaemonSignals runs the daemon as a process of its own under the
// lab's feed. SIGHUP, after the file changed one channel's rule, must put
// the new rule into the kernel without stopping the capture; SIGTERM, with
// the feed still running, must drain, seal the spool and exit within a few
// seconds, and every payload the daemon reported stored must be in the
// sealed spool: spool verify clean, the export of each channel as long as
// the count of stored payloads the daemon logged at exit. It tells systemd
// (NOTIFY_SOCKET) when it is ready, reloading and stopping.
func TestDaemonSignals(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw, testutil.CapBPF)
	l, err := lab.Up(lab.Config{Channels: []int{202, 204, 207}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	dir := t.TempDir()
	spoolDir, sock, ready := filepath.Join(dir, "spool"), filepath.Join(dir, "siecap.sock"), filepath.Join(dir, "ready")
	cfgFile := filepath.Join(dir, "siecap.toml")
	channels := "[[channel]]\nnumber = 202\ndedupe = \"none\"\n[[channel]]\nnumber = 204\n[[channel]]\nnumber = 207\ndedupe = \"none\"\n"
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(cfgFile, []byte(daemonConfig(l.SIE.Link, dir, text)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(channels)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// systemd's notification socket, as Type=notify provides it.
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify.sock"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()
	notes := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				close(notes)
				return
			}
			notes <- string(buf[:n])
		}
	}()
	nextNote := func() string {
		t.Helper()
		select {
		case s := <-notes:
			return s
		case <-time.After(30 * time.Second):
			t.Fatal("no notification to systemd")
		}
		return ""
	}
	p := startDaemonProcess(t, l.Appliance, self, nil, []string{"NOTIFY_SOCKET=" + notify.LocalAddr().String()}, "--config", cfgFile, "--ready-file", ready)
	if n := nextNote(); !strings.HasPrefix(n, "READY=1\nSTATUS=capturing 3 channels on 1 interfaces") {
		t.Errorf("first notification %q, want READY=1 and a STATUS", n)
	}
	p.waitFile(t, ready)
	c, err := ctl.NewClient(sock, ctl.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	fed := make(chan error, 1)
	go func() {
		_, err := l.Feed(feedCtx, lab.FeedConfig{VLAN: lab.VLANInline, PPS: 100, Duration: 60 * time.Second, RepeatShare: 0.3, Seed: 3})
		fed <- err
	}()
	counters := func() map[uint16]map[string]uint64 {
		t.Helper()
		chs, err := c.Channels(ctx)
		if err != nil {
			t.Fatalf("channels: %v\n%s", err, p.stderr)
		}
		out := map[uint16]map[string]uint64{}
		for _, ch := range chs.Channels {
			out[ch.Number] = ch.Counters
		}
		return out
	}
	waitFor := func(what string, cond func(map[uint16]map[string]uint64) bool) map[uint16]map[string]uint64 {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; {
			k := counters()
			if cond(k) {
				return k
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never happened; counters %v\n%s", what, k, p.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("every channel storing", func(k map[uint16]map[string]uint64) bool {
		return k[202]["stored"] > 0 && k[204]["stored"] > 0 && k[207]["stored"] > 0
	})

	// SIGHUP: channel 207 is now dropped, in the kernel.
	write(strings.Replace(channels, "number = 207\n", "number = 207\nrules = { action = \"drop\" }\n", 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if n := nextNote(); !strings.HasPrefix(n, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("notification on SIGHUP %q, want RELOADING=1 with MONOTONIC_USEC", n)
	}
	if n := nextNote(); !strings.HasPrefix(n, "READY=1\nSTATUS=capturing 3 channels") {
		t.Errorf("notification after the reload %q, want READY=1 and a STATUS", n)
	}
	before := waitFor("the reloaded rule in the kernel", func(k map[uint16]map[string]uint64) bool { return k[207]["kernel_dropped_packets"] > 0 })
	rs, err := c.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Channels {
		if r.Channel == 207 && r.Action != "drop" {
			t.Errorf("rules after SIGHUP: channel 207 %s, want drop", r.Action)
		}
	}
	// The capture went on through the reload.
	reported := waitFor("capture going on after the reload", func(k map[uint16]map[string]uint64) bool {
		return k[202]["captured"] > before[202]["captured"] && k[204]["captured"] > before[204]["captured"]
	})

	// SIGTERM with the feed still running.
	select {
	case err := <-fed:
		t.Fatalf("the feed ended before SIGTERM: %v", err)
	default:
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 10*time.Second)
	took := time.Since(start)
	if n := nextNote(); n != "STOPPING=1" {
		t.Errorf("notification on SIGTERM %q, want STOPPING=1", n)
	}
	stopFeed()
	if err := <-fed; err != nil {
		t.Errorf("feed: %v", err)
	}
	t.Logf("exit %d %v after SIGTERM", code, took.Round(time.Millisecond))
	if code != 0 || took > 5*time.Second {
		t.Fatalf("daemon exited %d after %v, want 0 within 5s; its log:\n%s", code, took, p.stderr)
	}

	// What the daemon logged as stored once the spool was sealed.
	drained := regexp.MustCompile(`msg="channel drained" channel=(\d+) .*stored=(\d+) lost=(\d+)`)
	final := map[uint16]uint64{}
	for _, m := range drained.FindAllStringSubmatch(p.stderr.String(), -1) {
		ch, _ := strconv.Atoi(m[1])
		n, _ := strconv.ParseUint(m[2], 10, 64)
		final[uint16(ch)] = n
		if m[3] != "0" {
			t.Errorf("channel %s lost %s payloads", m[1], m[3])
		}
	}
	t.Logf("stored at exit %v; reported before SIGTERM 202:%d 204:%d 207:%d", final, reported[202]["stored"], reported[204]["stored"], reported[207]["stored"])
	if len(final) != 3 {
		t.Fatalf("the log has drained counters of %d channels, want 3:\n%s", len(final), p.stderr)
	}
	if out, errs, code := siecap(t, nil, "spool", "verify", "--spool", spoolDir); code != 0 {
		t.Errorf("spool verify: exit %d:\n%s%s", code, out, errs)
	}
	spooled := spooledPayloads(t, spoolDir)
	for ch, n := range final {
		if n < reported[ch]["stored"] {
			t.Errorf("channel %d: %d stored at exit, fewer than the %d reported durable before", ch, n, reported[ch]["stored"])
		}
		out, errs, code := siecap(t, nil, "spool", "export", "--spool", spoolDir, "--channel", strconv.Itoa(int(ch)))
		if lines := uint64(strings.Count(out, "\n")); code != 0 || lines != n || spooled[uint32(ch)] != n {
			t.Errorf("channel %d: the daemon stored %d, the spool holds %d, export wrote %d lines (exit %d, %s)", ch, n, spooled[uint32(ch)], lines, code, errs)
		}
	}
}

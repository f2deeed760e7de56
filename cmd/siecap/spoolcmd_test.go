package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/lab/synth"
)

// TestDaemonSpoolCommands runs spool ls and spool export against a running
// daemon (through --addr and $SIECAP_ADDR) and offline (--spool) on the
// same spool: the outputs must be the same, byte for byte.
func TestDaemonSpoolCommands(t *testing.T) {
	p := vethPair(t, 9000, 11)
	dir := t.TempDir()
	spoolDir, sock := filepath.Join(dir, "spool"), filepath.Join(dir, "siecap.sock")
	cfg := daemonConfig(p.B.Link, dir, `[[channel]]
number = 11
vlan = 0
addresses = ["198.18.11.2/8430"]
dedupe = "none"
[[channel]]
number = 12
vlan = 0
addresses = ["198.18.11.2/8431"]
`)
	d, err := startDaemon(t, p.B.NS, cfg)
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	sender := newUDPSender(t, p.A.NS, p.A.Addr.Addr())
	sender.send(netip.MustParseAddrPort("198.18.11.2:8430"), generate(400, synth.NewNewDomain(11, 1764115200)), 0, false)
	repeats := synth.NewDedupe(12, 1764115200)
	repeats.RepeatShare = 0.5
	sender.send(netip.MustParseAddrPort("198.18.11.2:8431"), generate(400, repeats), 0, false)
	waitCounters(t, "stored", direct(d), map[uint16]map[string]uint64{11: {"stored": 400}, 12: {"captured": 400}})
	// Channel 12's payloads are stored (durable a commit later) or deduped.
	for deadline := time.Now().Add(30 * time.Second); ; {
		k := d.Channels().Channels[1].Counters
		if k["stored"]+k["deduped"] == 400 && k["deduped"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel 12: %v, want 400 payloads stored or deduped, some deduped", k)
		}
		time.Sleep(50 * time.Millisecond)
	}

	cli := func(args ...string) string {
		t.Helper()
		out, errs, code := siecap(t, nil, args...)
		if code != 0 {
			t.Fatalf("siecap %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	outFile := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The exports, through the daemon.
	exports := [][]string{
		{"--channel", "11"},
		{"--channel", "11", "--format", "nmsg", "-o", filepath.Join(dir, "api.nmsg")},
		{"--channel", "12", "--with-counts"},
		{"--channel", "11", "--from", "1764115200", "--to", "1764115200.5"},
	}
	live := make([]string, len(exports))
	for i, args := range exports {
		live[i] = cli(append([]string{"spool", "export", "--addr", sock}, args...)...)
	}
	live[1] = outFile("api.nmsg")
	if n := strings.Count(live[0], "\n"); n != 400 || !strings.Contains(live[2], `"duplicates":`) {
		t.Errorf("export through the daemon: %d lines of channel 11, want 400; with counts: %.200q", n, live[2])
	}
	if n := strings.Count(live[3], "\n"); n == 0 || n >= 400 {
		t.Errorf("export of half a second: %d lines, want some of the 400", n)
	}
	ls := cli("spool", "ls", "--addr", sock)
	if !strings.Contains(ls, "SEGMENT") || !strings.Contains(ls, "open") {
		t.Errorf("spool ls through the daemon:\n%s", ls)
	}
	t.Setenv("SIECAP_ADDR", sock)
	if got := cli("spool", "ls"); got != ls {
		t.Errorf("spool ls through $SIECAP_ADDR:\n%s\nwant\n%s", got, ls)
	}
	if out, errs, code := siecap(t, nil, "spool", "ls", "--addr", filepath.Join(dir, "none.sock")); code != 1 || !strings.Contains(errs, "--spool DIR reads a spool directory offline") {
		t.Errorf("spool ls with no daemon: exit %d, %q %q", code, out, errs)
	}
	if _, errs, code := siecap(t, nil, "spool", "ls", "--addr", sock, "--spool", spoolDir); code != 2 {
		t.Errorf("spool ls --addr --spool: exit %d, want 2: %s", code, errs)
	}
	if _, errs, code := siecap(t, nil, "spool", "export", "--channel", "13"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("export of an unconfigured channel: exit %d: %s", code, errs)
	}

	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	// Offline, the same data. Counts of duplicates still inside their
	// dedupe window were written only when the daemon stopped: the export
	// with counts is compared with a restarted daemon's below.
	offline := make([]string, len(exports))
	for i, args := range exports {
		if i == 1 {
			args = append(args[:len(args)-1:len(args)-1], filepath.Join(dir, "offline.nmsg"))
		}
		offline[i] = cli(append([]string{"spool", "export", "--spool", spoolDir}, args...)...)
		if i == 1 {
			offline[i] = outFile("offline.nmsg")
		}
		if i != 2 && offline[i] != live[i] {
			t.Errorf("spool export %v: offline and through the daemon differ:\n%.300q\n%.300q", args, offline[i], live[i])
		}
	}
	// A daemon restarted on the sealed spool exports and lists it as the
	// offline commands do once it has stopped again.
	d, err = startDaemon(t, p.B.NS, cfg)
	if err != nil {
		t.Fatalf("restart daemon: %v", err)
	}
	for i, args := range exports {
		got := cli(append([]string{"spool", "export"}, args...)...)
		if i == 1 {
			got = outFile("api.nmsg")
		}
		if got != offline[i] {
			t.Errorf("spool export %v: offline and through the restarted daemon differ:\n%.300q\n%.300q", args, offline[i], got)
		}
	}
	lsLive, lsJSON := cli("spool", "ls"), cli("spool", "ls", "--format", "json")
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if got := cli("spool", "ls", "--spool", spoolDir); got != lsLive || !strings.Contains(got, "sealed") {
		t.Errorf("spool ls offline:\n%s\nthrough the daemon:\n%s", got, lsLive)
	}
	if got := cli("spool", "ls", "--spool", spoolDir, "--format", "json"); got != lsJSON || !strings.Contains(got, `"segments": [`) {
		t.Errorf("spool ls --format json offline:\n%s\nthrough the daemon:\n%s", got, lsJSON)
	}
}

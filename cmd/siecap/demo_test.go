package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/spool"
)

var demoSummary = regexp.MustCompile(`^demo: sent (\d+) payloads, kernel-dropped (\d+), filtered (\d+), stored (\d+), deduped (\d+), lost (\d+)$`)

// TestDemo runs the demo as make demo does, shortened to 15 s: the real
// binary (built without the race detector, as make build builds it), a
// lab, siecap run --builtin, siecap gen and siecap top. Its last line must
// reconcile every payload sent with nothing lost, what it stored must be
// exported again by siecap spool export, and nothing of the lab or its
// processes may be left.
func TestDemo(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw, testutil.CapBPF)
	dir := t.TempDir()
	bin := filepath.Join(dir, "siecap")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build siecap: %v\n%s", err, out)
	}
	prefix := lab.UniquePrefix()
	t.Cleanup(func() {
		// Only after a failure is there anything to remove.
		if removed, _ := lab.Down(prefix, filepath.Join(dir, "work")); len(removed) > 0 {
			t.Errorf("the demo left %v", removed)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "--seconds", "15", "--prefix", prefix, "--dir", dir, "--keep")
	cmd.Env = append(os.Environ(), "DEMO_SECONDS=1") // the flag wins
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String()
	if err != nil {
		t.Fatalf("siecap demo: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	m := demoSummary.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("last line %q is not the summary\n%s", lines[len(lines)-1], out)
	}
	var f [6]uint64
	for i := range f {
		f[i], _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	sent, kdropped, filtered, stored, deduped, lost := f[0], f[1], f[2], f[3], f[4], f[5]
	if sent != kdropped+filtered+stored+deduped+lost {
		t.Errorf("%s: does not add up", lines[len(lines)-1])
	}
	if lost != 0 {
		t.Errorf("lost %d payloads\n%s", lost, out)
	}
	// Each of the configuration's effects is visible: a channel dropped in
	// the kernel, one filtered, dedupe at work.
	if sent == 0 || kdropped == 0 || filtered == 0 || deduped == 0 || stored == 0 {
		t.Errorf("a figure is zero: %s", lines[len(lines)-1])
	}
	if top := strings.Count(out, " channel 208 kdrop="); top < 10 {
		t.Errorf("siecap top printed %d lines for 15 s, want one a second", top)
	}

	// Stored data is readable: the spool holds what the summary says, and
	// siecap spool export writes every payload of the filtered channel
	// and none of the type filtered out.
	km := regexp.MustCompile(`work directory kept: (\S+) `).FindStringSubmatch(out)
	if km == nil {
		t.Fatalf("no kept work directory in\n%s", out)
	}
	spoolDir := filepath.Join(km[1], "spool")
	r, err := spool.OpenReader(spoolDir)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := r.Segments()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	perChannel := map[uint32]uint64{}
	var total uint64
	for _, s := range segs {
		if s.State != spool.StateSealed {
			t.Errorf("segment %s is %s after the demo", s.ID, s.State)
		}
		perChannel[s.ID.Channel] += s.Payloads
		total += s.Payloads
	}
	if total != stored {
		t.Errorf("spool holds %d payloads, the summary says %d stored", total, stored)
	}
	exp := exec.CommandContext(ctx, bin, "spool", "export", "--spool", spoolDir, "--channel", "204")
	pipe, err := exp.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	exp.Stderr = &stderr
	if err := exp.Start(); err != nil {
		t.Fatal(err)
	}
	var exported, newdomain uint64
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		exported++
		if strings.Contains(sc.Text(), `"mname":"newdomain"`) {
			newdomain++
		}
	}
	if err := exp.Wait(); err != nil {
		t.Fatalf("spool export: %v\n%s", err, stderr.String())
	}
	if exported != perChannel[204] || exported == 0 || newdomain != 0 {
		t.Errorf("spool export of channel 204: %d payloads (%d newdomain), spool holds %d", exported, newdomain, perChannel[204])
	}

	// Nothing is left: no namespace of the lab, no process of the demo.
	st, err := lab.StatusOf(prefix, filepath.Join(km[1], "lab"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Exists() {
		t.Errorf("lab %s still exists: %+v", prefix, st)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(km[1])) {
			t.Errorf("process %s still runs: %q", filepath.Dir(p), bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

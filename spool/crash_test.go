package spool

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test re-executes the test binary as a writer process (selected
// by this variable, which holds the spool directory) and kills it.
const (
	childDirEnv = "SIECAP_SPOOL_TEST_WRITER_DIR"
	childRunEnv = "SIECAP_SPOOL_TEST_WRITER_RUN"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	if dir := os.Getenv(fillDirEnv); dir != "" {
		os.Exit(fillChild(dir))
	}
	os.Exit(m.Run())
}

func crashOptions() Options {
	o := testOptions()
	o.CommitInterval = 3 * time.Millisecond
	o.SegmentBytes = 1 << 20
	o.MaxBytes = 16 << 20
	return o
}

// crashChild is the writer process: it appends records on channels 1 and 2
// and prints "D ch n segment offset" for each as soon as it is durable,
// until it is killed.
func crashChild(dir string) int {
	run, _ := strconv.ParseUint(os.Getenv(childRunEnv), 10, 32)
	s, err := Open(dir, crashOptions())
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 3
	}
	type pending struct {
		n  uint64
		tk Ticket
	}
	q := make(chan pending, 1<<16)
	go func() {
		for p := range q {
			if err := s.WaitDurable(context.Background(), p.tk); err != nil {
				fmt.Fprintln(os.Stderr, "child wait:", err)
				os.Exit(4)
			}
			// unbuffered: the line is in the pipe before the next wait
			fmt.Fprintf(os.Stdout, "D %d %d %s %d\n", p.tk.Channel, p.n, p.tk.Segment, p.tk.Offset)
		}
	}()
	rng := rand.New(rand.NewPCG(run, 1))
	for i := uint64(1); ; i++ {
		ch := uint32(1 + i%2)
		n := run<<32 | i
		size := 256 + rng.IntN(16<<10)
		tk, err := s.Append(ch, testRecord(ch, n, size))
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			return 5
		}
		q <- pending{n, tk}
		time.Sleep(100 * time.Microsecond) // tens of MB/s: several batches always in flight
	}
}

type durableRec struct {
	seg SegmentID
	off int64
}

// TestCrashSafety kills a writer process with SIGKILL at random moments
// (during recovery, while appending, while sealing and evicting) and checks
// after every kill that each record it reported durable is present and
// intact (or its segment's eviction is in the loss ledger), that no record
// read back is damaged, and that nothing was quarantined.
func TestCrashSafety(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	dir := t.TempDir()
	durable := map[[2]uint64]durableRec{} // (channel, n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var recovered RecoveryReport
	for run := 1; run <= kills; run++ {
		got := crashRun(t, dir, run, rng)
		for k, v := range got {
			durable[k] = v
		}
		rep, err := Verify(dir)
		if err != nil {
			t.Fatalf("run %d: verify: %v", run, err)
		}
		if rep.Damaged() {
			t.Fatalf("run %d: verify found damage after SIGKILL: %v", run, rep.Findings)
		}
		s := openTest(t, dir, crashOptions())
		r := s.Recovery()
		recovered.Resealed += r.Resealed
		recovered.Truncated += r.Truncated
		recovered.TruncatedBytes += r.TruncatedBytes
		if r.Quarantined != 0 {
			t.Fatalf("run %d: recovery quarantined %d segments after SIGKILL", run, r.Quarantined)
		}
		evicted := map[SegmentID]bool{}
		losses, err := s.Losses()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range losses {
			if e.Reason == LossCorrupt {
				t.Fatalf("run %d: corruption in the ledger: %+v", run, e)
			}
			evicted[e.Segment] = true
		}
		present := map[[2]uint64]SegmentID{}
		for _, ch := range []uint32{1, 2} {
			for n, seg := range readAll(t, s.Records(ch, time.Time{}, time.Time{})) {
				present[[2]uint64{uint64(ch), n}] = seg
			}
		}
		for k, d := range durable {
			seg, ok := present[k]
			switch {
			case ok && seg != d.seg:
				t.Fatalf("run %d: record %v reported in %s, found in %s", run, k, d.seg, seg)
			case !ok && !evicted[d.seg]:
				t.Fatalf("run %d: record %v reported durable in %s at %d is missing and its segment was not evicted",
					run, k, d.seg, d.off)
			case !ok:
				delete(durable, k)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kills: %d durable records checked at the end; recoveries resealed %d segments, cut %d torn tails (%d bytes)",
		kills, len(durable), recovered.Resealed, recovered.Truncated, recovered.TruncatedBytes)
}

// crashRun starts one writer process, kills it, and returns what it
// reported durable.
func crashRun(t *testing.T, dir string, run int, rng *rand.Rand) map[[2]uint64]durableRec {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, fmt.Sprintf("%s=%d", childRunEnv, run))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[[2]uint64]durableRec{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(out)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return // a line cut by the kill was never complete: ignore it
			}
			var ch, n uint64
			var seg string
			var off int64
			if _, err := fmt.Sscanf(line, "D %d %d %s %d\n", &ch, &n, &seg, &off); err != nil {
				continue
			}
			id, err := ParseSegmentID(seg)
			if err != nil {
				continue
			}
			mu.Lock()
			got[[2]uint64{ch, n}] = durableRec{id, off}
			mu.Unlock()
		}
	}()
	if rng.IntN(5) == 0 {
		// early: often while the child is still recovering or creating segments
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	} else {
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			k := len(got)
			mu.Unlock()
			if k > 0 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("run %d: writer reported nothing durable: %s", run, stderr.String())
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-done
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("run %d: writer exited by itself (%v): %s", run, err, stderr.String())
	}
	return got
}

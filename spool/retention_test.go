package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBudgetEviction fills a byte budget: the oldest whole sealed segments
// go, each with a ledger entry whose counts and time range are those of the
// records that went, and every record is either readable or accounted for.
func TestBudgetEviction(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.SegmentBytes = 128 << 10
	o.MaxBytes = 1 << 20
	s := openTest(t, dir, o)
	const total = 500 // ~4 MiB
	for i := uint64(1); i <= total; i++ {
		if _, err := s.Append(1, testRecord(1, i, 8000)); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			syncTest(t, s)
		}
	}
	syncTest(t, s)
	// retention runs on the committer right after the batch it follows
	waitFor(t, 5*time.Second, "the spool to shrink to its budget", func() bool {
		var size int64
		for _, g := range s.segmentList() {
			size += g.Bytes
		}
		return size <= o.MaxBytes
	})
	if err := s.Close(); err != nil { // waits for the committer
		t.Fatal(err)
	}
	st := s.Stats()
	losses, err := ReadLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) == 0 {
		t.Fatal("no evictions in the ledger")
	}
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readAll(t, r.Records(1, time.Time{}, time.Time{}))
	var lostRecords uint64
	for _, e := range losses {
		if e.Reason != LossBudget || e.Segment.Channel != 1 || e.Bytes <= 0 {
			t.Fatalf("ledger entry %+v", e)
		}
		if _, err := os.Stat(filepath.Join(dir, e.Segment.fileName())); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("evicted segment %s still on disk", e.Segment)
		}
		lostRecords += e.Records
		for n := uint64(1); n <= total; n++ { // the range covers exactly missing records
			rec := testRecord(1, n, 0)
			in := !rec.First.Before(e.First) && !rec.Last.After(e.Last)
			if _, ok := got[n]; in && ok {
				t.Fatalf("record %d is readable but inside evicted range %v..%v", n, e.First, e.Last)
			}
		}
	}
	if lostRecords+uint64(len(got)) != total {
		t.Fatalf("%d records evicted + %d readable != %d appended", lostRecords, len(got), total)
	}
	for n := uint64(total - 50); n <= total; n++ {
		if _, ok := got[n]; !ok {
			t.Fatalf("recent record %d evicted", n)
		}
	}
	if st.Evicted != uint64(len(losses)) {
		t.Fatalf("stats %+v, ledger %d entries", st, len(losses))
	}
}

func TestAgeEviction(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.MaxAge = 50 * time.Millisecond
	s := openTest(t, dir, o)
	defer s.Close()
	tk, err := s.Append(4, testRecord(4, 1, 100))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Seal(context.Background(), 4); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "age eviction", func() bool {
		_, _, err := s.DurableOffset(tk.Segment)
		return errors.Is(err, ErrNotFound)
	})
	losses, err := s.Losses()
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 1 || losses[0].Reason != LossAge || losses[0].Segment != tk.Segment || losses[0].Records != 1 {
		t.Fatalf("ledger: %+v", losses)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skip("mounting a tmpfs needs CAP_SYS_ADMIN")
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount tmpfs: %v", err)
		}
	})
	return dir
}

// TestNoSpace writes far more than a 2 MiB tmpfs holds: each ENOSPC evicts
// the oldest sealed segment into the ledger and the batch is retried, so no
// append fails; the newest records are readable.
func TestNoSpace(t *testing.T) {
	dir := filepath.Join(mountTmpfs(t, "2m"), "spool")
	o := testOptions()
	o.SegmentBytes = 256 << 10
	s := openTest(t, dir, o)
	defer s.Close()
	const total = 300 // ~9.6 MiB
	for i := uint64(1); i <= total; i++ {
		if _, err := s.Append(1, testRecord(1, i, 32<<10)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if i%16 == 0 {
			syncTest(t, s)
		}
	}
	syncTest(t, s)
	st := s.Stats()
	losses, err := s.Losses()
	if err != nil {
		t.Fatal(err)
	}
	if st.NoSpaceRetries == 0 || len(losses) == 0 {
		t.Fatalf("no ENOSPC eviction: stats %+v, %d ledger entries", st, len(losses))
	}
	var lost uint64
	for _, e := range losses {
		if e.Reason != LossNoSpace {
			t.Fatalf("ledger entry %+v", e)
		}
		lost += e.Records
	}
	got := readAll(t, s.Records(1, time.Time{}, time.Time{}))
	if lost+uint64(len(got)) != total {
		t.Fatalf("%d evicted + %d readable != %d", lost, len(got), total)
	}
	if _, ok := got[total]; !ok {
		t.Fatal("last record missing")
	}
}

// TestNoSpaceNothingToEvict fills a tmpfs with one open segment: with
// nothing sealed to evict the writer stops with a sticky ENOSPC error, and
// what it reported durable survives a reopen.
func TestNoSpaceNothingToEvict(t *testing.T) {
	dir := filepath.Join(mountTmpfs(t, "2m"), "spool")
	o := testOptions()
	s := openTest(t, dir, o)
	var last Ticket
	var err error
	for i := uint64(1); i <= 200; i++ {
		var tk Ticket
		if tk, err = s.Append(1, testRecord(1, i, 32<<10)); err != nil {
			break
		}
		if err = s.WaitDurable(context.Background(), tk); err != nil {
			break
		}
		last = tk
	}
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(s.Err(), syscall.ENOSPC) {
		t.Fatalf("writer error %v, sticky %v: want ENOSPC", err, s.Err())
	}
	if _, err := s.Append(1, testRecord(1, 999, 10)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append after stop: %v", err)
	}
	if err := s.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("close: %v", err)
	}
	s = openTest(t, dir, o)
	defer s.Close()
	got := readAll(t, s.Records(1, time.Time{}, time.Time{}))
	if uint64(len(got)) != last.LSN {
		t.Fatalf("after reopen %d records, %d were durable", len(got), last.LSN)
	}
}

package spool

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestAppendReadBack(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.SegmentBytes = 256 << 10
	s := openTest(t, dir, o)
	const n = 200
	var tickets []Ticket
	for i := uint64(1); i <= n; i++ {
		for _, ch := range []uint32{1, 2} {
			tk, err := s.Append(ch, testRecord(ch, i, 1000+int(i)*37))
			if err != nil {
				t.Fatal(err)
			}
			if ch == 1 {
				tickets = append(tickets, tk)
			}
		}
	}
	ctx := context.Background()
	if err := s.WaitDurable(ctx, tickets[len(tickets)-1]); err != nil {
		t.Fatal(err)
	}
	syncTest(t, s)
	if got := s.DurableLSN(1); got != n {
		t.Fatalf("durable LSN %d, want %d", got, n)
	}
	// every ticket's record is at its offset, readable by (segment, offset)
	for _, tk := range tickets {
		r, err := s.OpenSegment(tk.Segment)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, tk.Len)
		if _, err := r.ReadAt(b, tk.Offset); err != nil {
			t.Fatalf("read %s at %d: %v", tk.Segment, tk.Offset, err)
		}
		rec, k, err := ParseRecord(b)
		if err != nil || int64(k) != tk.Len {
			t.Fatalf("parse record at %s/%d: %v", tk.Segment, tk.Offset, err)
		}
		if _, m, err := checkRecord(&rec); err != nil || m != tk.LSN {
			t.Fatalf("record at %s/%d: %v (n %d, lsn %d)", tk.Segment, tk.Offset, err, m, tk.LSN)
		}
		r.Close()
	}
	if got := readAll(t, s.Records(1, time.Time{}, time.Time{})); len(got) != n {
		t.Fatalf("channel 1: %d records, want %d", len(got), n)
	}
	// time range [50ms, 60ms) covers records 50..59 (each spans n ms .. n ms + 0.5 ms)
	got := readAll(t, s.Records(2, testBase.Add(50*time.Millisecond), testBase.Add(60*time.Millisecond)))
	if len(got) != 10 || got[50] == (SegmentID{}) || got[59] == (SegmentID{}) {
		t.Fatalf("time range: %d records %v", len(got), got)
	}
	segs, err := s.Segments()
	if err != nil {
		t.Fatal(err)
	}
	var sealed, open int
	for _, g := range segs {
		switch g.State {
		case StateSealed:
			sealed++
		case StateOpen:
			open++
		}
	}
	if sealed == 0 || open != 2 {
		t.Fatalf("segments: %d sealed, %d open, want some sealed and 2 open", sealed, open)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(1, testRecord(1, 1, 10)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	// reopen: all sealed, nothing rescanned, sequence numbers continue
	s = openTest(t, dir, o)
	if rep := s.Recovery(); rep.Scanned != 0 || rep.Quarantined != 0 {
		t.Fatalf("recovery after clean close: %+v", rep)
	}
	tk, err := s.Append(1, testRecord(1, n+1, 100))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range segs {
		if g.ID.Channel == 1 && g.ID.Seq >= tk.Segment.Seq {
			t.Fatalf("new segment %s reuses a sequence number (%s exists)", tk.Segment, g.ID)
		}
	}
	syncTest(t, s)
	if got := readAll(t, s.Records(1, time.Time{}, time.Time{})); len(got) != n+1 {
		t.Fatalf("after reopen: %d records", len(got))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 || rep.Open != 0 || rep.Records != 2*n+1 {
		t.Fatalf("verify: %+v", rep)
	}
}

func TestLocking(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	if _, err := Open(dir, testOptions()); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
	if _, err := OpenReader(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("reader beside writer: %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r1, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenReader(dir)
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	if _, err := Open(dir, testOptions()); !errors.Is(err, ErrLocked) {
		t.Fatalf("writer beside readers: %v, want ErrLocked", err)
	}
	r1.Close()
	r2.Close()
	s = openTest(t, dir, testOptions())
	s.Close()
}

// TestReadWhileOpen reads an open segment by offset up to its durable length
// while records keep arriving, as replication does.
func TestReadWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	defer s.Close()
	tk, err := s.Append(3, testRecord(3, 1, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDurable(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenSegment(tk.Segment)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var copied int64
	buf := make([]byte, 4096)
	it := s.Records(3, time.Time{}, time.Time{})
	defer it.Close()
	seen := 0
	for i := uint64(2); i <= 100; i++ {
		if _, err := s.Append(3, testRecord(3, i, 3000)); err != nil {
			t.Fatal(err)
		}
		size, st, err := r.Size()
		if err != nil || st != StateOpen {
			t.Fatalf("size: %v %v", st, err)
		}
		for copied < size {
			k, err := r.ReadAt(buf, copied)
			copied += int64(k)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
		}
		if k, err := r.ReadAt(buf, copied); k != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("read past durable length: %d %v", k, err)
		}
		for it.Next() {
			if _, _, err := checkRecord(it.Record()); err != nil {
				t.Fatal(err)
			}
			seen++
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	syncTest(t, s)
	for it.Next() {
		seen++
	}
	if seen != 100 {
		t.Fatalf("follower saw %d records, want 100", seen)
	}
}

func TestAgeSeal(t *testing.T) {
	dir := t.TempDir()
	o := testOptions()
	o.SegmentAge = 40 * time.Millisecond
	s := openTest(t, dir, o)
	defer s.Close()
	tk, err := s.Append(1, testRecord(1, 1, 100))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "age seal", func() bool {
		_, st, err := s.DurableOffset(tk.Segment)
		return err == nil && st == StateSealed
	})
	tk2, err := s.Append(1, testRecord(1, 2, 100))
	if err != nil {
		t.Fatal(err)
	}
	if tk2.Segment.Seq <= tk.Segment.Seq {
		t.Fatalf("append after seal went to %s", tk2.Segment)
	}
}

func TestTempFileRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	s.Close()
	tmp := filepath.Join(dir, SegmentID{Node: 7, Channel: 1, Seq: 1}.fileName()+tmpExt)
	if err := os.WriteFile(tmp, encodeHeader(SegmentID{Node: 7, Channel: 1, Seq: 1}, time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, testOptions())
	defer s.Close()
	if s.Recovery().TempRemoved != 1 {
		t.Fatalf("recovery: %+v", s.Recovery())
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left: %v", err)
	}
}

// TestGroupCommit: records are durable (and only then reported) once
// CommitBytes are pending, or CommitInterval after they were appended,
// without any Sync.
func TestGroupCommit(t *testing.T) {
	o := testOptions()
	o.CommitInterval = time.Hour
	o.CommitBytes = 64 << 10
	s := openTest(t, t.TempDir(), o)
	defer s.Close()
	var tk Ticket
	var err error
	for i := uint64(1); i*10<<10 < 64<<10; i++ {
		if tk, err = s.Append(1, testRecord(1, i, 10<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if s.DurableLSN(1) != 0 {
		t.Fatal("records reported durable before any commit")
	}
	if _, _, err := s.DurableOffset(tk.Segment); !errors.Is(err, ErrNotFound) {
		t.Fatalf("segment visible before its first commit: %v", err)
	}
	if tk, err = s.Append(1, testRecord(1, tk.LSN+1, 10<<10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "commit at CommitBytes", func() bool { return s.DurableLSN(1) == tk.LSN })
	if n, st, err := s.DurableOffset(tk.Segment); err != nil || st != StateOpen || n != tk.Offset+tk.Len {
		t.Fatalf("durable offset %d %v %v, want %d", n, st, err, tk.Offset+tk.Len)
	}

	o.CommitInterval = 20 * time.Millisecond
	o.CommitBytes = 1 << 30
	s2 := openTest(t, t.TempDir(), o)
	defer s2.Close()
	tk, err = s2.Append(2, testRecord(2, 1, 100))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s2.WaitDurable(ctx, tk); err != nil {
		t.Fatalf("commit at CommitInterval: %v", err)
	}
}

// TestAppendAllocs: in steady state Append reuses frame buffers and queue
// arrays, so it does not allocate.
func TestAppendAllocs(t *testing.T) {
	s := openTest(t, t.TempDir(), testOptions())
	defer s.Close()
	rec := testRecord(1, 1, 4096)
	for i := 0; i < 2000; i++ {
		if _, err := s.Append(1, rec); err != nil {
			t.Fatal(err)
		}
	}
	syncTest(t, s)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Append(1, rec); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocates %.2f times per record", allocs)
	}
}

// TestConcurrentAppend: several goroutines (the pipeline's shards) append to
// the same channels at once; every ticket is unique, LSN order is offset
// order within a segment, and every record reads back intact.
func TestConcurrentAppend(t *testing.T) {
	o := testOptions()
	o.SegmentBytes = 512 << 10
	s := openTest(t, t.TempDir(), o)
	defer s.Close()
	const workers, each = 4, 300
	tickets := make(chan Ticket, workers*each)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				n := uint64(w*each + i + 1)
				ch := uint32(1 + n%2)
				tk, err := s.Append(ch, testRecord(ch, n, 500+int(n%1000)))
				if err != nil {
					errs <- err
					return
				}
				tickets <- tk
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(tickets)
	syncTest(t, s)
	type key struct {
		seg SegmentID
		off int64
	}
	seen := map[key]bool{}
	byLSN := map[uint32]map[uint64]Ticket{1: {}, 2: {}}
	for tk := range tickets {
		k := key{tk.Segment, tk.Offset}
		if seen[k] || byLSN[tk.Channel][tk.LSN] != (Ticket{}) {
			t.Fatalf("ticket %+v issued twice", tk)
		}
		seen[k] = true
		byLSN[tk.Channel][tk.LSN] = tk
	}
	for ch, m := range byLSN {
		for l := uint64(2); l <= uint64(len(m)); l++ {
			a, b := m[l-1], m[l]
			if a.Segment == b.Segment && a.Offset+a.Len != b.Offset || a.Segment.Seq > b.Segment.Seq {
				t.Fatalf("channel %d: LSN %d at %s/%d does not follow %s/%d", ch, l, b.Segment, b.Offset, a.Segment, a.Offset)
			}
		}
		if got := readAll(t, s.Records(ch, time.Time{}, time.Time{})); len(got) != len(m) {
			t.Fatalf("channel %d: %d records read, %d appended", ch, len(got), len(m))
		}
	}
}

package spool

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

var testBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// testRecord builds record n of channel ch: its metadata names it and its
// data is derived from (ch, n), so any reader can check it is intact.
func testRecord(ch uint32, n uint64, size int) Record {
	meta := make([]byte, 16)
	binary.LittleEndian.PutUint32(meta, ch)
	binary.LittleEndian.PutUint32(meta[4:], uint32(size))
	binary.LittleEndian.PutUint64(meta[8:], n)
	return Record{
		First:    testBase.Add(time.Duration(n) * time.Millisecond),
		Last:     testBase.Add(time.Duration(n)*time.Millisecond + 500*time.Microsecond),
		Payloads: uint32(n%7 + 1),
		Meta:     meta,
		Data:     testData(ch, n, size),
	}
}

func testData(ch uint32, n uint64, size int) []byte {
	r := rand.New(rand.NewPCG(uint64(ch), n))
	b := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := size &^ 7; i < size; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// checkRecord verifies a record read back against the one testRecord made.
func checkRecord(r *Record) (ch uint32, n uint64, err error) {
	if len(r.Meta) != 16 {
		return 0, 0, fmt.Errorf("meta of %d bytes", len(r.Meta))
	}
	ch = binary.LittleEndian.Uint32(r.Meta)
	size := int(binary.LittleEndian.Uint32(r.Meta[4:]))
	n = binary.LittleEndian.Uint64(r.Meta[8:])
	want := testRecord(ch, n, size)
	if !bytes.Equal(r.Data, want.Data) || !r.First.Equal(want.First) || !r.Last.Equal(want.Last) || r.Payloads != want.Payloads {
		return ch, n, fmt.Errorf("record %d/%d differs from what was appended", ch, n)
	}
	return ch, n, nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions() Options {
	return Options{Node: 7, CommitInterval: 5 * time.Millisecond, Logger: quietLogger()}
}

func openTest(t testing.TB, dir string, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("open spool: %v", err)
	}
	return s
}

func syncTest(t testing.TB, s *Spool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Sync(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
}

// readAll returns the records of channel ch keyed by n, failing on any
// error or damaged record.
func readAll(t testing.TB, it *Iter) map[uint64]SegmentID {
	t.Helper()
	defer it.Close()
	got := map[uint64]SegmentID{}
	for it.Next() {
		_, n, err := checkRecord(it.Record())
		if err != nil {
			t.Fatal(err)
		}
		seg, _ := it.Position()
		if _, dup := got[n]; dup {
			t.Fatalf("record %d returned twice", n)
		}
		got[n] = seg
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return got
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

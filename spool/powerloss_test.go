package spool

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// abandon stops s the way a crash does: the committer stops after its
// current batch, nothing is sealed, files and the lock are just closed.
func (s *Spool) abandon() {
	s.mu.Lock()
	if s.err == nil {
		s.err = errors.New("abandoned")
	}
	s.signalLocked()
	s.mu.Unlock()
	s.wake()
	<-s.done
	for _, g := range s.segs {
		if g.f != nil {
			g.f.Close()
		}
	}
	s.ldg.close()
	s.lock.Close()
}

// powerLossDir writes, in dir, batches of records on channels 1 and 2 that
// are synced (returned: their numbers, and each segment's durable length
// after them), then one more batch per channel that is written but stands
// for what an fsync never covered, and abandons the writer.
func powerLossDir(t *testing.T, dir string) (synced []uint64, durable map[string]int64) {
	t.Helper()
	o := testOptions()
	o.CommitInterval = time.Hour
	o.CommitBytes = 1 << 30
	o.MaxPending = 1 << 30
	s := openTest(t, dir, o)
	n := uint64(0)
	for batch := 0; batch < 5; batch++ {
		for i := 0; i < 20; i++ {
			n++
			for _, ch := range []uint32{1, 2} {
				if _, err := s.Append(ch, testRecord(ch, n, 2000+int(n)*13)); err != nil {
					t.Fatal(err)
				}
			}
			synced = append(synced, n)
		}
		syncTest(t, s)
	}
	durable = map[string]int64{}
	for _, info := range s.segmentList() {
		durable[info.ID.fileName()] = info.Bytes
	}
	for i := 0; i < 30; i++ {
		n++
		for _, ch := range []uint32{1, 2} {
			if _, err := s.Append(ch, testRecord(ch, n, 1500+int(n)*7)); err != nil {
				t.Fatal(err)
			}
		}
	}
	syncTest(t, s) // one batch per segment: the "unsynced" tail
	s.abandon()
	return synced, durable
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPowerLoss drops or garbles everything written after the last fsync,
// in several ways, and checks that recovery keeps every synced record,
// returns nothing damaged, quarantines nothing and leaves a clean spool.
func TestPowerLoss(t *testing.T) {
	base := t.TempDir()
	synced, durable := powerLossDir(t, base)
	garble := map[string]func(b []byte, rng *rand.Rand){
		"truncate": func(b []byte, rng *rand.Rand) {},
		"flip-bytes": func(b []byte, rng *rand.Rand) {
			for i := 0; i < 8; i++ {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		},
		"lost-page": func(b []byte, rng *rand.Rand) { // a page in the middle never reached the disk
			p := rng.IntN(len(b)/4096+1) * 4096
			clear(b[p:min(p+4096, len(b))])
		},
		"random": func(b []byte, rng *rand.Rand) {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		},
		"zeros":   func(b []byte, rng *rand.Rand) { clear(b) },
		"partial": func(b []byte, rng *rand.Rand) { clear(b[rng.IntN(len(b)):]) },
	}
	for name, g := range garble {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, base, dir)
			rng := rand.New(rand.NewPCG(uint64(len(name)), 9))
			for file, l := range durable {
				path := filepath.Join(dir, file)
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(b)) <= l {
					t.Fatalf("%s: no unsynced tail (%d bytes, %d durable)", file, len(b), l)
				}
				tail := b[l:]
				if name == "truncate" {
					tail = nil
				} else {
					g(tail, rng)
				}
				if err := os.WriteFile(path, append(b[:l:l], tail...), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Verify(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Damaged() {
				t.Fatalf("verify calls a torn tail damage: %v", rep.Findings)
			}
			// offline, before recovery: the synced records, no error
			r, err := OpenReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range []uint32{1, 2} {
				got := readAll(t, r.Records(ch, time.Time{}, time.Time{}))
				for _, n := range synced {
					if _, ok := got[n]; !ok {
						t.Fatalf("offline reader: channel %d: synced record %d missing", ch, n)
					}
				}
			}
			r.Close()
			s := openTest(t, dir, testOptions())
			defer s.Close()
			if r := s.Recovery(); r.Quarantined != 0 || r.Resealed != 2 {
				t.Fatalf("recovery: %+v", r)
			}
			for _, ch := range []uint32{1, 2} {
				got := readAll(t, s.Records(ch, time.Time{}, time.Time{}))
				for _, n := range synced {
					if _, ok := got[n]; !ok {
						t.Fatalf("channel %d: synced record %d lost", ch, n)
					}
				}
			}
			losses, err := s.Losses()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range losses {
				if e.Reason != LossTorn {
					t.Fatalf("ledger entry %+v after a power loss", e)
				}
			}
		})
	}
}

// TestCorruptionQuarantined damages a record that later batches follow: that
// is corruption, not a torn tail. The segment goes to quarantine/ with a
// ledger entry, the other channel is untouched, and the spool keeps working.
func TestCorruptionQuarantined(t *testing.T) {
	dir := t.TempDir()
	synced, durable := powerLossDir(t, dir)
	var victim string
	for file := range durable {
		if id, _ := ParseSegmentID(file); id.Channel == 1 {
			victim = file
		}
	}
	path := filepath.Join(dir, victim)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// the second record of the first batch
	_, n, err := ParseRecord(b[headerSize:])
	if err != nil {
		t.Fatal(err)
	}
	bad := int64(headerSize + n)
	b[bad+frameHeaderSize+recordFixed+20] ^= 0x40
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged() || len(rep.Findings) != 1 || rep.Findings[0].Segment != victim || rep.Findings[0].Offset != bad {
		t.Fatalf("verify: %v", rep.Findings)
	}
	r, err := OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	it := r.Records(1, time.Time{}, time.Time{})
	k := 0
	for it.Next() {
		k++
	}
	var ce *CorruptError
	if !errors.As(it.Err(), &ce) || ce.Offset != bad || k != 1 {
		t.Fatalf("offline reader: %d records, err %v", k, it.Err())
	}
	it.Close()
	r.Close()

	s := openTest(t, dir, testOptions())
	defer s.Close()
	if s.Recovery().Quarantined != 1 {
		t.Fatalf("recovery: %+v", s.Recovery())
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir, victim)); err != nil {
		t.Fatalf("quarantined file: %v", err)
	}
	losses, err := s.Losses()
	if err != nil {
		t.Fatal(err)
	}
	if len(losses) != 1 || losses[0].Reason != LossCorrupt || losses[0].Segment.String()+segExt != victim ||
		losses[0].Bytes != int64(len(b)) || !strings.Contains(losses[0].Detail, "offset") {
		t.Fatalf("ledger: %+v", losses)
	}
	if got := readAll(t, s.Records(1, time.Time{}, time.Time{})); len(got) != 0 {
		t.Fatalf("channel 1 returned %d records of a quarantined segment", len(got))
	}
	got := readAll(t, s.Records(2, time.Time{}, time.Time{}))
	for _, n := range synced {
		if _, ok := got[n]; !ok {
			t.Fatalf("channel 2 lost record %d", n)
		}
	}
	segs, err := s.Segments()
	if err != nil {
		t.Fatal(err)
	}
	q := 0
	for _, g := range segs {
		if g.State == StateQuarantined {
			q++
		}
	}
	if q != 1 {
		t.Fatalf("listing shows %d quarantined segments", q)
	}
	if _, err := s.Append(1, testRecord(1, 1000, 100)); err != nil {
		t.Fatal(err)
	}
	syncTest(t, s)
}

// TestSealedCorruption damages a sealed segment: recovery trusts footers, so
// Verify and readers are what find it, at the right offset.
func TestSealedCorruption(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	for i := uint64(1); i <= 10; i++ {
		if _, err := s.Append(1, testRecord(1, i, 3000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SegmentID{Node: 7, Channel: 1, Seq: 1}.fileName())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(headerSize + 3*(frameHeaderSize+recordFixed+16+3000))
	if _, err := f.WriteAt([]byte{0xff, 0xee}, off+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rep, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged() || rep.Findings[0].Offset != off {
		t.Fatalf("verify: %v", rep.Findings)
	}
	s = openTest(t, dir, testOptions())
	defer s.Close()
	it := s.Records(1, time.Time{}, time.Time{})
	defer it.Close()
	k := 0
	for it.Next() {
		if _, _, err := checkRecord(it.Record()); err != nil {
			t.Fatal(err)
		}
		k++
	}
	var ce *CorruptError
	if k != 3 || !errors.As(it.Err(), &ce) || ce.Offset != off {
		t.Fatalf("reader: %d records, %v", k, it.Err())
	}
	// raw bytes are still exported as stored, up to the durable length
	sr, err := s.OpenSegment(SegmentID{Node: 7, Channel: 1, Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	raw, err := io.ReadAll(io.NewSectionReader(sr, 0, 1<<30))
	if err != nil || int64(len(raw)) != fileSize(t, path) {
		t.Fatalf("raw export: %d bytes, %v", len(raw), err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

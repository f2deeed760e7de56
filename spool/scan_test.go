package spool

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// buildSegment returns a segment of four records in two batches (records 1
// and 2 from offset 64, records 3 and 4 in a later batch) and its sealed
// form, plus the offsets of the records.
func buildSegment(t *testing.T) (open, sealed []byte, offs []int64) {
	t.Helper()
	seg := encodeHeader(SegmentID{Node: 1, Channel: 1, Seq: 1}, testBase)
	batch := int64(headerSize)
	var f Footer
	for i := uint64(1); i <= 4; i++ {
		if i == 3 {
			batch = int64(len(seg))
		}
		r := testRecord(1, i, int(i)*40)
		b, c := appendFrame(nil, &r)
		finishFrame(b, c, batch)
		offs = append(offs, int64(len(seg)))
		seg = append(seg, b...)
		f.Records++
		f.Payloads += uint64(r.Payloads)
		if i == 1 {
			f.First = r.First
		}
		f.Last = r.Last
	}
	f.Offset = int64(len(seg))
	f.Checksum = crc32.Checksum(seg, castagnoli)
	f.Sealed = testBase
	return seg, append(append([]byte(nil), seg...), encodeFooter(f)...), offs
}

// TestScanClassifies checks how a walk judges damage: inside the last batch
// it is a torn tail, before a later batch (or a footer) it is corruption.
func TestScanClassifies(t *testing.T) {
	open, sealed, offs := buildSegment(t)
	ft, err := ParseFooter(sealed[len(open):])
	if err != nil {
		t.Fatal(err)
	}
	ft.Checksum ^= 1
	badSum := append(append([]byte(nil), open...), encodeFooter(ft)...)
	flip := func(b []byte, at int64) []byte {
		c := append([]byte(nil), b...)
		c[at] ^= 1
		return c
	}
	cases := []struct {
		name    string
		b       []byte
		sealed  bool
		bad     int64 // -1: none
		corrupt bool
		end     int64
	}{
		{"open", open, false, -1, false, int64(len(open))},
		{"sealed", sealed, true, -1, false, int64(len(sealed))},
		{"torn-last-record", open[:len(open)-5], false, offs[3], false, offs[3]},
		{"torn-frame-header", open[:offs[3]+7], false, offs[3], false, offs[3]},
		{"bad-record-in-last-batch", flip(open, offs[2]+40), false, offs[2], false, offs[2]},
		{"bad-record-before-later-batch", flip(open, offs[1]+40), false, offs[1], true, offs[1]},
		{"bad-record-before-footer", flip(sealed, offs[3]+40), false, offs[3], true, offs[3]},
		{"torn-footer", flip(sealed, int64(len(sealed))-8), false, int64(len(open)), false, int64(len(open))},
		{"footer-checksum", badSum, false, int64(len(open)), true, int64(len(open))},
		{"junk-after-footer", append(append([]byte(nil), sealed...), 0, 0, 0), false, int64(len(open)), true, int64(len(open))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := scanSegment(bytes.NewReader(c.b), int64(len(c.b)), "x", nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.sealed != c.sealed || res.corrupt != c.corrupt {
				t.Fatalf("sealed %v corrupt %v, want %v %v (bad %v)", res.sealed, res.corrupt, c.sealed, c.corrupt, res.bad)
			}
			if c.bad < 0 {
				if res.bad != nil || res.end != c.end {
					t.Fatalf("bad %v end %d", res.bad, res.end)
				}
				return
			}
			if res.bad == nil {
				t.Fatal("damage not found")
			}
			if c.end != 0 && (res.bad.Offset != c.bad || res.end != c.end) {
				t.Fatalf("bad at %d end %d, want %d %d", res.bad.Offset, res.end, c.bad, c.end)
			}
		})
	}
}

// TestLedgerDamage garbles a ledger entry in the middle: the ledger is moved
// to quarantine and rebuilt from its readable entries plus one saying so;
// a torn last entry is just cut.
func TestLedgerDamage(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, quarantineDir), 0o755)
	var b []byte
	for i := uint64(1); i <= 3; i++ {
		b = append(b, encodeLossEntry(&LossEntry{At: testBase, Reason: LossBudget, Segment: SegmentID{Node: 7, Channel: 1, Seq: i}, Bytes: 100})...)
	}
	torn := append(append([]byte(nil), b...), encodeLossEntry(&LossEntry{Reason: LossAge})[:30]...)
	if err := os.WriteFile(filepath.Join(dir, ledgerName), torn, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir, testOptions())
	s.Close()
	if l, err := ReadLedger(dir); err != nil || len(l) != 3 || fileSize(t, filepath.Join(dir, ledgerName)) != int64(len(b)) {
		t.Fatalf("torn ledger: %d entries, %v", len(l), err)
	}
	one := len(b) / 3
	b[one+20] ^= 0xff // the second entry
	if err := os.WriteFile(filepath.Join(dir, ledgerName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir); err != nil || !rep.Damaged() || rep.Findings[0].Segment != ledgerName || rep.Findings[0].Offset != int64(one) {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	s = openTest(t, dir, testOptions())
	defer s.Close()
	l, err := s.Losses()
	if err != nil || len(l) != 3 || l[0].Segment.Seq != 1 || l[1].Segment.Seq != 3 || l[2].Reason != LossLedger {
		t.Fatalf("rebuilt ledger: %+v %v", l, err)
	}
	q, _ := os.ReadDir(filepath.Join(dir, quarantineDir))
	if len(q) != 1 || !strings.HasPrefix(q[0].Name(), "ledger-") {
		t.Fatalf("quarantine holds %v", q)
	}
	// sequence numbers stay unique: seq 3 of channel 1 was used (and evicted)
	tk, err := s.Append(1, testRecord(1, 1, 10))
	if err != nil || tk.Segment.Seq != 4 {
		t.Fatalf("new segment %v, %v", tk.Segment, err)
	}
}

// TestEvictionCompleted: a crash between the ledger entry and the unlink
// leaves the file; the next Open finishes the eviction.
func TestEvictionCompleted(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	if _, err := s.Append(1, testRecord(1, 1, 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	id := SegmentID{Node: 7, Channel: 1, Seq: 1}
	b := encodeLossEntry(&LossEntry{At: testBase, Reason: LossBudget, Segment: id, Bytes: 100})
	if err := os.WriteFile(filepath.Join(dir, ledgerName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, testOptions())
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, id.fileName())); !os.IsNotExist(err) {
		t.Fatalf("evicted segment still there: %v", err)
	}
}

func TestDecoder(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("NMSG container bytes "), 5000)
	dir := t.TempDir()
	s := openTest(t, dir, testOptions())
	defer s.Close()
	if _, err := s.Append(1, Record{Payloads: 1, Data: enc.EncodeAll(plain, nil)}); err != nil {
		t.Fatal(err)
	}
	syncTest(t, s)
	d, err := NewDecoder(0)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	it := s.Records(1, testBase, testBase.Add(1))
	defer it.Close()
	if !it.Next() {
		t.Fatalf("no record: %v", it.Err())
	}
	out, err := d.Decode(it.Record())
	if err != nil || !bytes.Equal(out, plain) {
		t.Fatalf("decode: %v", err)
	}
	if _, err := d.Decode(&Record{Data: []byte("not zstd")}); err == nil {
		t.Fatal("garbage decoded")
	}
}

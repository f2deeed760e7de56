package spool

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The parsers of segment and ledger bytes face whatever is on disk or comes
// over the wire from another blade: they must reject garbage with an error
// wrapping ErrCorrupt or ErrShort, never panic, and what they accept must
// re-encode to the same bytes.

func checkParseErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrShort) {
		t.Fatalf("error %v wraps neither ErrCorrupt nor ErrShort", err)
	}
}

func FuzzRecord(f *testing.F) {
	r := testRecord(1, 42, 100)
	b, crc := appendFrame(nil, &r)
	finishFrame(b, crc, headerSize)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, n, err := ParseRecord(b)
		if err != nil {
			checkParseErr(t, err)
			return
		}
		re, crc := appendFrame(nil, &rec)
		finishFrame(re, crc, int64(le.Uint64(b[8:])))
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("record does not re-encode to its bytes")
		}
	})
}

func FuzzFooter(f *testing.F) {
	f.Add(encodeFooter(Footer{Records: 3, Payloads: 9, First: testBase, Last: testBase.Add(time.Second),
		Sealed: testBase.Add(time.Hour), Offset: 4096, Checksum: 0xdeadbeef}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ft, err := ParseFooter(b)
		if err != nil {
			checkParseErr(t, err)
			return
		}
		if !bytes.Equal(encodeFooter(ft), b[:footerSize]) {
			t.Fatalf("footer does not re-encode to its bytes")
		}
	})
}

func FuzzHeader(f *testing.F) {
	f.Add(encodeHeader(SegmentID{Node: 1, Channel: 204, Seq: 77}, testBase))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			checkParseErr(t, err)
			return
		}
		if !bytes.Equal(encodeHeader(h.ID, h.Created), b[:headerSize]) {
			t.Fatalf("header does not re-encode to its bytes")
		}
	})
}

func FuzzLossEntry(f *testing.F) {
	f.Add(encodeLossEntry(&LossEntry{At: testBase, Reason: LossCorrupt, Segment: SegmentID{Node: 1, Channel: 2, Seq: 3},
		Bytes: 1000, Records: 4, Payloads: 40, First: testBase, Last: testBase.Add(time.Minute), Detail: "offset 64"}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, n, err := ParseLossEntry(b)
		if err != nil {
			checkParseErr(t, err)
			return
		}
		if !bytes.Equal(encodeLossEntry(&e), b[:n]) {
			t.Fatalf("ledger entry does not re-encode to its bytes")
		}
		parseLedger(b)
	})
}

// FuzzSegment walks arbitrary bytes as a segment file, as recovery, Verify
// and offline readers do: no panic, and every record it accepts is within
// the valid prefix and checks.
func FuzzSegment(f *testing.F) {
	seg := encodeHeader(SegmentID{Node: 1, Channel: 1, Seq: 1}, testBase)
	for i := uint64(1); i <= 3; i++ {
		r := testRecord(1, i, int(i)*50)
		b, crc := appendFrame(nil, &r)
		finishFrame(b, crc, headerSize)
		seg = append(seg, b...)
	}
	f.Add(seg)
	f.Fuzz(func(t *testing.T, b []byte) {
		var n uint64
		res, err := scanSegment(bytes.NewReader(b), int64(len(b)), "fuzz", func(off int64, rec *Record) error {
			n++
			if off < headerSize || off >= int64(len(b)) {
				t.Fatalf("record at offset %d", off)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scan of in-memory bytes: %v", err)
		}
		if n != res.records || res.end > int64(len(b)) {
			t.Fatalf("scan: %d visited, %+v", n, res)
		}
		if res.bad == nil && res.headerErr == nil && res.end != int64(len(b)) {
			t.Fatalf("clean scan ends at %d of %d", res.end, len(b))
		}
	})
}

package pipeline

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// stored is one payload read back from the spool, with the duplicates the
// records' metadata count for it.
type stored struct {
	nmsg.Payload
	dups uint64
}

type posKey struct {
	seg spool.SegmentID
	off int64
	idx uint32
}

// runPipeline runs cfg over what feed gives reader 0, closes everything
// and returns the stats and what the spool holds for the channel, in
// spool order.
func runPipeline(t testing.TB, cfg Config, feed func(r *Reader)) (Stats, []stored) {
	t.Helper()
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{CommitInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(sp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Reader(0)
	feed(r)
	r.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	return st, readBack(t, dir, cfg.Channel)
}

// readBack reads channel ch of the spool in dir.
func readBack(t testing.TB, dir string, ch uint32) []stored {
	t.Helper()
	counts := map[posKey]uint64{}
	var out []stored
	var where []posKey
	eachRecord(t, dir, ch, func(rec spool.Record, seg spool.SegmentID, off int64, data []byte) {
		if err := ParseCounts(rec.Meta, func(c Count) {
			counts[posKey{c.Segment, c.Offset, c.Index}] += c.Duplicates
		}); err != nil {
			t.Fatal(err)
		}
		nr := nmsg.NewReader(bytes.NewReader(data))
		n := uint32(0)
		for ; ; n++ {
			p, err := nr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("record at %s+%d: %v", seg, off, err)
			}
			out = append(out, stored{Payload: p.Clone()})
			where = append(where, posKey{seg, off, n})
		}
		if n != rec.Payloads {
			t.Fatalf("record at %s+%d holds %d payloads, says %d", seg, off, n, rec.Payloads)
		}
	})
	for i := range out {
		out[i].dups = counts[where[i]]
		delete(counts, where[i])
	}
	if len(counts) > 0 {
		t.Fatalf("%d counts point at no payload: %v", len(counts), counts)
	}
	return out
}

// eachRecord calls fn with every record of channel ch in the spool in
// dir, its position and its decompressed containers.
func eachRecord(t testing.TB, dir string, ch uint32, fn func(rec spool.Record, seg spool.SegmentID, off int64, data []byte)) {
	t.Helper()
	rd, err := spool.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	dec, err := spool.NewDecoder(0)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	it := rd.Records(ch, time.Time{}, time.Time{})
	defer it.Close()
	for it.Next() {
		rec := it.Record()
		seg, off := it.Position()
		data, err := dec.Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		fn(*rec, seg, off, data)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
}

// feedFile reads an NMSG file into r.
func feedFile(t testing.TB, r *Reader, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nr := nmsg.NewReaderWith(f, r.Decoder())
	for {
		p, err := nr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var e *nmsg.Error
			if ok := asNmsgError(err, &e); !ok || e.Fatal {
				return
			}
			continue
		}
		r.Add(p)
	}
}

func asNmsgError(err error, e **nmsg.Error) bool {
	x, ok := err.(*nmsg.Error)
	*e = x
	return ok
}

func payloadAt(sec int64, vid, msgtype uint32, msg string) *nmsg.Payload {
	return &nmsg.Payload{Vid: vid, Msgtype: msgtype, TimeSec: sec, Message: []byte(msg), HasMessage: true}
}

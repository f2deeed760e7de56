package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/siecap/siecap/spool"
)

// TestRingFullDrops fills a ring whose shard is not running: the reader
// must not block, and every payload of a refused batch is counted.
func TestRingFullDrops(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{CommitInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Channel: 3, Shards: 1, RingSize: 2, BatchPayloads: 10, Dedupe: DedupeNone}
	p, err := newPipeline(sp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Reader(0)
	for i := range 55 { // batches of 10: two fit in the ring, three are dropped, 5 wait
		r.Add(payloadAt(int64(i), 2, 1, fmt.Sprint(i)))
	}
	rs := r.Stats()
	if rs.Batches != 2 || rs.DroppedBatches != 3 || rs.Dropped != 30 {
		t.Fatalf("reader stats %+v", rs)
	}
	if rings := p.RingFill(); len(rings) != 1 || rings[0] != (RingStats{Reader: 0, Shard: 0, Len: 2, Cap: 2}) {
		t.Fatalf("ring fill %+v, want the one ring full (2 of 2)", rings)
	}
	p.start()
	r.Close() // pushes the last 5 (the shard drains the ring meanwhile, or they are dropped and counted)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	got := readBack(t, dir, 3)
	if st.Payloads != 55 || uint64(len(got)) != st.Stored || st.Stored+st.Dropped != 55 || st.Stored < 20 {
		t.Fatalf("stats %+v, %d read back", st, len(got))
	}
	if rings := p.RingFill(); rings[0].Len != 0 {
		t.Errorf("ring fill %+v after Close, want it drained", rings)
	}
	for i, s := range got[:20] {
		if s.TimeSec != int64(i) {
			t.Fatalf("payload %d has time %d", i, s.TimeSec)
		}
	}
}

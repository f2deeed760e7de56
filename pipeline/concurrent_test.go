package pipeline

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// TestConcurrentReaders drives two readers from two goroutines with
// datagrams into three shards, without blocking (drops allowed): every
// payload must be stored, suppressed or counted as dropped, and the spool
// must hold exactly the stored ones.
func TestConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{CommitInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(sp, Config{Channel: 9, Readers: 2, Shards: 3, RingSize: 4, BatchPayloads: 32,
		FlushInterval: 20 * time.Millisecond, RecordBytes: 8192})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.Reader(i)
			src := netip.MustParseAddrPort(fmt.Sprintf("198.18.0.%d:9000", i+1))
			var buf []byte
			w := nmsg.NewWriter(writerFunc(func(b []byte) (int, error) {
				buf = append(buf[:0], b...)
				return len(b), nil
			}), nmsg.WriterOptions{ContainerSize: 1400, Sequence: true, Unbuffered: true})
			now := time.Unix(1700000000, 0)
			for k := range 4000 {
				// Every payload appears twice: once from each reader.
				pl := payloadAt(1700000000+int64(k/100), 2, 1, fmt.Sprintf("payload %d", k))
				if err := w.Write(pl); err != nil {
					t.Error(err)
					return
				}
				_ = r.Datagram(src, buf, now.Add(time.Duration(k)*time.Millisecond))
			}
			r.Close()
		}()
	}
	wg.Wait()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	got := readBack(t, dir, 9)
	var dups uint64
	for _, s := range got {
		dups += s.dups
	}
	if st.Payloads != 8000 || st.Payloads != st.Stored+st.Deduped+st.Dropped || uint64(len(got)) != st.Stored || dups != st.Deduped {
		t.Fatalf("stats %+v; read back %d with %d duplicates", st, len(got), dups)
	}
	if st.Dropped == 0 && st.Deduped != 4000 {
		t.Fatalf("nothing dropped, yet %d suppressed", st.Deduped)
	}
	for _, r := range st.Readers {
		if r.Decoder.SequenceLost != 0 || r.Decoder.Containers != 4000 {
			t.Fatalf("decoder %+v", r.Decoder)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

package pipeline

import (
	"fmt"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/siecap/siecap/nmsg"
)

func TestPayloadDedupeWindow(t *testing.T) {
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) {
			st, got := runPipeline(t, Config{Channel: 7, Shards: shards}, func(r *Reader) {
				r.Add(payloadAt(1000, 2, 1, "a"))   // stored; its entry lives until the clock reaches 1060
				r.Add(payloadAt(1001, 2, 1, "b"))   // stored; until 1061
				r.Add(payloadAt(1002, 2, 5, "a"))   // another msgtype: stored
				r.Add(payloadAt(1010, 2, 1, "a"))   // duplicate of a@1000
				r.Add(payloadAt(1005, 2, 1, "a"))   // older payload time, clock stays 1010: duplicate
				r.Add(payloadAt(1059, 2, 1, "a"))   // clock 1059 < 1060: duplicate
				r.Add(payloadAt(1060, 2, 1, "a"))   // clock 1060: a@1000 left with 3 duplicates; stored again
				r.Add(payloadAt(1030, 2, 1, "b"))   // clock 1060 < 1061: duplicate of b@1001
				r.Add(payloadAt(1061, 2, 1, "b"))   // clock 1061: b@1001 left (1 duplicate); stored again
				r.Add(payloadAt(1062, 2, 1, "a"))   // duplicate of a@1060
				r.Add(payloadAt(1070, 1, 7, "zzz")) // stored
			})
			type row struct {
				sec  int64
				mt   uint32
				msg  string
				dups uint64
			}
			want := []row{{1000, 1, "a", 3}, {1001, 1, "b", 1}, {1002, 5, "a", 0}, {1060, 1, "a", 1}, {1061, 1, "b", 0}, {1070, 7, "zzz", 0}}
			var have []row
			for _, s := range got {
				have = append(have, row{s.TimeSec, s.Msgtype, string(s.Message), s.dups})
			}
			if shards > 1 { // records of different shards interleave
				sort.Slice(have, func(i, j int) bool { return have[i].sec < have[j].sec })
			}
			if fmt.Sprint(have) != fmt.Sprint(want) {
				t.Errorf("stored\n%v\nwant\n%v", have, want)
			}
			if st.Payloads != 11 || st.Deduped != 5 || st.Appended != 6 || st.Stored != 6 || st.Filtered != 0 || st.Dropped != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestPayloadDedupeShortWindowAndRules(t *testing.T) {
	cfg := Config{Channel: 1, Shards: 1, Window: 2 * time.Second,
		Rules: Rules{Mode: DenyOnly, Types: []TypeKey{{1, 9}}}}
	st, got := runPipeline(t, cfg, func(r *Reader) {
		r.Add(payloadAt(10, 2, 1, "x"))
		r.Add(payloadAt(11, 1, 9, "x")) // denied: filtered, but it moves the clock
		r.Add(payloadAt(11, 2, 1, "x")) // duplicate
		r.Add(payloadAt(12, 2, 1, "x")) // clock 12 - 10 = window: stored again
	})
	if len(got) != 2 || got[0].dups != 1 || got[1].dups != 0 || got[1].TimeSec != 12 {
		t.Fatalf("stored %+v", got)
	}
	if st.Filtered != 1 || st.Deduped != 1 || st.Stored != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxEntriesExpireEarly(t *testing.T) {
	st, got := runPipeline(t, Config{Channel: 1, Shards: 1, MaxEntries: 2}, func(r *Reader) {
		r.Add(payloadAt(1, 2, 1, "a"))
		r.Add(payloadAt(2, 2, 1, "a")) // duplicate
		r.Add(payloadAt(3, 2, 1, "b"))
		r.Add(payloadAt(4, 2, 1, "c")) // full: a leaves early (its count goes to the metadata)
		r.Add(payloadAt(5, 2, 1, "a")) // a is no longer known: stored; b leaves early
		r.Add(payloadAt(6, 2, 1, "c")) // duplicate of c
	})
	var msgs string
	for _, s := range got {
		msgs += fmt.Sprintf("%s%d ", s.Message, s.dups)
	}
	if msgs != "a1 b0 c1 a0 " {
		t.Fatalf("stored %q", msgs)
	}
	if st.ExpiredEarly != 2 || st.Deduped != 2 || st.Stored != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFutureTimeClamped: a live payload dated a day ahead of its receive
// time moves the clock only five minutes ahead, so the window of the
// payloads before it survives.
func TestFutureTimeClamped(t *testing.T) {
	now := time.Unix(1700000000, 0)
	datagram := func(p *nmsg.Payload) []byte {
		var b []byte
		w := nmsg.NewWriter(writerFunc(func(c []byte) (int, error) { b = append(b, c...); return len(c), nil }), nmsg.WriterOptions{Unbuffered: true})
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		return b
	}
	src := netip.MustParseAddrPort("198.18.0.1:8430")
	st, got := runPipeline(t, Config{Channel: 1, Shards: 1, Window: 10 * time.Minute}, func(r *Reader) {
		_ = r.Datagram(src, datagram(payloadAt(now.Unix(), 2, 1, "a")), now)
		_ = r.Datagram(src, datagram(payloadAt(now.Unix()+86400, 2, 1, "b")), now)
		_ = r.Datagram(src, datagram(payloadAt(now.Unix()+1, 2, 1, "a")), now.Add(time.Second)) // still a duplicate
	})
	if len(got) != 2 || got[0].dups != 1 || st.Readers[0].FutureTime != 1 {
		t.Fatalf("stored %d (first with %d duplicates), stats %+v", len(got), got[0].dups, st.Readers[0])
	}
}

//go:build linux

package capture_test

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/siecap/siecap/capture"
)

// sendUntil sends datagrams from B to A until ctx ends or limit datagrams
// were sent, and returns how many it sent.
func sendUntil(ctx context.Context, conns []*net.UDPConn, limit int, size int) int {
	payload := payloadFor(0, size)
	sent := 0
	for sent < limit && ctx.Err() == nil {
		if _, err := conns[sent%len(conns)].Write(payload); err != nil {
			time.Sleep(time.Millisecond) // e.g. ENOBUFS: back off
			continue
		}
		sent++
	}
	return sent
}

// TestStartStopHammer starts and stops captures over and over while traffic
// flows, with Stats called concurrently, so that the race detector and
// a fault on a ring unmapped during a read would catch an unsafe shutdown.
func TestStartStopHammer(t *testing.T) {
	p := newLab(t)
	conns := dialUDP(t, p, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	sent := 0
	go func() {
		defer wg.Done()
		sent = sendUntil(ctx, conns, 2_000_000, 1000)
	}()

	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	cfg := capture.Config{BlockSize: 128 << 10, NumBlocks: 4, PollTimeout: 5 * time.Millisecond, StatsInterval: time.Millisecond}
	for i := range rounds {
		counters := []*capture.Counter{{}, {}}
		if i%2 == 1 {
			cfg.Fanout = capture.FanoutLoadBalance
		} else {
			cfg.Fanout = capture.FanoutHashDefrag
		}
		c := startCapture(t, p, cfg, func(s int) capture.Handler { return counters[s] })
		waitFor(t, "traffic on a new capture", 10*time.Second, func() bool {
			return counters[0].Stats().Packets+counters[1].Stats().Packets > 0
		})
		var swg sync.WaitGroup
		swg.Add(1)
		go func() { // Stats racing Close
			defer swg.Done()
			for range 50 {
				if _, err := c.Stats(); err != nil {
					t.Errorf("stats: %v", err)
					return
				}
			}
		}()
		if i%3 == 0 {
			time.Sleep(2 * time.Millisecond) // let some rounds stop mid-burst
		}
		if err := c.Close(); err != nil {
			t.Fatalf("round %d: close: %v", i, err)
		}
		swg.Wait()
		st, err := c.Stats()
		if err != nil {
			t.Fatalf("stats after close: %v", err)
		}
		handled := counters[0].Stats().Packets + counters[1].Stats().Packets
		if st.Total.Received != handled {
			t.Fatalf("round %d: stats say %d received, handlers saw %d", i, st.Total.Received, handled)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
	}
	cancel()
	wg.Wait()
	t.Logf("%d start/stop rounds under %d datagrams of traffic", rounds, sent)
}

// TestStatsAccumulate fills a one-block ring while its reader is held in the
// handler, so the kernel drops, and checks that the counters the kernel
// resets on every read are accumulated: reading them again does not lose
// them, and a second burst adds to them.
func TestStatsAccumulate(t *testing.T) {
	p := newLab(t)
	gate := newGate()
	cnt := &capture.Counter{}
	h := capture.HandlerFunc(func(pk *capture.Packet) {
		gate.wait()
		cnt.HandlePacket(pk)
	})
	c := startCapture(t, p, capture.Config{
		Sockets: 1, BlockSize: 128 << 10, NumBlocks: 1,
		BlockTimeout: time.Millisecond, StatsInterval: time.Hour,
	}, func(int) capture.Handler { return h })
	conns := dialUDP(t, p, 1)

	burst := func(n int) {
		for seq := range uint64(n) {
			if _, err := conns[0].Write(payloadFor(seq, 8000)); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
	}
	// The reader blocks on the first frame, holding the only block; a
	// block holds 16 frames of 8 KB: the rest of 100 must be dropped.
	gate.close()
	burst(100)
	settled := func() capture.Stats {
		var st capture.Stats
		waitFor(t, "counters to settle", 10*time.Second, func() bool {
			var err error
			if st, err = c.Stats(); err != nil {
				t.Fatal(err)
			}
			return st.Total.Packets >= 100 && st.Total.Packets == st.Total.Received+st.Total.Drops
		})
		return st
	}
	waitFor(t, "the reader to block", 10*time.Second, func() bool { return gate.waiting() })
	waitDrops(t, c, 1)
	gate.open()
	st1 := settled()
	if st1.Total.Drops == 0 {
		t.Fatalf("no drops with the reader held: %+v", st1.Total)
	}
	again, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if again.Total.Packets < st1.Total.Packets || again.Total.Drops != st1.Total.Drops {
		t.Fatalf("second read lost counts: %+v then %+v", st1.Total, again.Total)
	}
	if got := cnt.Stats().Packets; got != st1.Total.Received {
		t.Fatalf("handler saw %d, stats say %d received", got, st1.Total.Received)
	}

	gate.close()
	burst(100)
	waitFor(t, "the reader to block again", 10*time.Second, func() bool { return gate.waiting() })
	waitDrops(t, c, st1.Total.Drops+1)
	gate.open()
	var st2 capture.Stats
	waitFor(t, "the second burst", 10*time.Second, func() bool {
		st2 = settled()
		return st2.Total.Packets >= st1.Total.Packets+100
	})
	if st2.Total.Drops <= st1.Total.Drops {
		t.Fatalf("drops did not accumulate: %d then %d", st1.Total.Drops, st2.Total.Drops)
	}
	t.Logf("after burst 1: %+v; after burst 2: %+v", st1.Total, st2.Total)
}

// waitDrops polls until the kernel has counted at least n drops.
func waitDrops(t *testing.T, c *capture.Capture, n uint64) {
	t.Helper()
	waitFor(t, "the kernel to drop", 10*time.Second, func() bool {
		st, err := c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return st.Total.Drops >= n
	})
}

// gate holds handler calls while closed.
type gate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	closed  bool
	blocked bool
}

func newGate() *gate {
	g := &gate{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) wait() {
	g.mu.Lock()
	for g.closed {
		g.blocked = true
		g.cond.Wait()
	}
	g.blocked = false
	g.mu.Unlock()
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed, g.blocked = true, false
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	g.closed = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *gate) waiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blocked
}

// TestInterfaceRemoved deletes the captured interface under a running
// capture: the readers must report the error, back off instead of spinning,
// and Close must still return.
func TestInterfaceRemoved(t *testing.T) {
	p := newLab(t)
	c := startCapture(t, p, capture.Config{PollTimeout: 10 * time.Millisecond}, func(int) capture.Handler { return &capture.Counter{} })
	nl := p.A.NS.Netlink()
	l, err := nl.LinkByName(p.A.Link)
	if err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	if err := nl.LinkDel(l); err != nil {
		t.Fatalf("delete %s: %v", p.A.Link, err)
	}
	var st capture.Stats
	waitFor(t, "read errors after the interface went away", 10*time.Second, func() bool {
		st, _ = c.Stats()
		return st.Total.ReadErrors > 0
	})
	if st.Total.LastError == "" {
		t.Fatalf("stats %+v carry no error text", st.Total)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close after the interface went away: %v", err)
	}
	elapsed := time.Since(deleted)
	// A reader that backs off fails at most once per poll timeout.
	st, _ = c.Stats()
	if limit := uint64(2 * (elapsed/(10*time.Millisecond) + 1)); st.Total.ReadErrors > limit {
		t.Fatalf("%d read errors in %v: readers spin instead of backing off (limit %d)", st.Total.ReadErrors, elapsed, limit)
	}
	t.Logf("read errors: %d in %v (%s)", st.Total.ReadErrors, elapsed, st.Total.LastError)
}

// TestPromiscuous checks that the capture holds the interface in promiscuous
// mode while it runs, and releases it on Close.
func TestPromiscuous(t *testing.T) {
	p := newLab(t)
	promiscuity := func() int {
		l, err := p.A.NS.Netlink().LinkByName(p.A.Link)
		if err != nil {
			t.Fatal(err)
		}
		return l.Attrs().Promisc
	}
	if n := promiscuity(); n != 0 {
		t.Fatalf("promiscuity %d before the capture", n)
	}
	c := startCapture(t, p, capture.Config{Promiscuous: true}, func(int) capture.Handler { return &capture.Counter{} })
	if n := promiscuity(); n != 1 {
		t.Fatalf("promiscuity %d during the capture, want 1", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := promiscuity(); n != 0 {
		t.Fatalf("promiscuity %d after Close, want 0", n)
	}
}

// TestReaderDoesNotAllocate checks the reader's hot path: reading frames
// and handing them to a handler must not allocate per frame.
func TestReaderDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	p := newLab(t)
	counters := []*capture.Counter{{}, {}}
	startCapture(t, p, capture.Config{}, func(s int) capture.Handler { return counters[s] })
	conns := dialUDP(t, p, 4)
	received := func() uint64 { return counters[0].Stats().Packets + counters[1].Stats().Packets }
	payload := payloadFor(0, 1000)
	const total = 20000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := received()
	for i := range total {
		if _, err := conns[i%4].Write(payload); err != nil {
			t.Fatalf("send: %v", err)
		}
		if i%500 == 499 {
			waitFor(t, "the readers to catch up", 20*time.Second, func() bool { return received()-start > uint64(i) })
		}
	}
	runtime.ReadMemStats(&after)
	// The test itself allocates a little (waits, timers); a per-frame
	// allocation would show as at least one per frame.
	if allocs := after.Mallocs - before.Mallocs; allocs > total/20 {
		t.Fatalf("%d allocations for %d frames", allocs, total)
	}
}

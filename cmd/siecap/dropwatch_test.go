package main

import (
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/pipeline"
	"github.com/siecap/siecap/spool"
)

func TestDropWatch(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	var w dropWatch
	steps := []struct {
		sec     int
		total   uint64
		want    dropChange
		comment string
	}{
		{0, 0, dropChange{}, "nothing dropped"},
		{1, 0, dropChange{}, "nothing added"},
		{2, 530, dropChange{started: true, added: 530}, "drops start"},
		{3, 560, dropChange{added: 30}, "still dropping: no change"},
		{4, 600, dropChange{added: 40}, "still dropping"},
		{5, 600, dropChange{stopped: true, episode: 600, lasted: 3 * time.Second}, "drops stop"},
		{6, 600, dropChange{}, "quiet"},
		{7, 10, dropChange{}, "counter went back (replaced on reload): new baseline"},
		{8, 12, dropChange{started: true, added: 2}, "a new episode"},
		{9, 12, dropChange{stopped: true, episode: 2, lasted: time.Second}, "and its end"},
	}
	for _, s := range steps {
		if got := w.observe(at(s.sec), s.total); got != s.want {
			t.Errorf("t=%ds total %d (%s): got %+v, want %+v", s.sec, s.total, s.comment, got, s.want)
		}
	}
}

// TestDaemonLogsCaptureDrops overflows a one-block capture ring with a
// burst of 8 KB datagrams and checks that the daemon logs once that the
// capture started dropping and once that it stopped, after the burst.
func TestDaemonLogsCaptureDrops(t *testing.T) {
	p := vethPair(t, 9000, 11)
	dir := t.TempDir()
	cfgText := daemonConfig(p.B.Link, dir, `
[[channel]]
number = 11
vlan = 0
addresses = ["198.18.11.2/8430"]
dedupe = "none"
`)
	// One 128 KiB block: while the reader holds it, the kernel has
	// nowhere to put the next datagram.
	cfgText = strings.Replace(cfgText, "sockets = 1\n", "sockets = 1\nblock_size = \"128KiB\"\nblock_count = 1\n", 1)
	var log syncBuffer
	d, err := startDaemonLog(t, p.B.NS, cfgText, &log)
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	sender := newUDPSender(t, p.A.NS, p.A.Addr.Addr())
	g := synth.NewDedupe(11, 1764115200)
	pls := generate(20, g)
	dst := netip.AddrPortFrom(p.B.Addr.Addr(), 8430)
	// Send until the capture counts drops (bounded: at most 20,000
	// datagrams, or 10 s).
	sent := uint64(0)
	for deadline := time.Now().Add(10 * time.Second); ; {
		st, err := d.ifaces[0].cap.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Total.Drops > 0 {
			break
		}
		if sent >= 20000 || time.Now().After(deadline) {
			t.Fatalf("no capture drops after %d datagrams: %+v", sent, st.Total)
		}
		sent += sender.send(dst, pls, 8000, true)
	}
	waitDropLog(t, &log, `msg="capture dropping" interface=`+p.B.Link, `msg="capture no longer dropping" interface=`+p.B.Link)
}

// waitDropLog polls log until it holds the line that drops started
// (exactly once) and, after it, the line that they stopped, or fails the
// test after a deadline.
func waitDropLog(t *testing.T, log *syncBuffer, started, stopped string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		out := log.String()
		if strings.Contains(out, started) && strings.Contains(out, stopped) {
			if n := strings.Count(out, started); n != 1 {
				t.Errorf("%d lines say %q, want 1:\n%s", n, started, out)
			}
			if strings.Index(out, started) > strings.Index(out, stopped) {
				t.Errorf("the end of the drops was logged before their start:\n%s", out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q and %q:\n%s", started, stopped, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDropWatchLogsPipelineDrops fills a channel's two-batch rings faster
// than its shard compresses and checks that the daemon's watch logs once
// that the pipeline started dropping and once that it stopped.
func TestDropWatchLogsPipelineDrops(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), spool.Options{Node: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(sp, pipeline.Config{Channel: 5, Readers: 1, Shards: 1, RingSize: 2, Dedupe: pipeline.DedupeNone})
	if err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	d := &daemon{log: slog.New(slog.NewTextHandler(&log, nil)),
		chans: map[uint16]*channel{5: {cfg: config.Channel{Number: 5}, pipe: p}}}
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		d.watchDrops(done)
	}()
	r := p.Reader(0)
	t.Cleanup(func() {
		close(done)
		<-watched
		r.Close()
		if err := p.Close(); err != nil {
			t.Error(err)
		}
		if err := sp.Close(); err != nil {
			t.Error(err)
		}
	})
	pls := generate(1000, synth.NewDedupe(5, 1764115200))
	// Add payloads until the rings overflow (bounded: 10 s, 2 M payloads).
	added := 0
	for deadline := time.Now().Add(10 * time.Second); p.Stats().Dropped == 0; added += len(pls) {
		if added >= 2_000_000 || time.Now().After(deadline) {
			t.Fatalf("no pipeline drops after %d payloads", added)
		}
		for i := range pls {
			r.Add(&pls[i])
		}
	}
	waitDropLog(t, &log, `msg="pipeline dropping" channel=5`, `msg="pipeline no longer dropping" channel=5`)
}

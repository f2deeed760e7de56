//go:build linux

package capture_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/capture"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/vishvananda/netlink"
)

const testPort = 8430

// newLab creates two fresh namespaces joined by a veth pair at MTU 9000
// (addresses from 198.18.0.0/15); everything goes away when the test ends.
// The capture runs on end A; traffic comes from end B.
func newLab(t testing.TB) *lab.Pair {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw)
	p, err := lab.NewPair(lab.PairConfig{MTU: 9000})
	testutil.SkipOnPermission(t, err, "create network namespaces and a veth pair")
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// startCapture starts a capture on end A of p; the test closes it at the
// end (Close is idempotent, so tests may close it earlier).
func startCapture(t testing.TB, p *lab.Pair, cfg capture.Config, newHandler func(int) capture.Handler) *capture.Capture {
	t.Helper()
	cfg.Interface = p.A.Link
	var c *capture.Capture
	err := p.A.NS.Do(func() (err error) {
		c, err = capture.Start(cfg, newHandler)
		return err
	})
	if err != nil {
		t.Fatalf("start capture: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close capture: %v", err)
		}
	})
	return c
}

// dialUDP opens n UDP sockets in B's namespace, connected to A's address,
// and a socket bound to that address in A (which discards what it gets), so
// that A does not answer with port-unreachable errors.
func dialUDP(t testing.TB, p *lab.Pair, n int) []*net.UDPConn {
	t.Helper()
	var sink *net.UDPConn
	err := p.A.NS.Do(func() (err error) {
		sink, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.A.Addr.Addr().AsSlice(), Port: testPort})
		return err
	})
	if err != nil {
		t.Fatalf("listen in A: %v", err)
	}
	t.Cleanup(func() { sink.Close() })
	conns := make([]*net.UDPConn, n)
	err = p.B.NS.Do(func() error {
		for i := range conns {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: p.A.Addr.Addr().AsSlice(), Port: testPort})
			if err != nil {
				return fmt.Errorf("dial udp: %w", err)
			}
			conns[i] = c
		}
		return nil
	})
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kernelDrops returns the socket drops the kernel reported so far.
func kernelDrops(t testing.TB, c *capture.Capture) uint64 {
	st, err := c.Stats()
	if err != nil {
		t.Fatalf("read capture stats: %v", err)
	}
	return st.Total.Drops
}

// waitCapture is waitFor that reports the capture's statistics on timeout.
func waitCapture(t testing.TB, c *capture.Capture, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			st, err := c.Stats()
			t.Fatalf("timed out waiting for %s; capture stats %+v (%v)", what, st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// payloadFor returns the payload of datagram seq: 8 bytes of sequence
// number, then filler, with a length that varies with seq.
func payloadFor(seq uint64, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b, seq)
	return b
}

func sizeFor(seq uint64) int { return 16 + int(seq*997%8900) } // 16..8915 bytes: fits MTU 9000

// TestCaptureUDP sends datagrams of many sizes from several senders and
// checks that each arrives once, with the right lengths, on one socket per
// sender and in order (hash fanout), and that the statistics reconcile.
func TestCaptureUDP(t *testing.T) {
	p := newLab(t)
	rec := &recorder{port: testPort}
	c := startCapture(t, p, capture.Config{}, rec.handler)
	if st := c.Status(); st.Sockets != 2 || st.RingBytes != 16<<20 || st.Fanout != capture.FanoutHashDefrag || st.SequenceLossApproximate {
		t.Fatalf("status = %+v", st)
	}
	conns := dialUDP(t, p, 8)
	const total = 4000
	for seq := range uint64(total) {
		if _, err := conns[seq%8].Write(payloadFor(seq, sizeFor(seq))); err != nil {
			t.Fatalf("send %d: %v", seq, err)
		}
		// Let the receiver catch up now and then: a veth delivers through
		// the per-CPU backlog, which holds 1000 packets.
		if seq%250 == 249 {
			waitCapture(t, c, fmt.Sprintf("datagram %d", seq), func() bool { return uint64(rec.count())+kernelDrops(t, c) > seq })
		}
	}
	waitCapture(t, c, fmt.Sprintf("%d datagrams", total), func() bool { return uint64(rec.count())+kernelDrops(t, c) >= total })

	// Every datagram arrives once, intact, or is counted as a socket drop
	// (a loaded machine, or the race detector, can stall the reader long
	// enough for the ring to fill).
	got := rec.snapshot()
	if drops := kernelDrops(t, c); uint64(len(got))+drops != total {
		t.Fatalf("captured %d datagrams and the kernel dropped %d; sent %d", len(got), drops, total)
	}
	seen := make([]bool, total)
	sockOf := map[uint16]int{}
	lastSeq := map[uint16]uint64{}
	for i, g := range got {
		if g.seq >= total || seen[g.seq] {
			t.Fatalf("datagram %d: sequence %d duplicated or out of range", i, g.seq)
		}
		seen[g.seq] = true
		want := sizeFor(g.seq)
		if g.payload != want || g.capLen != 14+28+want || g.wireLen != g.capLen || g.hasVLAN {
			t.Fatalf("datagram %d: %+v, want payload %d, frame %d, no VLAN", g.seq, g, want, 14+28+want)
		}
		if s, ok := sockOf[g.sport]; ok && s != g.socket {
			t.Fatalf("sender port %d seen on sockets %d and %d with hash fanout", g.sport, s, g.socket)
		}
		sockOf[g.sport] = g.socket
		if last, ok := lastSeq[g.sport]; ok && g.seq <= last {
			t.Fatalf("sender port %d: sequence %d after %d", g.sport, g.seq, last)
		}
		lastSeq[g.sport] = g.seq
	}

	// Kernel and reader counters reconcile once every block was handed over:
	// the kernel's packet count includes drops.
	var st capture.Stats
	waitFor(t, "kernel and reader counters to agree", 10*time.Second, func() bool {
		var err error
		if st, err = c.Stats(); err != nil {
			t.Fatal(err)
		}
		return st.Total.Packets == st.Total.Received+st.Total.Drops
	})
	var sum capture.SocketStats
	for _, s := range st.Sockets {
		sum.Packets += s.Packets
		sum.Received += s.Received
		sum.Drops += s.Drops
		sum.Bytes += s.Bytes
	}
	if sum.Packets != st.Total.Packets || sum.Received != st.Total.Received || sum.Drops != st.Total.Drops || sum.Bytes != st.Total.Bytes {
		t.Fatalf("interface totals %+v are not the sum of the sockets %+v", st.Total, st.Sockets)
	}
	if st.Total.Received+st.Total.Drops < total || st.Total.ReadErrors != 0 {
		t.Fatalf("stats = %+v, want at least %d received or dropped, no read errors", st.Total, total)
	}
	if st.Total.Drops > 0 {
		t.Logf("the kernel dropped %d of %d datagrams (reader stalled)", st.Total.Drops, total)
	}
	if len(sockOf) > 1 && st.Sockets[0].Received == 0 && st.Sockets[1].Received == 0 {
		t.Fatalf("no socket received anything: %+v", st.Sockets)
	}
}

// TestCaptureDefrag sends datagrams larger than the MTU, so they travel as
// IP fragments, and checks that both fanout modes deliver each one
// reassembled, once.
func TestCaptureDefrag(t *testing.T) {
	for _, mode := range []capture.FanoutMode{capture.FanoutHashDefrag, capture.FanoutLoadBalance} {
		t.Run(mode.String(), func(t *testing.T) {
			p := newLab(t)
			rec := &recorder{port: testPort}
			c := startCapture(t, p, capture.Config{Fanout: mode}, rec.handler)
			if got := c.Status().SequenceLossApproximate; got != (mode == capture.FanoutLoadBalance) {
				t.Fatalf("SequenceLossApproximate = %v for %v", got, mode)
			}
			conns := dialUDP(t, p, 2)
			const total = 200
			for seq := range uint64(total) {
				size := 9000 + int(seq)*211 // 2 to 9 fragments
				if _, err := conns[seq%2].Write(payloadFor(seq, size)); err != nil {
					t.Fatalf("send %d: %v", seq, err)
				}
				if seq%10 == 9 { // keep the fragments within the backlog
					waitCapture(t, c, fmt.Sprintf("datagram %d", seq), func() bool { return uint64(rec.count()) > seq })
				}
			}
			waitCapture(t, c, "reassembled datagrams", func() bool { return rec.count() >= total })
			got := rec.snapshot()
			if len(got) != total {
				t.Fatalf("captured %d datagrams, sent %d", len(got), total)
			}
			for _, g := range got {
				want := 9000 + int(g.seq)*211
				if g.fragment || g.payload != want || g.capLen != 14+28+want {
					t.Fatalf("datagram %d: %+v, want one reassembled datagram of %d bytes", g.seq, g, want)
				}
			}
		})
	}
}

// TestCaptureVLAN checks that VLAN ids arrive from auxdata, for tags written
// inline by an AF_PACKET socket in the peer namespace and for tags carried
// as metadata (pushed by a tc egress program, like a NIC with VLAN offload).
func TestCaptureVLAN(t *testing.T) {
	t.Run("inline", func(t *testing.T) {
		p := newLab(t)
		rec := &recorder{port: testPort}
		c := startCapture(t, p, capture.Config{}, rec.handler)
		tx, err := newRawSender(&p.B, p.A.MAC)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Close()
		vids := []uint16{1, 2, 100, 255, 256, 1000, 4094}
		const perVID = 50
		for i := range perVID {
			for j, vid := range vids {
				seq := uint64(i*len(vids) + j)
				frame := udpFrame(p.A.MAC, p.B.MAC, vid, p.B.Addr.Addr(), p.A.Addr.Addr(),
					40000+uint16(j), testPort, payloadFor(seq, 100+int(vid)))
				if err := tx.send(frame); err != nil {
					t.Fatal(err)
				}
			}
			if i%10 == 9 {
				waitCapture(t, c, "a round of tagged frames", func() bool { return rec.count() >= (i+1)*len(vids) })
			}
		}
		total := perVID * len(vids)
		waitCapture(t, c, "tagged frames", func() bool { return rec.count() >= total })
		got := rec.snapshot()
		if len(got) != total {
			t.Fatalf("captured %d frames, sent %d", len(got), total)
		}
		for _, g := range got {
			vid := vids[g.seq%uint64(len(vids))]
			want := 14 + 28 + 100 + int(vid) // the tag is stripped from the data
			if !g.hasVLAN || g.vlan != vid || g.capLen != want || g.wireLen != want {
				t.Fatalf("frame %d: %+v, want VLAN %d and %d bytes", g.seq, g, vid, want)
			}
		}
	})
	t.Run("metadata", func(t *testing.T) {
		testutil.RequireCaps(t, testutil.CapBPF)
		p := newLab(t)
		const vid = 321
		push, err := lab.AttachVLANPush(&p.B, vid)
		testutil.SkipOnPermission(t, err, "attach a tc program")
		defer push.Close()
		rec := &recorder{port: testPort}
		startCapture(t, p, capture.Config{}, rec.handler)
		conns := dialUDP(t, p, 1)
		// ARP requests leave B tagged too, and A has no VLAN device to
		// answer them: give B a static neighbour entry for A instead.
		if err := addStaticNeighbour(p); err != nil {
			t.Fatal(err)
		}
		const total = 100
		for seq := range uint64(total) {
			if _, err := conns[0].Write(payloadFor(seq, 500)); err != nil {
				t.Fatalf("send %d: %v", seq, err)
			}
		}
		waitFor(t, "metadata-tagged frames", 20*time.Second, func() bool { return rec.count() >= total })
		for _, g := range rec.snapshot() {
			if !g.hasVLAN || g.vlan != vid || g.payload != 500 || g.capLen != 14+28+500 {
				t.Fatalf("frame %d: %+v, want VLAN %d, 500-byte payload", g.seq, g, vid)
			}
		}
	})
}

func TestStartErrors(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapNetRaw)
	_, err := capture.Start(capture.Config{Interface: "siecap-none0"}, func(int) capture.Handler { return &capture.Counter{} })
	if err == nil || !strings.Contains(err.Error(), "siecap-none0") {
		t.Fatalf("Start on a missing interface: err = %v", err)
	}
	_, err = capture.Start(capture.Config{Interface: "lo"}, nil)
	if err == nil {
		t.Fatal("Start without a handler succeeded")
	}
	_, err = capture.Start(capture.Config{Interface: "lo", BlockSize: 3 << 20}, func(int) capture.Handler { return &capture.Counter{} })
	if err == nil {
		t.Fatal("Start with a block size that is not a power of two succeeded")
	}
}

// addStaticNeighbour makes B resolve A's address without ARP.
func addStaticNeighbour(p *lab.Pair) error {
	err := p.B.NS.Netlink().NeighAdd(&netlink.Neigh{
		LinkIndex:    p.B.Index,
		Family:       netlink.FAMILY_V4,
		State:        netlink.NUD_PERMANENT,
		IP:           p.A.Addr.Addr().AsSlice(),
		HardwareAddr: p.A.MAC,
	})
	if err != nil {
		return fmt.Errorf("add static neighbour: %w", err)
	}
	return nil
}

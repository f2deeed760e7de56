package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/spool"
)

// vethPair builds a veth pair at mtu between two test namespaces, with
// 198.18.n.1/24 on end A and 198.18.n.2/24 on end B, after checking the
// privileges the daemon needs.
func vethPair(t *testing.T, mtu int, n byte) *lab.Pair {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw, testutil.CapBPF)
	a := netip.AddrFrom4([4]byte{198, 18, n, 1})
	p, err := lab.NewPair(lab.PairConfig{MTU: mtu, AddrA: netip.PrefixFrom(a, 24), AddrB: netip.PrefixFrom(a.Next(), 24)})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// daemonConfig is a configuration capturing iface with one socket, its
// spool and control socket in dir, followed by extra.
func daemonConfig(iface, dir, extra string) string {
	return fmt.Sprintf(`interfaces = [%q]
[capture]
sockets = 1
[spool]
dir = %q
commit_interval = "20ms"
[control]
socket = %q
`, iface, filepath.Join(dir, "spool"), filepath.Join(dir, "siecap.sock")) + extra
}

// startDaemon parses cfgText and starts the daemon in ns; it is stopped at
// the end of the test unless the test stopped it.
func startDaemon(t *testing.T, ns *lab.Namespace, cfgText string) (*daemon, error) {
	t.Helper()
	return startDaemonLog(t, ns, cfgText, io.Discard)
}

// startDaemonLog is startDaemon with the daemon's log written to log.
func startDaemonLog(t *testing.T, ns *lab.Namespace, cfgText string, log io.Writer) (*daemon, error) {
	t.Helper()
	cfg, err := config.Parse("test.toml", []byte(cfgText), nil, nil)
	if err != nil {
		t.Fatalf("parse configuration: %v", err)
	}
	d := &daemon{log: slog.New(slog.NewTextHandler(log, nil)), cfg: cfg, started: time.Now()}
	if err := ns.Do(d.start); err != nil {
		return nil, err
	}
	t.Cleanup(func() { d.stop() })
	return d, nil
}

// datagramWriter sends each Write as one UDP datagram to dst.
type datagramWriter struct {
	conn *net.UDPConn
	dst  *net.UDPAddr
}

func (w datagramWriter) Write(b []byte) (int, error) { return w.conn.WriteToUDP(b, w.dst) }

// udpSender sends NMSG datagrams from an address of a test namespace.
type udpSender struct {
	t    *testing.T
	conn *net.UDPConn
}

func newUDPSender(t *testing.T, ns *lab.Namespace, src netip.Addr) *udpSender {
	t.Helper()
	var conn *net.UDPConn
	if err := ns.Do(func() (err error) {
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: src.AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udpSender{t: t, conn: conn}
}

// send writes pls to dst in sequenced containers of at most size bytes
// (0: nmsg.DatagramSize), one payload per container when unbuffered, and
// returns the containers sent.
func (s *udpSender) send(dst netip.AddrPort, pls []nmsg.Payload, size int, unbuffered bool) uint64 {
	s.t.Helper()
	if size == 0 {
		size = nmsg.DatagramSize
	}
	w := nmsg.NewWriter(datagramWriter{s.conn, net.UDPAddrFromAddrPort(dst)},
		nmsg.WriterOptions{ContainerSize: size, Sequence: true, Unbuffered: unbuffered})
	for i := range pls {
		if err := w.Write(&pls[i]); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		s.t.Fatal(err)
	}
	return w.Containers()
}

// generate returns n payloads of g, each its own copy.
func generate(n int, g interface {
	Next(*nmsg.Payload, []byte) []byte
}) []nmsg.Payload {
	out := make([]nmsg.Payload, n)
	for i := range out {
		g.Next(&out[i], nil)
		out[i] = out[i].Clone()
	}
	return out
}

// waitCounters polls the channels' counters until they match want, or
// fails the test after the deadline.
func waitCounters(t *testing.T, what string, channels func() (ctl.Channels, error), want map[uint16]map[string]uint64) ctl.Channels {
	t.Helper()
	var chans ctl.Channels
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; {
		chans, err = channels()
		if err == nil && countersMatch(chans, want) {
			return chans
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: counters never reached %v: %+v (%v)", what, want, chans.Channels, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// direct reads the channels from the daemon itself.
func direct(d *daemon) func() (ctl.Channels, error) {
	return func() (ctl.Channels, error) { return d.Channels(), nil }
}

func countersMatch(chans ctl.Channels, want map[uint16]map[string]uint64) bool {
	for _, ch := range chans.Channels {
		for k, v := range want[ch.Number] {
			if ch.Counters[k] != v {
				return false
			}
		}
	}
	return len(chans.Channels) == len(want)
}

// spooledPayloads returns the payloads a closed spool holds per channel,
// failing the test if a segment is not sealed.
func spooledPayloads(t *testing.T, dir string) map[uint32]uint64 {
	t.Helper()
	r, err := spool.OpenReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	segs, err := r.Segments()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint32]uint64{}
	for _, s := range segs {
		if s.State.String() != "sealed" {
			t.Errorf("segment %s is %s after stop", s.ID, s.State)
		}
		stored[s.ID.Channel] += s.Payloads
	}
	return stored
}

//go:build linux

package capture_test

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/siecap/siecap/capture"
)

// The reader benchmark sends from a child process (this test binary,
// re-executed in the peer namespace), because on a veth pair the kernel's
// whole receive path, including the copy into the AF_PACKET ring, runs on
// the sending CPU. The benchmark process then spends CPU only on reading:
// its user+sys time per packet is the reader's cost.
const senderEnv = "SIECAP_CAPTURE_BENCH_SENDER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(senderEnv); spec != "" {
		if err := runSender(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// senderSpec tells the child what to send: count datagrams of size payload
// bytes to addr:port, through a UDP socket or, when vlan is not zero, as
// inline-tagged frames written with an AF_PACKET socket on ifindex.
type senderSpec struct {
	count, size int
	vlan        uint16
	ifindex     int
	src, dst    netip.Addr
	srcMAC      net.HardwareAddr
	dstMAC      net.HardwareAddr
}

func (s senderSpec) String() string {
	return fmt.Sprintf("%d %d %d %d %s %s %s %s", s.count, s.size, s.vlan, s.ifindex, s.src, s.dst, s.srcMAC, s.dstMAC)
}

func parseSenderSpec(v string) (senderSpec, error) {
	var s senderSpec
	var src, dst, smac, dmac string
	_, err := fmt.Sscan(v, &s.count, &s.size, &s.vlan, &s.ifindex, &src, &dst, &smac, &dmac)
	if err == nil {
		s.src, err = netip.ParseAddr(src)
	}
	if err == nil {
		s.dst, err = netip.ParseAddr(dst)
	}
	if err == nil {
		s.srcMAC, err = net.ParseMAC(smac)
	}
	if err == nil {
		s.dstMAC, err = net.ParseMAC(dmac)
	}
	if err != nil {
		return s, fmt.Errorf("parse sender spec %q: %w", v, err)
	}
	if s.count > 10_000_000 || s.size > 8900 || !benchNet.Contains(s.dst) {
		return s, fmt.Errorf("check sender spec %q: count, size or address out of bounds", v)
	}
	return s, nil
}

var benchNet = netip.MustParsePrefix("198.18.0.0/15")

// runSender runs in the child process, in the peer namespace.
func runSender(v string) error {
	spec, err := parseSenderSpec(v)
	if err != nil {
		return err
	}
	var send func() error
	if spec.vlan == 0 {
		conn, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(spec.dst, testPort)))
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer conn.Close()
		payload := make([]byte, spec.size)
		send = func() error { _, err := conn.Write(payload); return err }
	} else {
		raw, err := openRawSender(spec.ifindex, spec.dstMAC)
		if err != nil {
			return err
		}
		defer raw.Close()
		frame := udpFrame(spec.dstMAC, spec.srcMAC, spec.vlan, spec.src, spec.dst, 40000, testPort, make([]byte, spec.size))
		send = func() error { return raw.send(frame) }
	}
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < spec.count; {
		if err := send(); err == nil {
			i++
		}
		// Errors (ENOBUFS and the like) are retried.
		if i&1023 == 0 && time.Now().After(deadline) {
			return fmt.Errorf("send: %d of %d datagrams after 2 minutes", i, spec.count)
		}
	}
	return nil
}

// usage is the process's resource usage: CPU time split into user and
// system time, and context switches (voluntary ones are mostly a parked
// reader or an idle runtime thread going to sleep).
type usage struct {
	user, sys   time.Duration
	vcsw, ivcsw int64
}

func getUsage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	return usage{time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), ru.Nvcsw, ru.Nivcsw}
}

func (u usage) sub(v usage) usage {
	return usage{u.user - v.user, u.sys - v.sys, u.vcsw - v.vcsw, u.ivcsw - v.ivcsw}
}

// BenchmarkReader measures the capture process's CPU time per received
// packet (cpu-ns/pkt) with the default configuration and a Counter handler,
// for b.N UDP datagrams sent as fast as one sender process can. ns/op is
// the wall time per datagram, which the sender bounds. Run with a fixed
// count, e.g. -benchtime=200000x.
func BenchmarkReader(b *testing.B) {
	for _, size := range []int{1400, 8000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) { benchReader(b, size, 0) })
	}
	// Inline-tagged frames: the kernel strips the tag and the reader
	// takes the VLAN id from the packet's header in the ring.
	b.Run("8000-vlan", func(b *testing.B) { benchReader(b, 8000, 100) })
}

func benchReader(b *testing.B, size int, vlan uint16) {
	p := newLab(b)
	dialUDP(b, p, 1) // also opens a discarding socket in A
	counters := []*capture.Counter{{}, {}}
	c := startCapture(b, p, capture.Config{}, func(s int) capture.Handler { return counters[s] })
	received := func() uint64 { return counters[0].Stats().Packets + counters[1].Stats().Packets }

	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	spec := senderSpec{
		count: b.N, size: size, vlan: vlan, ifindex: p.B.Index,
		src: p.B.Addr.Addr(), dst: p.A.Addr.Addr(), srcMAC: p.B.MAC, dstMAC: p.A.MAC,
	}
	cmd.Env = append(os.Environ(), senderEnv+"="+spec.String())
	cmd.Stderr = os.Stderr
	before := received()
	b.ReportAllocs()
	b.ResetTimer()
	u0 := getUsage()
	// Start the child on a thread inside B's namespace: it inherits it.
	if err := p.B.NS.Do(cmd.Start); err != nil {
		b.Fatalf("start sender: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("sender: %v", err)
	}
	// Wait for the readers to drain: until all arrived, or nothing more
	// arrives for a while (the rest was dropped somewhere and is counted).
	last, lastChange := received(), time.Now()
	for received()-before < uint64(b.N) && time.Since(lastChange) < 500*time.Millisecond {
		time.Sleep(5 * time.Millisecond)
		if n := received(); n != last {
			last, lastChange = n, time.Now()
		}
	}
	u := getUsage().sub(u0)
	b.StopTimer()
	got := received() - before
	st, err := c.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if got == 0 {
		b.Fatal("nothing received")
	}
	n := float64(got)
	b.ReportMetric(float64((u.user+u.sys).Nanoseconds())/n, "cpu-ns/pkt")
	b.ReportMetric(float64(u.sys.Nanoseconds())/n, "sys-ns/pkt")
	b.ReportMetric(float64(u.vcsw+u.ivcsw)*1000/n, "csw/kpkt")
	b.ReportMetric(float64(got)/float64(b.N), "recv/sent")
	b.ReportMetric(float64(st.Total.Drops), "sock-drops")
}

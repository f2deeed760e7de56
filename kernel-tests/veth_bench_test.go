package kerneltests

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/bpf"
	"golang.org/x/sys/unix"
)

// BenchmarkVethDrop measures what dropping a frame costs on a veth pair at
// MTU 9000 when XDP drops it and when the socket filter of an AF_PACKET
// capture socket drops it. On veth the receive path runs on the sending
// CPU, so the metric is the sending thread's user+sys CPU time per frame
// (sender-cpu-ns/pkt), plus the softirq time of all CPUs per frame
// (softirq-ns/pkt, from /proc/stat: with IRQ time accounting the kernel
// books the receive path there, not to the thread). Frames are the 9 KB
// drop-by-channel frames of BenchmarkPrograms (untagged, a drop-all
// channel), sent one sendto at a time from a packet socket in the peer
// namespace. Run with
//
//	go test -run '^$' -bench VethDrop -benchtime 200000x -count 5 ./kernel-tests/
func BenchmarkVethDrop(b *testing.B) {
	for _, mode := range []string{"xdp", "socket-filter"} {
		b.Run(mode, func(b *testing.B) {
			p := newLab(b)
			f := newConfiguredFilter(b, benchConfig())
			rxfd := packetSocket(b, p.B.NS, p.B.Index)
			if mode == "xdp" {
				if err := p.B.NS.Do(func() error { _, err := f.AttachXDP(p.B.Index, bpf.XDPOptions{}); return err }); err != nil {
					b.Fatalf("attach xdp: %v", err)
				}
			} else if err := f.AttachSocket(rxfd); err != nil {
				b.Fatal(err)
			}
			fr := benchCases(8192)[1].frame // drop-by-channel/untagged
			copy(fr[0:6], p.B.MAC)
			tx := packetSocket(b, p.A.NS, p.A.Index)
			to := &unix.SockaddrLinklayer{Ifindex: p.A.Index, Halen: 6}
			copy(to.Addr[:], p.B.MAC)
			before, err := f.Counters()
			if err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var r0, r1 unix.Rusage
			soft0 := softirqNS(b)
			unix.Getrusage(unix.RUSAGE_THREAD, &r0)
			b.ResetTimer()
			for range b.N {
				if err := sendFrame(tx, fr, to); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			unix.Getrusage(unix.RUSAGE_THREAD, &r1)
			soft1 := softirqNS(b)
			after, err := f.Counters()
			if err != nil {
				b.Fatal(err)
			}
			dropped := after[4][bpf.ReasonDrop].Packets - before[4][bpf.ReasonDrop].Packets
			if dropped != uint64(b.N) {
				b.Fatalf("%d of %d frames dropped by channel 4's rule", dropped, b.N)
			}
			cpu := time.Duration(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano()) * time.Nanosecond
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "sender-cpu-ns/pkt")
			b.ReportMetric(float64(soft1-soft0)/float64(b.N), "softirq-ns/pkt")
			if mode == "xdp" {
				if err := p.B.NS.Do(func() error { return f.DetachXDP(p.B.Index) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// softirqNS returns the softirq time of all CPUs from /proc/stat.
func softirqNS(b *testing.B) int64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq ...
	if len(f) < 8 {
		b.Fatalf("unexpected /proc/stat line %q", line)
	}
	ticks, err := strconv.ParseInt(f[7], 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return ticks * int64(time.Second) / 100 // USER_HZ
}

package kerneltests

import (
	"os"
	"strings"
	"testing"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/testutil"
	"golang.org/x/sys/unix"
)

// bpfFDs counts the process's file descriptors that refer to BPF objects
// (maps, programs, links). Only those are what Close must release: other
// descriptors (netlink sockets, namespace handles) come and go with the
// test's own helpers and would make a plain count flaky.
func bpfFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // closed since ReadDir (the directory's own fd)
		}
		if strings.HasPrefix(target, "anon_inode:bpf") {
			n++
		}
	}
	return n
}

// TestCloseReleasesEverything loads, updates, attaches to XDP and to a
// socket, closes, and checks that no BPF
// file descriptor is left and the socket lost its filter.
func TestCloseReleasesEverything(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapBPF, testutil.CapNetAdmin)
	p := newLab(t)
	rxfd := packetSocket(t, p.B.NS, p.B.Index)
	start := bpfFDs(t)

	f, err := bpf.Load(bpf.Options{Baselines: true})
	testutil.SkipOnPermission(t, err, "load BPF programs")
	if n := bpfFDs(t); n <= start {
		t.Fatalf("%d BPF file descriptors after Load, %d before: the count does not see them", n, start)
	}
	for range 3 {
		rs, err := bpf.Compile(testConfig())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Update(rs); err != nil {
			t.Fatal(err)
		}
	}
	err = p.B.NS.Do(func() error {
		if _, err := f.AttachXDP(p.B.Index, bpf.XDPOptions{}); err != nil {
			return err
		}
		_, err := f.AttachXDP(p.A.Index, bpf.XDPOptions{}) // no such link in B
		if err == nil {
			t.Error("attached to an ifindex of another namespace")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AttachSocket(rxfd); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := bpfFDs(t); n != start {
		t.Errorf("%d BPF file descriptors open after Close, %d before Load", n, start)
	}
	// SO_DETACH_BPF on a socket without a filter fails with ENOENT.
	if err := unix.SetsockoptInt(rxfd, unix.SOL_SOCKET, unix.SO_DETACH_BPF, 0); err != unix.ENOENT {
		t.Errorf("socket still has a filter after Close (detach: %v)", err)
	}
	var xdpFlags uint32
	err = p.B.NS.Do(func() error {
		l, err := p.B.NS.Netlink().LinkByIndex(p.B.Index)
		if err == nil && l.Attrs().Xdp != nil && l.Attrs().Xdp.Attached {
			xdpFlags = 1
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if xdpFlags != 0 {
		t.Error("XDP program still attached after Close")
	}
}

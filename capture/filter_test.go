//go:build linux

package capture_test

import (
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/siecap/siecap/capture"
	"github.com/siecap/siecap/internal/testutil"
)

// dropLengthFilter loads a socket filter that drops frames of exactly
// dropLen bytes and keeps everything else whole.
func dropLengthFilter(t *testing.T, dropLen int) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    "drop_len",
		Type:    ebpf.SocketFilter,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), // r0 = skb->len
			asm.JEq.Imm(asm.R0, int32(dropLen), "drop"),
			asm.Return(), // keep skb->len bytes
			asm.Mov.Imm(asm.R0, 0).WithSymbol("drop"),
			asm.Return(),
		},
	})
	testutil.SkipOnPermission(t, err, "load a socket filter program")
	t.Cleanup(func() { prog.Close() })
	return prog
}

// TestSocketFilter attaches a socket filter to every socket and checks that
// the frames it drops reach neither the handler nor the socket's kernel
// counters, while the others arrive.
func TestSocketFilter(t *testing.T) {
	testutil.RequireCaps(t, testutil.CapBPF)
	p := newLab(t)
	const keepSize, dropSize = 300, 400
	prog := dropLengthFilter(t, 14+28+dropSize)
	rec := &recorder{port: testPort}
	c := startCapture(t, p, capture.Config{Filter: prog}, rec.handler)
	if !c.Status().Filter {
		t.Fatal("status does not report the filter")
	}
	conns := dialUDP(t, p, 4)
	const total = 400
	for seq := range uint64(total) {
		size := keepSize
		if seq%2 == 1 {
			size = dropSize
		}
		if _, err := conns[seq%4].Write(payloadFor(seq, size)); err != nil {
			t.Fatalf("send %d: %v", seq, err)
		}
		if seq%200 == 199 { // stay within the veth backlog
			waitCapture(t, c, "the kept datagrams", func() bool { return uint64(rec.count()) >= (seq+1)/2 })
		}
	}
	waitFor(t, "the kept datagrams", 20*time.Second, func() bool { return rec.count() >= total/2 })
	// Send a marker after the dropped ones, so that when it arrives every
	// earlier datagram has been decided on.
	if _, err := conns[0].Write(payloadFor(total, keepSize)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker", 20*time.Second, func() bool { return rec.count() >= total/2+1 })
	for _, g := range rec.snapshot() {
		if g.payload != keepSize || g.seq%2 == 1 {
			t.Fatalf("filtered datagram reached the handler: %+v", g)
		}
	}
	if n := rec.count(); n != total/2+1 {
		t.Fatalf("handler saw %d datagrams, want %d", n, total/2+1)
	}
	// The kernel counts what passed the filter: the kept half, the marker
	// and a little neighbour traffic, far fewer than all datagrams sent.
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Total.Packets < total/2+1 || st.Total.Packets >= total {
		t.Fatalf("kernel counted %d packets for %d sent, %d kept", st.Total.Packets, total+1, total/2+1)
	}
}

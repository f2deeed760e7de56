package capture

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"
)

// waiter parks a reader in the Go runtime's network poller until the kernel
// hands a ring block to user space.
//
// gopacket waits for a block in a blocking poll(2). In Go a blocking system
// call is expensive when it happens hundreds of times a second: the runtime
// hands the reader's processor to another thread while the call blocks and
// takes it back afterwards, and its monitor thread wakes every 20 µs while
// system calls block. Measured on a veth pair, that cost more CPU than
// reading the packets. So the reader checks the block status itself (see
// blockRing) and, when the ring is empty, waits here: on a duplicate of the socket's
// descriptor registered with the poller, which parks the goroutine, not a
// thread. The kernel wakes the socket each time it retires a block, and
// the poller is edge-triggered, so an empty-ring check followed by a wait
// never loses a wakeup (a wakeup in between leaves the descriptor marked
// ready and the wait returns at once).
type waiter struct {
	f  *os.File
	rc syscall.RawConn
}

// packetFD returns the AF_PACKET socket descriptor of a TPacket. gopacket
// does not export it; reflection reads the unexported field, and the socket
// domain is checked so that a change in gopacket fails here, loudly, rather
// than waiting on some other descriptor.
func packetFD(tp *afpacket.TPacket) (int, error) {
	v := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !v.IsValid() || v.Kind() != reflect.Int {
		return -1, errors.New("find socket descriptor: gopacket's TPacket has no int field fd")
	}
	fd := int(v.Int())
	dom, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	if err != nil {
		return -1, fmt.Errorf("check socket descriptor %d: %w", fd, err)
	}
	if dom != unix.AF_PACKET {
		return -1, fmt.Errorf("check socket descriptor %d: domain %d is not AF_PACKET", fd, dom)
	}
	return fd, nil
}

// newWaiter registers a duplicate of the socket descriptor fd with the
// poller. The duplicate shares the open file description, so it becomes
// non-blocking too; gopacket only mmaps, polls and sets options on it,
// which O_NONBLOCK does not change.
func newWaiter(fd int) (*waiter, error) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate socket descriptor: %w", err)
	}
	if err := unix.SetNonblock(dup, true); err != nil {
		unix.Close(dup)
		return nil, fmt.Errorf("make socket non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(dup), "afpacket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("register socket with the poller: %w", err)
	}
	return &waiter{f: f, rc: rc}, nil
}

// wait parks until the socket is readable (a block was retired, or an
// error is pending), timeout passes or wake is called, and reports whether
// it timed out. stopping is checked after the deadline is set: Close sets
// the stop flag before it calls wake, so either wait sees the flag or wake
// moves the deadline it set, and a closing reader never sleeps a whole
// timeout.
func (w *waiter) wait(timeout time.Duration, stopping func() bool) (timedOut bool) {
	if err := w.f.SetReadDeadline(time.Now().Add(timeout)); err != nil || stopping() {
		return false
	}
	parked := false
	err := w.rc.Read(func(uintptr) bool {
		if !parked {
			parked = true
			return false // not done: wait for readability once
		}
		return true
	})
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// wake makes a parked wait return at once.
func (w *waiter) wake() { w.f.SetReadDeadline(time.Now()) }

// close releases the duplicate descriptor; the socket stays open until
// gopacket closes its own.
func (w *waiter) close() error { return w.f.Close() }

package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"
)

// fanoutSeq makes automatic fanout ids of one process distinct.
var fanoutSeq atomic.Uint32

// Capture is a running capture on one interface.
type Capture struct {
	cfg      Config
	fanoutID uint16
	sockets  []*socket

	stopping atomic.Bool
	stop     chan struct{} // closed by Close: wakes backing-off readers and the stats loop
	readers  sync.WaitGroup
	bg       sync.WaitGroup

	closeOnce sync.Once
	closeE    error // set inside closeOnce

	mu     sync.Mutex // guards the kernel counters of every socket, and closed
	closed bool
}

// socket is one AF_PACKET socket and what its reader owns.
type socket struct {
	index int
	tp    *afpacket.TPacket
	fd    int // tp's descriptor
	ring  *blockRing
	w     *waiter
	h     Handler
	pkt   Packet // reused for every frame: the handler must not retain it

	// Written by the reader, read by Stats.
	received   atomic.Uint64
	bytes      atomic.Uint64
	readErrors atomic.Uint64
	lastErr    atomic.Pointer[error]

	// Guarded by Capture.mu.
	kernel    SocketStats // accumulated kernel counters
	prevPkts  uint32      // gopacket's running (32-bit) totals at the last read
	prevDrops uint32
	prevFrz   uint32
}

// Start opens cfg.Sockets sockets on cfg.Interface, attaches cfg.Filter,
// joins them into a fanout group and starts one reader per socket, which
// hands every frame to the Handler that newHandler returned for its socket
// index. Close stops it.
func Start(cfg Config, newHandler func(socket int) Handler) (*Capture, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}
	if newHandler == nil {
		return nil, errors.New("start capture: no handler")
	}
	c := &Capture{
		cfg:      cfg,
		fanoutID: cfg.FanoutID,
		stop:     make(chan struct{}),
	}
	if c.fanoutID == 0 {
		c.fanoutID = uint16(os.Getpid()*31+int(fanoutSeq.Add(1))) | 1
	}
	for i := range cfg.Sockets {
		s, err := c.open(i)
		if err != nil {
			c.closeSockets()
			return nil, fmt.Errorf("start capture on %s: %w", cfg.Interface, err)
		}
		c.sockets = append(c.sockets, s)
		if s.h = newHandler(i); s.h == nil {
			c.closeSockets()
			return nil, fmt.Errorf("start capture on %s: no handler for socket %d", cfg.Interface, i)
		}
	}
	for _, s := range c.sockets {
		c.readers.Add(1)
		go c.read(s)
	}
	if cfg.StatsInterval > 0 {
		c.bg.Add(1)
		go c.pollStats()
	}
	return c, nil
}

// fanoutType maps a mode to gopacket's fanout argument (type | flags).
func fanoutType(m FanoutMode) afpacket.FanoutType {
	if m == FanoutLoadBalance {
		return afpacket.FanoutLoadBalance | afpacket.FanoutHashWithDefrag
	}
	return afpacket.FanoutHash | afpacket.FanoutHashWithDefrag
}

func (c *Capture) open(i int) (*socket, error) {
	cfg := c.cfg
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.TPacketVersion3,
		afpacket.OptBlockSize(cfg.BlockSize),
		afpacket.OptNumBlocks(cfg.NumBlocks),
		afpacket.OptBlockTimeout(cfg.BlockTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("open socket %d: %w", i, err)
	}
	fd, err := packetFD(tp)
	if err != nil {
		tp.Close()
		return nil, fmt.Errorf("open socket %d: %w", i, err)
	}
	ring, err := mapBlocks(fd, cfg.BlockSize, cfg.NumBlocks)
	if err != nil {
		tp.Close()
		return nil, fmt.Errorf("open socket %d: %w", i, err)
	}
	w, err := newWaiter(fd)
	if err != nil {
		ring.close()
		tp.Close()
		return nil, fmt.Errorf("open socket %d: %w", i, err)
	}
	s := &socket{index: i, tp: tp, fd: fd, ring: ring, w: w}
	if cfg.Filter != nil {
		if err := tp.SetEBPF(int32(cfg.Filter.FD())); err != nil {
			s.close()
			return nil, fmt.Errorf("attach socket filter to socket %d: %w", i, err)
		}
	}
	if cfg.Promiscuous && i == 0 {
		if err := tp.SetPromiscuous(true); err != nil {
			s.close()
			return nil, fmt.Errorf("set promiscuous mode: %w", err)
		}
	}
	if err := tp.SetFanout(fanoutType(cfg.Fanout), c.fanoutID); err != nil {
		s.close()
		return nil, fmt.Errorf("join fanout group %d (%s) with socket %d: %w", c.fanoutID, cfg.Fanout, i, err)
	}
	return s, nil
}

// read is the reader goroutine of one socket: it runs to completion on each
// frame, in place, until Close sets the stop flag.
func (c *Capture) read(s *socket) {
	defer c.readers.Done()
	p := &s.pkt
	p.Socket = s.index
	idler, _ := s.h.(Idler)
	stopping := c.stopping.Load
	for !stopping() {
		if !s.ring.ready() {
			// The ring is empty: park until the kernel retires a
			// block.
			if s.w.wait(c.cfg.PollTimeout, stopping) {
				if idler != nil {
					idler.Idle(time.Now())
				}
			} else if !s.ring.ready() {
				// Woken without a block: the wakeup may be an
				// error (the interface went away). Reading it
				// clears it, so a lasting fault is reported once
				// and the reader goes on waiting, not spinning.
				s.checkError()
			}
			continue
		}
		// The counters are published once per block: two atomic
		// additions per packet would cost more than the rest of the
		// loop.
		n, nbytes, err := s.ring.each(p, s.h)
		s.received.Add(n)
		s.bytes.Add(nbytes)
		if err != nil {
			s.readErrors.Add(1)
			e := fmt.Errorf("read socket %d: %w", s.index, err)
			s.lastErr.Store(&e)
		}
	}
}

// checkError reads and clears the socket's pending error, if any, and
// counts it as a read error.
func (s *socket) checkError() {
	errno, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && errno == 0 {
		return
	}
	if err == nil {
		err = syscall.Errno(errno)
	}
	s.readErrors.Add(1)
	e := fmt.Errorf("read socket %d: %w", s.index, err)
	s.lastErr.Store(&e)
}

// pollStats folds the kernel counters into the totals every StatsInterval,
// so that the kernel's 32-bit counters never wrap between two reads.
func (c *Capture) pollStats() {
	defer c.bg.Done()
	t := time.NewTicker(c.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.mu.Lock()
			if !c.closed {
				c.foldKernelStats()
			}
			c.mu.Unlock()
		}
	}
}

// foldKernelStats reads every socket's kernel counters (which resets them
// in the kernel) and adds them to the totals. gopacket keeps running 32-bit
// sums; the differences since the last read, taken modulo 2^32, are exact as
// long as fewer than 2^32 packets arrive between two reads. c.mu is held.
func (c *Capture) foldKernelStats() error {
	var errs []error
	for _, s := range c.sockets {
		_, v3, err := s.tp.SocketStats()
		if err != nil {
			errs = append(errs, fmt.Errorf("read kernel counters of socket %d: %w", s.index, err))
			continue
		}
		pk, dr, fr := uint32(v3.Packets()), uint32(v3.Drops()), uint32(v3.QueueFreezes())
		s.kernel.Packets += uint64(pk - s.prevPkts)
		s.kernel.Drops += uint64(dr - s.prevDrops)
		s.kernel.Freezes += uint64(fr - s.prevFrz)
		s.prevPkts, s.prevDrops, s.prevFrz = pk, dr, fr
	}
	return errors.Join(errs...)
}

// Stats reads the kernel counters and returns the accumulated statistics.
// After Close it returns the final figures.
func (c *Capture) Stats() (Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if !c.closed {
		err = c.foldKernelStats()
	}
	st := Stats{Interface: c.cfg.Interface, Sockets: make([]SocketStats, len(c.sockets))}
	for i, s := range c.sockets {
		ss := s.kernel
		ss.Received = s.received.Load()
		ss.Bytes = s.bytes.Load()
		ss.ReadErrors = s.readErrors.Load()
		if e := s.lastErr.Load(); e != nil {
			ss.LastError = (*e).Error()
		}
		st.Sockets[i] = ss
		st.Total.add(ss)
	}
	return st, err
}

// Status describes the running capture.
func (c *Capture) Status() Status {
	return Status{
		Interface:               c.cfg.Interface,
		Sockets:                 len(c.sockets),
		RingBytes:               c.cfg.RingBytes(),
		Fanout:                  c.cfg.Fanout,
		FanoutID:                c.fanoutID,
		Filter:                  c.cfg.Filter != nil,
		SequenceLossApproximate: c.cfg.Fanout == FanoutLoadBalance,
	}
}

// Close stops the readers, waits for them to return, reads the kernel
// counters one last time and closes the sockets. It is safe to call more
// than once and from any goroutine except a reader (a Handler).
func (c *Capture) Close() error {
	c.closeOnce.Do(func() {
		c.stopping.Store(true)
		close(c.stop)
		for _, s := range c.sockets {
			s.w.wake()
		}
		// No socket is closed while its reader may be inside a read:
		// gopacket would crash.
		c.readers.Wait()
		c.bg.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.closeE = c.foldKernelStats()
		c.closeSockets()
		c.closed = true
	})
	return c.closeE
}

func (c *Capture) closeSockets() {
	for _, s := range c.sockets {
		s.close()
	}
}

// close releases the poller's duplicate of the descriptor, the ring's
// second mapping and the socket.
func (s *socket) close() {
	s.w.close()
	s.ring.close()
	s.tp.Close()
}

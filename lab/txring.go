package lab

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TPACKET_V2 frame status values (linux/if_packet.h).
const (
	tpStatusAvailable   = 0
	tpStatusSendRequest = 1
	tpStatusWrongFormat = 4
	tpacket2HdrLen      = 32 // TPACKET_ALIGN(sizeof(struct tpacket2_hdr)): frame data starts here
)

// TXStats counts what a TX ring did.
type TXStats struct {
	Frames      uint64 // frames handed to the kernel
	SendCalls   uint64 // send(2) calls that flushed the ring
	WrongFormat uint64 // frames the kernel rejected (TP_STATUS_WRONG_FORMAT)
	SendErrors  uint64 // send(2) calls that failed
	Kept        uint64 // frames whose container body was already in place (see holder)
}

func (s *TXStats) add(o TXStats) {
	s.Frames += o.Frames
	s.SendCalls += o.SendCalls
	s.WrongFormat += o.WrongFormat
	s.SendErrors += o.SendErrors
	s.Kept += o.Kept
}

// TXRing is an AF_PACKET socket with a memory-mapped TPACKET_V2 transmit
// ring (PACKET_TX_RING) bound to one interface: frames are written in
// place into the ring and one send(2) hands a whole batch to the kernel.
// With QDISC_BYPASS the frames skip the interface's queueing discipline and
// tc egress, the fastest path; without it they pass tc egress, where the
// lab's VLAN offload program runs.
type TXRing struct {
	fd        int
	ring      []byte
	frameSize int
	frames    int
	batch     int
	cur       int
	pending   int
	frameOff  func(i int) int
	held      []heldPart // per frame: the stable bytes it holds (see holder)
	noted     bool       // holds was called for the current frame
	Stats     TXStats
}

// heldPart describes stable bytes a frame holds: n bytes from src at
// offset at. src keeps the bytes alive, so the address cannot be reused.
type heldPart struct {
	src   unsafe.Pointer
	n, at int
}

// TXRingConfig sizes a TX ring.
type TXRingConfig struct {
	Ifindex int
	// MaxFrame is the largest frame (Ethernet header included); it sets
	// the ring's frame size.
	MaxFrame int
	// Frames in the ring; 0 means 512.
	Frames int
	// Batch is the number of frames queued before a send(2) hands them
	// to the kernel; 0 or more than half the ring means half the ring.
	// The kernel sends a batch in one go on the calling CPU (on veth,
	// receive included), so a big batch arrives as one burst.
	Batch int
	// QdiscBypass sets PACKET_QDISC_BYPASS.
	QdiscBypass bool
}

// NewTXRing opens the ring. Call it inside the namespace of the interface
// (Namespace.Do); the socket stays there.
func NewTXRing(cfg TXRingConfig) (*TXRing, error) {
	if cfg.Frames == 0 {
		cfg.Frames = 512
	}
	frameSize := (tpacket2HdrLen + cfg.MaxFrame + 15) &^ 15
	// Blocks are whole pages holding whole frames: use one frame per
	// block rounded up to a page multiple only when that wastes little,
	// else 4 pages' worth of frames.
	page := unix.Getpagesize()
	perBlock := max(1, (4*page)/frameSize)
	// The ring gets exactly cfg.Frames frames (a ring that holds a pool
	// cycle must have its length).
	for cfg.Frames%perBlock != 0 {
		perBlock--
	}
	blockSize := (perBlock*frameSize + page - 1) / page * page
	blocks := (cfg.Frames + perBlock - 1) / perBlock
	r := &TXRing{fd: -1, frameSize: frameSize}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open packet socket: %w", err)
	}
	r.fd = fd
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		r.Close()
		return nil, fmt.Errorf("set TPACKET_V2: %w", err)
	}
	if cfg.QdiscBypass {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
			r.Close()
			return nil, fmt.Errorf("set PACKET_QDISC_BYPASS: %w", err)
		}
	}
	// In-flight frames are charged to the send buffer: make room for the
	// whole ring.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 2*blocks*blockSize)
	req := unix.TpacketReq{Block_size: uint32(blockSize), Block_nr: uint32(blocks),
		Frame_size: uint32(frameSize), Frame_nr: uint32(blocks * (blockSize / frameSize))}
	if err := unix.SetsockoptTpacketReq(fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		r.Close()
		return nil, fmt.Errorf("set PACKET_TX_RING: %w", err)
	}
	r.ring, err = unix.Mmap(fd, 0, blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("map tx ring: %w", err)
	}
	// Frames do not straddle blocks: index them block by block.
	r.frames = int(req.Frame_nr)
	r.held = make([]heldPart, r.frames)
	r.batch = max(1, r.frames/2)
	if cfg.Batch > 0 {
		r.batch = min(cfg.Batch, r.batch)
	}
	// Protocol 0: the socket transmits only and receives nothing.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: cfg.Ifindex}); err != nil {
		r.Close()
		return nil, fmt.Errorf("bind packet socket to ifindex %d: %w", cfg.Ifindex, err)
	}
	perBlk := blockSize / frameSize
	r.frameOff = func(i int) int { return (i/perBlk)*blockSize + (i%perBlk)*frameSize }
	return r, nil
}

func (r *TXRing) status(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.ring[r.frameOff(i)]))
}

// next returns the data area of the next free frame, flushing and waiting
// for the kernel when the ring is full.
func (r *TXRing) next() ([]byte, error) {
	st := r.status(r.cur)
	for tries := 0; ; tries++ {
		switch atomic.LoadUint32(st) {
		case tpStatusAvailable:
			r.noted = false
			off := r.frameOff(r.cur)
			return r.ring[off+tpacket2HdrLen : off+r.frameSize], nil
		case tpStatusWrongFormat:
			r.Stats.WrongFormat++
			atomic.StoreUint32(st, tpStatusAvailable)
			continue
		}
		if err := r.Flush(); err != nil {
			return nil, err
		}
		if tries > 0 {
			fds := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, 10); err != nil && !errors.Is(err, unix.EINTR) {
				return nil, fmt.Errorf("poll tx ring: %w", err)
			}
		}
		if tries > 1000 {
			return nil, errors.New("wait for tx ring: frame not released within 10s")
		}
	}
}

// holds implements holder: the kernel only reads the frames of a TX ring,
// so a frame keeps what was written into it until it is written again.
func (r *TXRing) holds(at int, src []byte) bool {
	h := &r.held[r.cur]
	p := unsafe.Pointer(unsafe.SliceData(src))
	ok := h.src == p && h.n == len(src) && h.at == at
	*h = heldPart{src: p, n: len(src), at: at}
	r.noted = true
	if ok {
		r.Stats.Kept++
	}
	return ok
}

// commit queues the frame of n bytes written into the last buffer from
// next, flushing when half the ring is queued.
func (r *TXRing) commit(n int) error {
	if !r.noted {
		r.held[r.cur] = heldPart{}
	}
	r.noted = false
	off := r.frameOff(r.cur)
	hdr := r.ring[off : off+tpacket2HdrLen]
	*(*uint32)(unsafe.Pointer(&hdr[4])) = uint32(n) // tp_len
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&hdr[0])), tpStatusSendRequest)
	r.cur = (r.cur + 1) % r.frames
	r.pending++
	r.Stats.Frames++
	if r.pending >= r.batch {
		return r.Flush()
	}
	return nil
}

// Flush hands the queued frames to the kernel and waits until it has sent
// them.
func (r *TXRing) Flush() error {
	if r.pending == 0 {
		return nil
	}
	r.pending = 0
	r.Stats.SendCalls++
	for {
		_, err := unix.SendmsgN(r.fd, nil, nil, nil, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			r.Stats.SendErrors++
			return fmt.Errorf("send tx ring: %w", err)
		}
		return nil
	}
}

// Close flushes nothing: it unmaps the ring and closes the socket.
func (r *TXRing) Close() error {
	var errs []error
	if r.ring != nil {
		errs = append(errs, unix.Munmap(r.ring))
		r.ring = nil
	}
	if r.fd >= 0 {
		errs = append(errs, unix.Close(r.fd))
		r.fd = -1
	}
	return errors.Join(errs...)
}

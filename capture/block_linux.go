package capture

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// blockRing walks the TPACKET_V3 blocks of one socket's receive ring.
//
// gopacket sets the socket and its ring up, but its read path is not used:
// per packet it takes a mutex, makes an atomic addition and, for a frame
// with a VLAN tag, allocates (the tag travels in an []interface{}), and at
// the end of every burst it makes a poll(2) system call, which wakes the Go
// runtime's monitor thread. Those cost more than reading the packet. This
// walker maps the same ring a second time (a packet socket's ring may be
// mapped more than once) and reads the kernel's headers in place: no lock,
// no allocation, no system call unless the ring is empty. It also reads and
// hands back the block status with atomic operations, which gopacket does
// not.
type blockRing struct {
	mem       []byte
	blockSize int
	blocks    int
	cur       int // block the reader is at
}

// tpacket3HdrLen is TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): the
// packet's struct sockaddr_ll follows its header there.
const tpacket3HdrLen = (int(unsafe.Sizeof(unix.Tpacket3Hdr{})) + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1)

func mapBlocks(fd, blockSize, blocks int) (*blockRing, error) {
	mem, err := unix.Mmap(fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map receive ring: %w", err)
	}
	return &blockRing{mem: mem, blockSize: blockSize, blocks: blocks}, nil
}

// header returns the header of the current block.
func (r *blockRing) header() *unix.TpacketHdrV1 {
	bd := (*unix.TpacketBlockDesc)(unsafe.Pointer(&r.mem[r.cur*r.blockSize]))
	return (*unix.TpacketHdrV1)(unsafe.Pointer(&bd.Hdr))
}

// ready reports whether the kernel handed the current block to user space.
func (r *blockRing) ready() bool {
	return atomic.LoadUint32(&r.header().Block_status)&unix.TP_STATUS_USER != 0
}

// errBadBlock reports a block whose packet offsets leave the block; the
// rest of the block is skipped.
var errBadBlock = errors.New("packet offsets outside the ring block")

// each fills p for every packet of the current block, which must be
// ready, and hands it to h, then gives the block back to the kernel and
// moves to the next one. It returns how many packets and bytes h got.
func (r *blockRing) each(p *Packet, h Handler) (n, bytes uint64, err error) {
	hdr := r.header()
	block := r.mem[r.cur*r.blockSize : (r.cur+1)*r.blockSize]
	off := int(hdr.Offset_to_first_pkt)
	for i := hdr.Num_pkts; i > 0; i-- {
		if off < 0 || off+tpacket3HdrLen+int(unsafe.Sizeof(unix.RawSockaddrLinklayer{})) > len(block) {
			err = errBadBlock
			break
		}
		ph := (*unix.Tpacket3Hdr)(unsafe.Pointer(&block[off]))
		start := off + int(ph.Mac)
		end := start + int(ph.Snaplen)
		if end > len(block) || start < off {
			err = errBadBlock
			break
		}
		p.Data = block[start:end:end]
		p.Length = int(ph.Len)
		p.Timestamp = time.Unix(int64(ph.Sec), int64(ph.Nsec))
		p.Ifindex = int((*unix.RawSockaddrLinklayer)(unsafe.Pointer(&block[off+tpacket3HdrLen])).Ifindex)
		p.HasVLAN = ph.Status&unix.TP_STATUS_VLAN_VALID != 0
		p.VLAN = 0
		if p.HasVLAN {
			p.VLAN = uint16(ph.Hv1.Vlan_tci & 0xfff)
		}
		next := int(ph.Next_offset)
		h.HandlePacket(p)
		n++
		bytes += uint64(end - start)
		if next == 0 {
			break
		}
		off += next
	}
	p.Data = nil
	// The kernel may fill the block again once it sees this store: every
	// read of the block happened before it.
	atomic.StoreUint32(&hdr.Block_status, unix.TP_STATUS_KERNEL)
	r.cur = (r.cur + 1) % r.blocks
	return n, bytes, err
}

// close unmaps the ring; gopacket's own mapping stays until it closes.
func (r *blockRing) close() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	return err
}

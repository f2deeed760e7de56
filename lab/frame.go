package lab

import (
	"encoding/binary"
	"math/bits"
	"net"
	"net/netip"
)

// Frame layout constants.
const (
	ethHeader  = 14
	vlanHeader = 4
	ipHeader   = 20
	udpHeader  = 8
	// senderPortBase + channel is the UDP source port of a channel's
	// sender.
	senderPortBase = 40000
)

// csum returns the ones' complement sum of b read as big-endian 16-bit
// words, unfolded. It is hand-written with 64-bit adds because it runs
// over every datagram the generator sends: the byte-pair loop costs several
// times more at 8 KB.
func csum(b []byte) uint64 {
	var s, c uint64
	for len(b) >= 32 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	s, c = bits.Add64(s, c, 0)
	s += c // 2^64 is 1 modulo 0xffff: the carry wraps around
	var t uint64
	for len(b) >= 2 {
		t += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		t += uint64(b[0]) << 8
	}
	return addFold(s, t)
}

// addFold adds two partial sums, keeping the result below 2^48.
func addFold(a, b uint64) uint64 {
	a = a>>32 + a&0xffffffff
	b = b>>32 + b&0xffffffff
	return a + b
}

// fold16 folds a partial sum to 16 bits.
func fold16(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// sumAt returns the contribution of a partial sum of bytes that start at
// offset off of the checksummed data: bytes at an odd offset sit in the
// low half of the 16-bit words.
func sumAt(s uint64, off int) uint64 {
	if off&1 == 0 {
		return s
	}
	return uint64(bits.ReverseBytes16(fold16(s)))
}

// flow is the addressing of one channel's sender.
type flow struct {
	dstMAC, srcMAC [6]byte
	vlan           int // -1: untagged
	src, dst       [4]byte
	sport, dport   uint16
	ipID           uint16
	mtu            int // IP MTU: larger datagrams are fragmented
}

func newFlow(ch int, srcMAC net.HardwareAddr, vlan bool, mtu int) flow {
	f := flow{
		dstMAC: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		vlan:   -1,
		src:    channelHost(ch, 1).Addr().As4(),
		dst:    ChannelBroadcast(ch).As4(),
		sport:  uint16(senderPortBase + ch),
		dport:  ChannelPort,
		mtu:    mtu,
	}
	copy(f.srcMAC[:], srcMAC)
	if vlan {
		f.vlan = ch
	}
	return f
}

// Src returns the sender's address and port.
func (f *flow) Src() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4(f.src), f.sport)
}

// l2len is the length of the Ethernet (and 802.1Q) header.
func (f *flow) l2len() int {
	if f.vlan >= 0 {
		return ethHeader + vlanHeader
	}
	return ethHeader
}

// parts is a datagram held in up to three pieces (header, body, tail), so
// the pooled fast path can patch a container without copying it twice.
type parts [3][]byte

func (p *parts) len() int { return len(p[0]) + len(p[1]) + len(p[2]) }

// noStable tells emit that no part of a datagram stays the same.
const noStable = -1

// copyFrom copies the bytes at offset off of the datagram into dst and
// returns how many it copied. Of part number stable, which must never
// change, it copies nothing when h reports that dst, at offset at in the
// frame, still holds those bytes from the frame buffer's last use.
func (p *parts) copyFrom(dst []byte, off, at, stable int, h holder) int {
	n := 0
	for i, s := range p {
		if off >= len(s) {
			off -= len(s)
			continue
		}
		src := s[off:]
		if len(src) > len(dst)-n {
			src = src[:len(dst)-n]
		}
		if i != stable || h == nil || !h.holds(at+n, src) {
			copy(dst[n:], src)
		}
		n += len(src)
		off = 0
		if n == len(dst) {
			break
		}
	}
	return n
}

// holder is implemented by frame sinks whose buffers keep their bytes
// between uses (the TX ring, whose frames the kernel only reads). A pooled
// datagram's container body is the same bytes each time round the pool, so
// when the ring's frames line up with the pool's cycle a frame already
// holds the body and only headers and sequence numbers are written again.
// That saves copying about 8 KB per frame, a quarter of the generator's
// CPU time.
type holder interface {
	// holds reports whether the current frame buffer holds src at
	// offset at since its last use, and notes that it will hold it.
	holds(at int, src []byte) bool
}

// frameSink hands out frame buffers and takes them back filled.
type frameSink interface {
	// next returns a buffer for one frame, at least maxFrame bytes.
	next() ([]byte, error)
	// commit queues the frame of n bytes written into the last buffer.
	commit(n int) error
}

// emit writes the frames of one UDP datagram (d, whose ones' complement
// sum is dsum) into sink, IP-fragmenting it as the kernel would when it
// exceeds the MTU. It returns the frames and frame bytes sent.
//
// Part number stable of d (or noStable) never changes: a sink that is a
// holder may keep it in its buffers instead of having it copied each time.
func (f *flow) emit(sink frameSink, d *parts, dsum uint64, stable int) (frames, bytes int, err error) {
	h, _ := sink.(holder)
	n := d.len()
	ulen := udpHeader + n
	var udp [udpHeader]byte
	binary.BigEndian.PutUint16(udp[0:], f.sport)
	binary.BigEndian.PutUint16(udp[2:], f.dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(ulen))
	s := addFold(dsum, uint64(binary.BigEndian.Uint16(f.src[:]))+uint64(binary.BigEndian.Uint16(f.src[2:]))+
		uint64(binary.BigEndian.Uint16(f.dst[:]))+uint64(binary.BigEndian.Uint16(f.dst[2:]))+
		17+uint64(ulen)+uint64(f.sport)+uint64(f.dport)+uint64(ulen))
	c := ^fold16(s)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], c)
	f.ipID++

	chunk := f.chunk(ulen)
	l2 := f.l2len()
	for off := 0; off < ulen; off += chunk {
		m := min(chunk, ulen-off)
		buf, err := sink.next()
		if err != nil {
			return frames, bytes, err
		}
		f.putHeaders(buf, m, off, off+m < ulen)
		p := buf[l2+ipHeader : l2+ipHeader+m]
		at := l2 + ipHeader
		if off == 0 {
			copy(p, udp[:])
			d.copyFrom(p[udpHeader:], 0, at+udpHeader, stable, h)
		} else {
			d.copyFrom(p, off-udpHeader, at, stable, h)
		}
		if err := sink.commit(l2 + ipHeader + m); err != nil {
			return frames, bytes, err
		}
		frames++
		bytes += l2 + ipHeader + m
	}
	return frames, bytes, nil
}

// chunk is the IP payload bytes per frame of a UDP datagram of ulen bytes:
// all of it, or what fits the MTU in multiples of 8 (IP fragments).
func (f *flow) chunk(ulen int) int {
	if ipHeader+ulen > f.mtu {
		return (f.mtu - ipHeader) &^ 7
	}
	return ulen
}

// frames is how many frames emit writes for n bytes of UDP payload.
func (f *flow) frames(n int) int {
	ulen := udpHeader + n
	c := f.chunk(ulen)
	return (ulen + c - 1) / c
}

// putHeaders writes the Ethernet, optional 802.1Q and IPv4 headers of a
// frame carrying m bytes of IP payload at fragment offset off.
func (f *flow) putHeaders(b []byte, m, off int, more bool) {
	copy(b[0:6], f.dstMAC[:])
	copy(b[6:12], f.srcMAC[:])
	i := 12
	if f.vlan >= 0 {
		binary.BigEndian.PutUint16(b[12:], 0x8100)
		binary.BigEndian.PutUint16(b[14:], uint16(f.vlan))
		i = 16
	}
	binary.BigEndian.PutUint16(b[i:], 0x0800)
	ip := b[i+2 : i+2+ipHeader]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(ipHeader+m))
	binary.BigEndian.PutUint16(ip[4:], f.ipID)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(ip[6:], fo)
	ip[8], ip[9] = 64, 17
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], f.src[:])
	copy(ip[16:20], f.dst[:])
	binary.BigEndian.PutUint16(ip[10:], ^fold16(csum(ip)))
}

package pipeline

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// ErrNotUDP marks a frame Frame skipped: not IPv4 or IPv6 carrying UDP,
// or an IP fragment (capture's DEFRAG fanout hands over whole datagrams).
var ErrNotUDP = errors.New("frame is not a whole UDP datagram")

// ErrBadFrame marks a frame whose headers are truncated or inconsistent.
var ErrBadFrame = errors.New("malformed frame")

// Frame decodes one captured Ethernet frame (as capture delivers it: the
// 802.1Q tag already stripped by the kernel, though an in-band tag is
// skipped too) received at ts: it finds the UDP datagram and passes it to
// Datagram. The frame may be reused when Frame returns. Frames that are not
// UDP are counted in ReaderStats.NotUDP, damaged ones in BadFrames.
func (r *Reader) Frame(frame []byte, ts time.Time) error {
	r.st.Frames++
	src, _, payload, err := ParseFrame(frame)
	if err != nil {
		if errors.Is(err, ErrNotUDP) {
			r.st.NotUDP++
		} else {
			r.st.BadFrames++
		}
		return err
	}
	return r.Datagram(src, payload, ts)
}

// ParseFrame returns the source, the destination and the payload of the
// UDP datagram in an Ethernet frame, or ErrNotUDP or ErrBadFrame. The
// payload aliases the frame. It runs once per captured frame and does not
// allocate: the daemon routes each frame to its channel by the destination
// before handing the payload to that channel's Reader.
func ParseFrame(f []byte) (src, dst netip.AddrPort, payload []byte, err error) {
	var none netip.AddrPort
	if len(f) < 14 {
		return none, none, nil, ErrBadFrame
	}
	et, off := binary.BigEndian.Uint16(f[12:14]), 14
	for et == 0x8100 || et == 0x88a8 {
		if len(f) < off+4 {
			return none, none, nil, ErrBadFrame
		}
		et, off = binary.BigEndian.Uint16(f[off+2:off+4]), off+4
	}
	var saddr, daddr netip.Addr
	var t []byte
	switch et {
	case 0x0800:
		p := f[off:]
		if len(p) < 20 || p[0]>>4 != 4 {
			return none, none, nil, ErrBadFrame
		}
		proto, tr, frag, ok := ipTransport(p, false)
		if !ok {
			return none, none, nil, ErrBadFrame
		}
		if frag || proto != protoUDP {
			return none, none, nil, ErrNotUDP
		}
		saddr, daddr, t = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), tr
	case 0x86dd:
		p := f[off:]
		proto, tr, frag, ok := ipTransport(p, true)
		if !ok {
			return none, none, nil, ErrBadFrame
		}
		if frag || proto != protoUDP {
			return none, none, nil, ErrNotUDP
		}
		saddr, daddr, t = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40])), tr
	default:
		return none, none, nil, ErrNotUDP
	}
	payload, ok := udpData(t)
	if !ok {
		return none, none, nil, ErrBadFrame
	}
	src = netip.AddrPortFrom(saddr, binary.BigEndian.Uint16(t[0:2]))
	dst = netip.AddrPortFrom(daddr, binary.BigEndian.Uint16(t[2:4]))
	return src, dst, payload, nil
}

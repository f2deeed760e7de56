package kerneltests

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/siecap/siecap/internal/testvectors"
)

// tag is an inline VLAN tag.
type tag struct {
	proto uint16 // 0x8100 or 0x88a8
	vid   uint16
}

// frameSpec describes a test frame: Ethernet, inline tags, IPv4 or IPv6,
// UDP and a UDP payload.
type frameSpec struct {
	tags     []tag
	dst      netip.AddrPort
	payload  []byte
	ipProto  uint8  // 0 means UDP
	frag     bool   // IPv4 more-fragments flag
	ihl      uint8  // IPv4 header words; 0 means 5
	hopByHop bool   // IPv6 next header 0 (hop-by-hop options)
	udpLen   int    // override the UDP length field when > 0
	sport    uint16 // UDP source port; 0 means 40000
}

var (
	macA  = []byte{0x02, 0, 0, 0, 0, 0x0a}
	macB  = []byte{0x02, 0, 0, 0, 0, 0x0b}
	srcV4 = netip.MustParseAddr("198.18.0.1")
	srcV6 = netip.MustParseAddr("2001:2::1") // benchmarking range, RFC 5180
)

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// build returns the frame.
func (s frameSpec) build() []byte {
	b := append([]byte{}, macB...)
	b = append(b, macA...)
	for _, t := range s.tags {
		b = binary.BigEndian.AppendUint16(b, t.proto)
		b = binary.BigEndian.AppendUint16(b, t.vid)
	}
	proto := s.ipProto
	if proto == 0 {
		proto = 17
	}
	if s.hopByHop {
		proto = 0
	}
	udp := make([]byte, 8, 8+len(s.payload))
	sport := s.sport
	if sport == 0 {
		sport = 40000
	}
	binary.BigEndian.PutUint16(udp[0:], sport)
	binary.BigEndian.PutUint16(udp[2:], s.dst.Port())
	ul := 8 + len(s.payload)
	if s.udpLen > 0 {
		ul = s.udpLen
	}
	binary.BigEndian.PutUint16(udp[4:], uint16(ul))
	udp = append(udp, s.payload...)
	if s.dst.Addr().Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ihl := s.ihl
		if ihl == 0 {
			ihl = 5
		}
		h := make([]byte, int(ihl)*4)
		h[0] = 0x40 | ihl
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)+len(udp)))
		if s.frag {
			binary.BigEndian.PutUint16(h[6:], 0x2000)
		}
		h[8] = 64
		h[9] = proto
		src, dst := srcV4.As4(), s.dst.Addr().As4()
		copy(h[12:], src[:])
		copy(h[16:], dst[:])
		binary.BigEndian.PutUint16(h[10:], ipChecksum(h))
		b = append(b, h...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(udp)))
		h[6] = proto
		h[7] = 64
		src, dst := srcV6.As16(), s.dst.Addr().As16()
		copy(h[8:], src[:])
		copy(h[24:], dst[:])
		b = append(b, h...)
	}
	return append(b, udp...)
}

// payload describes one NmsgPayload.
type payload struct {
	vid, msgtype uint32
	body         int  // bytes of the inner message
	odd          bool // put time_sec before vid (valid protobuf, not the usual order)
}

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func (p payload) encode() []byte {
	var b []byte
	if p.odd {
		b = append(b, 0x18)
		b = appendVarint(b, 1519311169)
	}
	b = append(b, 0x08)
	b = appendVarint(b, uint64(p.vid))
	b = append(b, 0x10)
	b = appendVarint(b, uint64(p.msgtype))
	if !p.odd {
		b = append(b, 0x18)
		b = appendVarint(b, 1519311169)
	}
	b = append(b, 0x25, 0x24, 0x9c, 0x49, 0x1e)
	if p.body > 0 {
		b = append(b, 0x2a)
		b = appendVarint(b, uint64(p.body))
		for i := range p.body {
			b = append(b, byte(i*7))
		}
	}
	return append(b, 0x38, 0xcf, 0x85, 0xe8, 0x8d, 0x0a)
}

// container returns an NMSG container (header and body) with flags.
func container(flags byte, crcs, seq bool, ps ...payload) []byte {
	var body []byte
	for _, p := range ps {
		e := p.encode()
		body = append(body, 0x0a)
		body = appendVarint(body, uint64(len(e)))
		body = append(body, e...)
	}
	if crcs {
		for i := range ps {
			body = append(body, 0x10)
			body = appendVarint(body, uint64(0x54c3d8c3+i))
		}
	}
	if seq {
		body = append(body, 0x18, 0x07, 0x20)
		body = appendVarint(body, 0x0123456789abcdef)
	}
	return withHeader(flags, 2, body)
}

func withHeader(flags, version byte, body []byte) []byte {
	h := []byte{'N', 'M', 'S', 'G', flags, version, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[6:], uint32(len(body)))
	return append(h, body...)
}

// vectorsDir finds ../shared/vectors relative to the directory holding
// go.mod, or skips.
func vectorsDir(t testing.TB) string { return testvectors.Require(t) }

// splitContainers cuts an NMSG stream into containers (header included),
// keeping those of at most max bytes.
func splitContainers(b []byte, max int) [][]byte {
	var out [][]byte
	for len(b) >= 10 {
		n := int(binary.BigEndian.Uint32(b[6:]))
		if 10+n > len(b) {
			break
		}
		if 10+n <= max {
			out = append(out, b[:10+n])
		}
		b = b[10+n:]
	}
	return out
}

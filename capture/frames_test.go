package capture_test

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"

	"github.com/siecap/siecap/capture"
)

// udpFrame builds an Ethernet frame (802.1Q-tagged when vid != 0) carrying
// an IPv4 UDP datagram with payload.
func udpFrame(dst, src net.HardwareAddr, vid uint16, from, to netip.Addr, sport, dport uint16, payload []byte) []byte {
	f := make([]byte, 0, 18+28+len(payload))
	f = append(f, dst...)
	f = append(f, src...)
	if vid != 0 {
		f = binary.BigEndian.AppendUint16(f, 0x8100)
		f = binary.BigEndian.AppendUint16(f, vid)
	}
	f = binary.BigEndian.AppendUint16(f, 0x0800)
	ip := len(f)
	f = append(f, 0x45, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(28+len(payload)))
	f = append(f, 0, 0, 0x40, 0, 64, 17, 0, 0) // id, DF, ttl, udp, checksum
	f = append(f, from.AsSlice()...)
	f = append(f, to.AsSlice()...)
	var sum uint32
	for i := ip; i < ip+20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(f[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(f[ip+10:], ^uint16(sum))
	f = binary.BigEndian.AppendUint16(f, sport)
	f = binary.BigEndian.AppendUint16(f, dport)
	f = binary.BigEndian.AppendUint16(f, uint16(8+len(payload)))
	f = append(f, 0, 0) // no UDP checksum
	return append(f, payload...)
}

// datagram is what a recorder keeps of one captured UDP datagram.
type datagram struct {
	socket   int
	sport    uint16
	seq      uint64 // first 8 bytes of the payload
	payload  int    // UDP payload length from the UDP header
	capLen   int    // len(Packet.Data)
	wireLen  int    // Packet.Length
	vlan     uint16
	hasVLAN  bool
	fragment bool // the IPv4 header says fragment (should never be seen with DEFRAG)
}

// recorder is a test Handler that keeps a record of every IPv4 UDP datagram
// to one destination port. It copies what it keeps: Packet.Data is not
// retained.
type recorder struct {
	port uint16
	mu   sync.Mutex
	got  []datagram
}

func (r *recorder) handler(int) capture.Handler { return r }

func (r *recorder) HandlePacket(p *capture.Packet) {
	d := p.Data
	if len(d) < 14+20+8 || binary.BigEndian.Uint16(d[12:]) != 0x0800 {
		return
	}
	ip := d[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != 17 || len(ip) < ihl+8 {
		return
	}
	udp := ip[ihl:]
	if binary.BigEndian.Uint16(udp[2:]) != r.port {
		return
	}
	g := datagram{
		socket:   p.Socket,
		sport:    binary.BigEndian.Uint16(udp[0:]),
		payload:  int(binary.BigEndian.Uint16(udp[4:])) - 8,
		capLen:   len(p.Data),
		wireLen:  p.Length,
		vlan:     p.VLAN,
		hasVLAN:  p.HasVLAN,
		fragment: binary.BigEndian.Uint16(ip[6:])&0x3fff != 0,
	}
	if len(udp) >= 16 {
		g.seq = binary.BigEndian.Uint64(udp[8:])
	}
	r.mu.Lock()
	r.got = append(r.got, g)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []datagram {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]datagram(nil), r.got...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

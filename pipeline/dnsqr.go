package pipeline

import (
	"encoding/binary"
	"slices"
)

const protoUDP = 17

// dnsPayload returns the DNS message carried by a dnsqr response: the UDP
// payload of the IP packet (or of the IP fragments, reassembled into
// scratch) that base/dnsqr stores. v6 says which IP version response_ip
// has. It reports false for anything that is not one whole UDP datagram.
func dnsPayload(pkts [][]byte, v6 bool, scratch []byte) (msg, buf []byte, ok bool) {
	if len(pkts) == 1 {
		proto, t, frag, ok := ipTransport(pkts[0], v6)
		if !ok || frag || proto != protoUDP {
			return nil, scratch, false
		}
		msg, ok = udpData(t)
		return msg, scratch, ok
	}
	if len(pkts) == 0 || len(pkts) > 64 {
		return nil, scratch, false
	}
	type frag struct {
		off  int
		more bool
		data []byte
	}
	var fs [64]frag
	for i, p := range pkts {
		off, more, data, ok := fragment(p, v6)
		if !ok {
			return nil, scratch, false
		}
		fs[i] = frag{off, more, data}
	}
	list := fs[:len(pkts)]
	slices.SortFunc(list, func(a, b frag) int { return a.off - b.off })
	buf = scratch[:0]
	for i, f := range list {
		if f.off != len(buf) || f.more != (i < len(list)-1) {
			return nil, scratch, false
		}
		buf = append(buf, f.data...)
	}
	msg, ok = udpData(buf)
	return msg, buf, ok
}

// ipTransport returns the protocol and transport bytes of an IP packet and
// whether it is a fragment.
func ipTransport(p []byte, v6 bool) (proto byte, t []byte, frag, ok bool) {
	if !v6 {
		if len(p) < 20 || p[0]>>4 != 4 {
			return 0, nil, false, false
		}
		hl := int(p[0]&0xf) << 2
		tot := int(binary.BigEndian.Uint16(p[2:4]))
		if hl < 20 || tot < hl || tot > len(p) {
			return 0, nil, false, false
		}
		fo := binary.BigEndian.Uint16(p[6:8])
		return p[9], p[hl:tot], fo&0x3fff != 0, true
	}
	if len(p) < 40 || p[0]>>4 != 6 {
		return 0, nil, false, false
	}
	plen := int(binary.BigEndian.Uint16(p[4:6]))
	if 40+plen > len(p) {
		return 0, nil, false, false
	}
	next, off, end := p[6], 40, 40+plen
	for next == 0 || next == 43 || next == 60 || next == 44 {
		if off+8 > end {
			return 0, nil, false, false
		}
		if next == 44 {
			return 44, nil, true, true
		}
		next, off = p[off], off+8*(int(p[off+1])+1)
	}
	if off > end {
		return 0, nil, false, false
	}
	return next, p[off:end], false, true
}

// fragment returns the offset, more-fragments flag and data of an IP
// fragment (of UDP).
func fragment(p []byte, v6 bool) (off int, more bool, data []byte, ok bool) {
	if !v6 {
		proto, t, _, ok := ipTransport(p, false)
		if !ok || proto != protoUDP {
			return 0, false, nil, false
		}
		fo := binary.BigEndian.Uint16(p[6:8])
		return int(fo&0x1fff) * 8, fo&0x2000 != 0, t, true
	}
	// Only a fragment header right after the fixed header is handled.
	if len(p) < 48 || p[0]>>4 != 6 || p[6] != 44 || p[40] != protoUDP {
		return 0, false, nil, false
	}
	plen := int(binary.BigEndian.Uint16(p[4:6]))
	if 40+plen > len(p) || plen < 8 {
		return 0, false, nil, false
	}
	fo := binary.BigEndian.Uint16(p[42:44])
	return int(fo &^ 7), fo&1 != 0, p[48 : 40+plen], true
}

// udpData returns the payload of a UDP datagram (header included in t),
// bounded by its length field.
func udpData(t []byte) ([]byte, bool) {
	if len(t) < 8 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(t[4:6]))
	if n < 8 || n > len(t) {
		return nil, false
	}
	return t[8:n], true
}

package msgmod

import (
	"encoding/binary"
	"sort"
)

// IP datagram parsing for the dnsqr and ncap modules: libnmsg's
// nmsg_ipdg_parse (UDP payload of an unfragmented IPv4/IPv6 packet),
// nmsg_ipdg_parse_pcap_raw and the reassembly of a fragmented response.
// Unlike libnmsg they check every length against the bytes present.

const (
	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17
)

// ipdg is a parsed IP datagram.
type ipdg struct {
	v6        bool
	proto     uint8
	network   []byte // the whole packet
	transport []byte // from the transport header on
	fragment  bool
}

// parseIP parses the network header of pkt as IPv4 (v6 false) or IPv6, as
// the network part of _nmsg_ipdg_parse_reasm does.
func parseIP(pkt []byte, v6 bool) (ipdg, bool) {
	dg := ipdg{v6: v6, network: pkt}
	if !v6 {
		if len(pkt) < 20 {
			return dg, false
		}
		hl := int(pkt[0]&0xf) << 2
		if hl > len(pkt) {
			return dg, false
		}
		off := binary.BigEndian.Uint16(pkt[6:8])
		dg.fragment = off&0x1fff != 0 || off&0x2000 != 0
		dg.proto = pkt[9]
		dg.transport = pkt[hl:]
		return dg, true
	}
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return dg, false
	}
	next := pkt[6]
	thusfar := 40
	plen := int(binary.BigEndian.Uint16(pkt[4:6]))
	for next == 0 || next == 43 || next == 44 || next == 60 || next == 51 || next == 50 {
		if thusfar+2 > len(pkt) {
			return dg, false
		}
		if next == 44 {
			dg.fragment = true
			break
		}
		next = pkt[thusfar]
		// libnmsg reads the length octet through ntohs of a uint8
		// struct member, i.e. as the octet itself.
		ext := 8 * (int(pkt[thusfar+1]) + 1)
		if ext > plen {
			return dg, false
		}
		thusfar += ext
		plen -= ext
	}
	if thusfar+plen > len(pkt) || plen == 0 {
		return dg, false
	}
	dg.proto = next
	dg.transport = pkt[thusfar:]
	return dg, true
}

// udpPayload is nmsg_ipdg_parse: the UDP payload of an unfragmented packet.
func udpPayload(pkt []byte, v6 bool) ([]byte, bool) {
	dg, ok := parseIP(pkt, v6)
	if !ok || dg.fragment || dg.proto != protoUDP {
		return nil, false
	}
	return udpData(dg.transport)
}

func udpData(t []byte) ([]byte, bool) {
	if len(t) < 8 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(t[4:6]))
	if n >= 8 {
		n -= 8
	}
	t = t[8:]
	if n > len(t) {
		n = len(t)
	}
	return t[:n], true
}

// fragInfo returns the offset, more-fragments flag and data of an IP
// fragment, as ipreasm's reasm_parse_packet reads them.
func fragInfo(pkt []byte) (v6 bool, off int, more bool, data []byte, ok bool) {
	if len(pkt) < 1 {
		return
	}
	switch pkt[0] >> 4 {
	case 4:
		if len(pkt) < 20 {
			return
		}
		hl := int(pkt[0]&0xf) << 2
		tot := int(binary.BigEndian.Uint16(pkt[2:4]))
		if hl < 20 || tot < hl || tot > len(pkt) {
			return
		}
		fo := binary.BigEndian.Uint16(pkt[6:8])
		return false, int(fo&0x1fff) * 8, fo&0x2000 != 0, pkt[hl:tot], true
	case 6:
		if len(pkt) < 48 || pkt[6] != 44 {
			return
		}
		plen := int(binary.BigEndian.Uint16(pkt[4:6]))
		if 40+plen > len(pkt) || plen < 8 {
			return
		}
		fo := binary.BigEndian.Uint16(pkt[42:44])
		return true, int(fo &^ 7), fo&1 != 0, pkt[48 : 40+plen], true
	}
	return
}

// reassembleUDP reassembles the fragments of one UDP datagram into scratch
// and returns its UDP payload.
func reassembleUDP(pkts [][]byte, scratch []byte) ([]byte, []byte, bool) {
	type frag struct {
		off  int
		more bool
		data []byte
	}
	var frags [16]frag
	fs := frags[:0]
	var first []byte
	for _, p := range pkts {
		_, off, more, data, ok := fragInfo(p)
		if !ok {
			return scratch, nil, false
		}
		if off == 0 {
			first = p
		}
		fs = append(fs, frag{off, more, data})
	}
	if first == nil {
		return scratch, nil, false
	}
	// the reassembled datagram must be UDP (libnmsg parses nothing else)
	if (first[0]>>4 == 4 && first[9] != protoUDP) || (first[0]>>4 == 6 && first[40] != protoUDP) {
		return scratch, nil, false
	}
	sort.Slice(fs, func(a, b int) bool { return fs[a].off < fs[b].off })
	scratch = scratch[:0]
	end := 0
	for i, f := range fs {
		if f.off != end {
			return scratch, nil, false
		}
		scratch = append(scratch, f.data...)
		end += len(f.data)
		if !f.more {
			if i != len(fs)-1 {
				return scratch, nil, false
			}
			pl, ok := udpData(scratch)
			return scratch, pl, ok
		}
	}
	return scratch, nil, false
}

package msgmod

import (
	"encoding/binary"
	"strconv"
)

// Base vendor module ncap (1:1), from libnmsg nmsg/base/ncap.c: an IP
// datagram (or a legacy ncap record) with the computed fields srcip and
// dstip (presentation), srcport, dstport, proto and dns.

const (
	ncType = iota
	ncLtype
	ncSrcIP
	ncDstIP
	ncLint0
	ncLint1
	ncSrcPort
	ncDstPort
	ncProto
	ncPayload
)

const (
	ncapIPv4   = 0
	ncapIPv6   = 1
	ncapLegacy = 2
)

func init() {
	register(&Module{Vid: 1, Msgtype: 1, VName: "base", MName: "ncap", Fields: []Field{
		ncType: {Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("IPV4", "IPV6", "Legacy")},
		ncLtype: {Name: "ltype", Tag: 3, Type: ftEnum, PB: pbUvarint, NoPrint: true,
			Enum: enumSeq("UDP", "TCP", "ICMP")},
		ncSrcIP:   {Name: "srcip", Tag: 4, Type: ftIP, PB: pbBytes, get: ncapSrcIP},
		ncDstIP:   {Name: "dstip", Tag: 5, Type: ftIP, PB: pbBytes, get: ncapDstIP},
		ncLint0:   {Name: "lint0", Tag: 6, Type: ftUint32, PB: pbUvarint, NoPrint: true},
		ncLint1:   {Name: "lint1", Tag: 7, Type: ftUint32, PB: pbUvarint, NoPrint: true},
		ncSrcPort: {Name: "srcport", Type: ftUint16, get: ncapSrcPort},
		ncDstPort: {Name: "dstport", Type: ftUint16, get: ncapDstPort},
		ncProto:   {Name: "proto", Type: ftUint16, get: ncapProto},
		ncPayload: {Name: "payload", Tag: 2, Type: ftBytes, PB: pbBytes, Required: true,
			print: ncapPrintPayload},
		{Name: "dns", Type: ftBytes, NoPrint: true, get: ncapDNS},
	}})
}

// ncapInfo is ncap_msg_load: what the getters compute from the packet.
type ncapInfo struct {
	ok                  bool // msg_load succeeded
	typ                 uint64
	src, dst            []byte
	hasSport, hasDport  bool
	sport, dport, proto uint32
	dg                  ipdg
	udpOK               bool
	udpPayload          []byte
}

func ncapLoad(m *msg) ncapInfo {
	var n ncapInfo
	pl, _ := m.one(ncPayload)
	if pl.null || len(pl.b) == 0 {
		return n
	}
	t, _ := m.one(ncType)
	n.typ = t.u
	pkt := pl.b
	switch t.u {
	case ncapIPv4, ncapIPv6:
		v6 := t.u == ncapIPv6
		if (!v6 && len(pkt) < 20) || (v6 && len(pkt) < 40) {
			return n
		}
		if v6 {
			n.src, n.dst, n.proto = pkt[8:24], pkt[24:40], uint32(pkt[6])
		} else {
			n.src, n.dst, n.proto = pkt[12:16], pkt[16:20], uint32(pkt[9])
		}
		dg, ok := parseIP(pkt, v6)
		if ok && !dg.fragment && dg.proto == protoUDP && len(dg.transport) >= 8 {
			n.dg = dg
			n.hasSport, n.hasDport = true, true
			n.sport = uint32(binary.BigEndian.Uint16(dg.transport[0:2]))
			n.dport = uint32(binary.BigEndian.Uint16(dg.transport[2:4]))
			n.udpPayload, n.udpOK = udpData(dg.transport)
		}
	case ncapLegacy:
		lt, _ := m.one(ncLtype)
		switch lt.u {
		case 0, 1:
			if v, ok := m.one(ncLint0); ok {
				n.hasSport, n.sport = true, uint32(v.u)
			}
			if v, ok := m.one(ncLint1); ok {
				n.hasDport, n.dport = true, uint32(v.u)
			}
		}
		switch lt.u {
		case 0:
			n.proto = protoUDP
		case 1:
			n.proto = protoTCP
		case 2:
			n.proto = protoICMP
		default:
			return n
		}
	default:
		return n
	}
	n.ok = true
	return n
}

func ncapSrcIP(m *msg, i int) (val, bool) { return ncapIP(m, i, ncSrcIP) }
func ncapDstIP(m *msg, i int) (val, bool) { return ncapIP(m, i, ncDstIP) }

func ncapIP(m *msg, i, fi int) (val, bool) {
	n := ncapLoad(m)
	if i != 0 || !n.ok {
		return val{}, false
	}
	if n.typ == ncapLegacy {
		// libnmsg returns an uninitialized pointer when the legacy
		// field is absent; nothing is printed here.
		return m.one(fi)
	}
	if fi == ncSrcIP {
		return val{b: n.src}, true
	}
	return val{b: n.dst}, true
}

func ncapSrcPort(m *msg, i int) (val, bool) {
	n := ncapLoad(m)
	return val{u: uint64(n.sport)}, i == 0 && n.ok && n.hasSport
}

func ncapDstPort(m *msg, i int) (val, bool) {
	n := ncapLoad(m)
	return val{u: uint64(n.dport)}, i == 0 && n.ok && n.hasDport
}

func ncapProto(m *msg, i int) (val, bool) {
	n := ncapLoad(m)
	return val{u: uint64(n.proto)}, i == 0 && n.ok
}

func isDNSPort(p uint32) bool { return p == 53 || p == 5353 }

func ncapDNS(m *msg, i int) (val, bool) {
	n := ncapLoad(m)
	if i != 0 || !n.ok || !(isDNSPort(n.sport) || isDNSPort(n.dport)) {
		return val{}, false
	}
	if n.typ == ncapLegacy {
		pl, _ := m.one(ncPayload)
		return pl, true
	}
	if !n.udpOK {
		return val{null: true}, true
	}
	return val{b: n.udpPayload}, true
}

// ncapPrintPayload is ncap_print_payload.
func ncapPrintPayload(m *msg, _ *Field, v val, dst []byte) []byte {
	if v.null || len(v.b) == 0 {
		return append(dst, "payload: <DECODING ERROR>\n"...)
	}
	dst = append(dst, "payload:\n"...)
	n := ncapLoad(m)
	t, _ := m.one(ncType)
	switch t.u {
	case ncapIPv4, ncapIPv6:
		if !n.ok {
			return dst
		}
		if n.hasSport && n.udpOK {
			return ncapPrintUDP(m, dst, n.src, n.dst, n.sport, n.dport, n.udpPayload)
		}
		return dst
	case ncapLegacy:
		src, ok1 := m.one(ncSrcIP)
		dstip, ok2 := m.one(ncDstIP)
		switch {
		case !ok1:
			return ncapErr(dst, "legacy ncap payload missing srcip field")
		case !ok2:
			return ncapErr(dst, "legacy ncap payload missing dstip field")
		}
		lt, _ := m.one(ncLtype)
		switch lt.u {
		case 0:
			l0, ok0 := m.one(ncLint0)
			l1, ok1 := m.one(ncLint1)
			if !ok0 {
				return ncapErr(dst, "legacy ncap payload missing lint0 field")
			}
			if !ok1 {
				return ncapErr(dst, "legacy ncap payload missing lint1 field")
			}
			return ncapPrintUDP(m, dst, src.b, dstip.b, uint32(l0.u), uint32(l1.u), v.b)
		default:
			dst = append(dst, "<ERROR: unhandled legacy ncap type "...)
			dst = strconv.AppendUint(dst, uint64(uint32(lt.u)), 10)
			return append(dst, ">\n"...)
		}
	}
	dst = append(dst, "<ERROR: unknown ncap type "...)
	dst = strconv.AppendUint(dst, uint64(uint32(t.u)), 10)
	return append(dst, ">\n"...)
}

func ncapErr(dst []byte, s string) []byte {
	dst = append(dst, "<ERROR: "...)
	dst = append(dst, s...)
	return append(dst, ">\n"...)
}

// ncapPrintUDP is ncap_print_udp.
func ncapPrintUDP(m *msg, dst, src, dstip []byte, sport, dport uint32, payload []byte) []byte {
	dst = append(dst, '[')
	if len(src) == 4 || len(src) == 16 {
		dst = appendIP(dst, src)
	}
	dst = append(dst, "]."...)
	dst = strconv.AppendUint(dst, uint64(uint16(sport)), 10)
	dst = append(dst, " ["...)
	if len(dstip) == 4 || len(dstip) == 16 {
		dst = appendIP(dst, dstip)
	}
	dst = append(dst, "]."...)
	dst = strconv.AppendUint(dst, uint64(uint16(dport)), 10)
	dst = append(dst, " udp ["...)
	dst = strconv.AppendUint(dst, uint64(len(payload)), 10)
	dst = append(dst, "]\n"...)
	if isDNSPort(uint32(uint16(sport))) || isDNSPort(uint32(uint16(dport))) {
		out, ok := m.p.appendMessageText(dst, payload)
		if !ok {
			return ncapErr(dst, "payload parse failed")
		}
		dst = out
	}
	return append(dst, '\n')
}

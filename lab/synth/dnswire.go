package synth

import (
	"encoding/binary"
	"math/rand/v2"
)

// DNS wire constants used by the generators.
const (
	dnsFlagRD      = 0x0100
	dnsFlagsAnswer = 0x8180 // QR RD RA
	rcodeNXDomain  = 3
	typeSOA        = 6
	typeOPT        = 41
	ednsSize       = 1232
)

func appendDNSHeader(b []byte, id, flags, qd, an, ns, ar uint16) []byte {
	for _, v := range [...]uint16{id, flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

func appendQuestion(b, qname []byte, qtype uint16) []byte {
	b = append(b, qname...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

func appendOPT(b []byte) []byte {
	b = append(b, 0) // root
	b = binary.BigEndian.AppendUint16(b, typeOPT)
	b = binary.BigEndian.AppendUint16(b, ednsSize)
	b = binary.BigEndian.AppendUint32(b, 0)
	return binary.BigEndian.AppendUint16(b, 0)
}

func appendRR(b, name []byte, rrtype uint16, ttl uint32, rdata []byte) []byte {
	b = append(b, name...)
	b = binary.BigEndian.AppendUint16(b, rrtype)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

// appendDNSQuery appends a recursive query with an EDNS OPT record.
func appendDNSQuery(b []byte, id uint16, qname []byte, qtype uint16) []byte {
	b = appendDNSHeader(b, id, dnsFlagRD, 1, 0, 0, 1)
	b = appendQuestion(b, qname, qtype)
	return appendOPT(b)
}

// appendDNSResponse appends the response to appendDNSQuery's query: the
// rrset under a compression pointer to the question name, or for NXDOMAIN
// the zone's SOA in the authority section.
func appendDNSResponse(b []byte, id uint16, qname, zone []byte, qtype uint16, rcode uint16, ttl uint32, rdatas [][]byte, rng *rand.Rand) []byte {
	if rcode == rcodeNXDomain {
		b = appendDNSHeader(b, id, dnsFlagsAnswer|rcode, 1, 0, 1, 1)
		b = appendQuestion(b, qname, qtype)
		b = appendRR(b, zone, typeSOA, 900, appendSOA(nil, zone, rng))
		return appendOPT(b)
	}
	b = appendDNSHeader(b, id, dnsFlagsAnswer, 1, uint16(len(rdatas)), 0, 1)
	b = appendQuestion(b, qname, qtype)
	for _, rd := range rdatas {
		b = appendRR(b, []byte{0xc0, 12}, qtype, ttl, rd)
	}
	return appendOPT(b)
}

func appendSOA(b, zone []byte, rng *rand.Rand) []byte {
	b = append(b, 3, 'n', 's', '1')
	b = append(b, zone...)
	b = append(b, 10)
	b = append(b, "hostmaster"...)
	b = append(b, zone...)
	b = binary.BigEndian.AppendUint32(b, 2026000000+rng.Uint32N(1000000))
	for _, v := range [...]uint32{7200, 3600, 1209600, 300} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// appendIPv4UDP appends an IPv4 packet carrying a UDP datagram, both
// checksums set, as a sensor captured it.
func appendIPv4UDP(b []byte, src, dst uint32, sport, dport uint16, id uint16, payload []byte) []byte {
	ip := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(28+len(payload)))
	b = binary.BigEndian.AppendUint16(b, id)
	b = append(b, 0x40, 0, 64, 17, 0, 0) // DF, TTL 64, UDP, checksum later
	b = binary.BigEndian.AppendUint32(b, src)
	b = binary.BigEndian.AppendUint32(b, dst)
	binary.BigEndian.PutUint16(b[ip+10:], ^fold(sum16(0, b[ip:ip+20])))
	udp := len(b)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	b = append(b, payload...)
	s := sum16(0, b[ip+12:ip+20]) + 17 + uint64(8+len(payload))
	s = sum16(s, b[udp:])
	c := ^fold(s)
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[udp+6:], c)
	return b
}

func sum16(s uint64, b []byte) uint64 {
	for len(b) >= 2 {
		s += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

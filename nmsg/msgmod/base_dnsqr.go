package msgmod

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/siecap/siecap/nmsg/wdns"
)

// Base vendor module dnsqr (1:9), from libnmsg nmsg/base/dnsqr.c: a DNS
// query and its response as captured packets, with the computed fields
// delay, udp_checksum (presentation only), query, query_json, response,
// response_json and dns.

var dnsqrChecksum = enumSeq("ERROR", "ABSENT", "INCORRECT", "CORRECT")

const (
	dqType = iota
	dqQueryIP
	dqResponseIP
	dqProto
	dqQueryPort
	dqResponsePort
	dqID
	dqQname
	dqQclass
	dqQtype
	dqRcode
	dqQueryPacket
	dqQueryTimeSec
	dqQueryTimeNsec
	dqResponsePacket
	dqResponseTimeSec
	dqResponseTimeNsec
	dqTimeout
	dqDelay
	dqUDPChecksum
	dqZeroed
)

const dnsqrUDPQueryResponse = 1

func init() {
	register(&Module{Vid: 1, Msgtype: 9, VName: "base", MName: "dnsqr", Fields: []Field{
		dqType: {Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("UDP_INVALID", "UDP_QUERY_RESPONSE", "UDP_UNANSWERED_QUERY",
				"UDP_UNSOLICITED_RESPONSE", "TCP", "ICMP", "UDP_QUERY_ONLY", "UDP_RESPONSE_ONLY")},
		dqQueryIP:    {Name: "query_ip", Tag: 2, Type: ftIP, PB: pbBytes, Required: true},
		dqResponseIP: {Name: "response_ip", Tag: 3, Type: ftIP, PB: pbBytes, Required: true},
		dqProto: {Name: "proto", Tag: 4, Type: ftUint16, PB: pbUvarint, Required: true,
			print: protoPrint, format: protoFormat, parse: protoParse},
		dqQueryPort:    {Name: "query_port", Tag: 5, Type: ftUint16, PB: pbUvarint, Required: true},
		dqResponsePort: {Name: "response_port", Tag: 6, Type: ftUint16, PB: pbUvarint, Required: true},
		dqID:           {Name: "id", Tag: 7, Type: ftUint16, PB: pbUvarint, Required: true},
		dqQname:        sieNameField("qname", 8),
		dqQclass:       baseClassField("qclass", 10),
		dqQtype:        typeField("qtype", 9),
		dqRcode: {Name: "rcode", Tag: 11, Type: ftUint16, PB: pbUvarint,
			print: rcodePrint, format: rcodeFormat, parse: rcodeParse},
		dqQueryPacket:      {Name: "query_packet", Tag: 12, Type: ftBytes, PB: pbBytes, Repeated: true, NoPrint: true},
		dqQueryTimeSec:     {Name: "query_time_sec", Tag: 13, Type: ftInt64, PB: pbVarint, Repeated: true, NoPrint: true},
		dqQueryTimeNsec:    {Name: "query_time_nsec", Tag: 14, Type: ftInt32, PB: pbSfixed32, Repeated: true, NoPrint: true},
		dqResponsePacket:   {Name: "response_packet", Tag: 15, Type: ftBytes, PB: pbBytes, Repeated: true, NoPrint: true},
		dqResponseTimeSec:  {Name: "response_time_sec", Tag: 16, Type: ftInt64, PB: pbVarint, Repeated: true, NoPrint: true},
		dqResponseTimeNsec: {Name: "response_time_nsec", Tag: 17, Type: ftInt32, PB: pbSfixed32, Repeated: true, NoPrint: true},
		dqTimeout:          {Name: "timeout", Tag: 20, Type: ftDouble, PB: pbFixed64},
		dqDelay:            {Name: "delay", Type: ftDouble, get: dnsqrDelay},
		dqUDPChecksum: {Name: "udp_checksum", Tag: 21, Type: ftEnum, PB: pbUvarint, Enum: dnsqrChecksum,
			get: dnsqrUDPChecksum},
		dqZeroed: {Name: "resolver_address_zeroed", Tag: 22, Type: ftBool, PB: pbUvarint},
		{Name: "query", Type: ftBytes, get: dnsqrQuery, print: dnsqrMessagePrint},
		{Name: "query_json", Type: ftBytes, get: dnsqrQuery, format: dnsqrMessageFormat,
			FormatRaw: true, NoPrint: true},
		{Name: "response", Type: ftBytes, get: dnsqrResponse, print: dnsqrMessagePrint},
		{Name: "response_json", Type: ftBytes, get: dnsqrResponse, format: dnsqrMessageFormat,
			FormatRaw: true, NoPrint: true},
		{Name: "dns", Type: ftBytes, get: dnsqrResponse, NoPrint: true},
		{Name: "tcp", Tag: 18, Type: ftBytes, PB: pbBytes, NoPrint: true},
		{Name: "icmp", Tag: 19, Type: ftBytes, PB: pbBytes, NoPrint: true},
	}})
}

func protoFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	switch uint16(v.u) {
	case protoUDP:
		return append(dst, "UDP"...), true
	case protoTCP:
		return append(dst, "TCP"...), true
	case protoICMP:
		return append(dst, "ICMP"...), true
	}
	return strconv.AppendUint(dst, uint64(uint16(v.u)), 10), true
}

func protoPrint(m *msg, f *Field, v val, dst []byte) []byte {
	dst = append(dst, "proto: "...)
	dst, _ = protoFormat(m, f, v, dst)
	switch uint16(v.u) {
	case protoUDP, protoTCP, protoICMP:
		dst = append(dst, " ("...)
		dst = strconv.AppendUint(dst, uint64(uint16(v.u)), 10)
		dst = append(dst, ')')
	}
	return append(dst, '\n')
}

func protoParse(_ *encMsg, _ *Field, s string) (val, error) {
	switch {
	case equalFold(s, "UDP"):
		return val{u: protoUDP}, nil
	case equalFold(s, "TCP"):
		return val{u: protoTCP}, nil
	case equalFold(s, "ICMP"):
		return val{u: protoICMP}, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return val{}, err
	}
	return val{u: n}, nil
}

func rcodeFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	rc := uint16(v.u)
	if n, ok := wdns.RcodeName(rc); ok {
		return append(dst, n...), true
	}
	return strconv.AppendUint(dst, uint64(rc), 10), true
}

func rcodePrint(_ *msg, f *Field, v val, dst []byte) []byte {
	rc := uint16(v.u)
	n, ok := wdns.RcodeName(rc)
	if !ok {
		n = "<UNKNOWN>"
	}
	return appendMnemonicLine(dst, f.Name, n, uint64(rc))
}

func rcodeParse(_ *encMsg, _ *Field, s string) (val, error) {
	if rc, err := wdns.ParseRcode(s); err == nil {
		return val{u: uint64(rc)}, nil
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil || n > 15 {
		return val{}, errorf("rcode %q: not a mnemonic or a number up to 15", s)
	}
	return val{u: n}, nil
}

// dnsqrDelay is dnsqr_get_delay: seconds between the query and the
// (latest) response of a UDP_QUERY_RESPONSE.
func dnsqrDelay(m *msg, i int) (val, bool) {
	t, _ := m.one(dqType)
	if i != 0 || t.u != dnsqrUDPQueryResponse {
		return val{}, false
	}
	nq, nqn := m.count(dqQueryTimeSec), m.count(dqQueryTimeNsec)
	nr, nrn := m.count(dqResponseTimeSec), m.count(dqResponseTimeNsec)
	if nq != nqn || nq != 1 || nr != nrn || nr < 1 {
		return val{}, false
	}
	qs, _ := m.at(dqQueryTimeSec, 0)
	qn, _ := m.at(dqQueryTimeNsec, 0)
	delay := 0.0
	for k := 0; k < nr; k++ {
		rs, _ := m.at(dqResponseTimeSec, k)
		rn, _ := m.at(dqResponseTimeNsec, k)
		sec := int64(rs.u) - int64(qs.u)
		nsec := int64(int32(rn.u)) - int64(int32(qn.u))
		if nsec < 0 {
			sec--
			nsec += 1e9
		}
		d := float64(sec) + float64(nsec)/1e9
		if nr == 1 || d > delay {
			delay = d
		}
	}
	return val{u: math.Float64bits(delay)}, true
}

// dnsqrQuery is dnsqr_get_query: the DNS payload of the single query
// packet.
func dnsqrQuery(m *msg, i int) (val, bool) {
	if i != 0 || m.count(dqQueryPacket) != 1 {
		return val{}, false
	}
	ip, _ := m.one(dqQueryIP)
	pkt, _ := m.at(dqQueryPacket, 0)
	if ip.null || (len(ip.b) != 4 && len(ip.b) != 16) {
		return val{}, false
	}
	pl, ok := udpPayload(pkt.b, len(ip.b) == 16)
	return val{b: pl}, ok
}

// dnsqrResponse is dnsqr_get_response: the DNS payload of the response
// packet, reassembled when it came in IP fragments.
func dnsqrResponse(m *msg, i int) (val, bool) {
	n := m.count(dqResponsePacket)
	if i != 0 || n < 1 {
		return val{}, false
	}
	ip, _ := m.one(dqResponseIP)
	if ip.null {
		return val{}, false
	}
	if n > 1 {
		var pkts [16][]byte
		if n > len(pkts) {
			return val{}, false
		}
		for k := 0; k < n; k++ {
			v, _ := m.at(dqResponsePacket, k)
			pkts[k] = v.b
		}
		var pl []byte
		var ok bool
		m.p.tmp2, pl, ok = reassembleUDP(pkts[:n], m.p.tmp2)
		return val{b: pl}, ok
	}
	if len(ip.b) != 4 && len(ip.b) != 16 {
		return val{}, false
	}
	pkt, _ := m.at(dqResponsePacket, 0)
	pl, ok := udpPayload(pkt.b, len(ip.b) == 16)
	return val{b: pl}, ok
}

// dnsqrMessagePrint is dnsqr_message_print.
func dnsqrMessagePrint(m *msg, f *Field, v val, dst []byte) []byte {
	return messagePrint(m, f, v, dst)
}

// dnsqrMessageFormat is dnsqr_message_format: the message as a JSON
// object, or null when it does not parse.
func dnsqrMessageFormat(m *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	if out, ok := m.p.appendMessageJSON(dst, v.b); ok {
		return out, true
	}
	return append(dst, "null"...), true
}

// dnsqrUDPChecksum is dnsqr_get_udp_checksum: the stored value, or the
// UDP checksum of the response computed as dnsqr_checksum_verify does.
func dnsqrUDPChecksum(m *msg, i int) (val, bool) {
	if i != 0 || m.count(dqResponsePacket) == 0 {
		return val{}, false
	}
	if v, ok := m.one(dqUDPChecksum); ok {
		return v, true
	}
	return val{u: uint64(dnsqrChecksumVerify(m))}, true
}

const (
	csumError = iota
	csumAbsent
	csumIncorrect
	csumCorrect
)

// dnsqrChecksumVerify follows dnsqr_checksum_verify, including its
// treatment of every fragment as the initial one.
func dnsqrChecksumVerify(m *msg) int {
	if z, ok := m.one(dqZeroed); ok && z.u != 0 {
		return csumError
	}
	var pseudo [48]byte
	plen := 0
	var sum uint32
	n := m.count(dqResponsePacket)
	for r := 0; r < n; r++ {
		pv, _ := m.at(dqResponsePacket, r)
		pkt := pv.b
		if len(pkt) < 20 {
			return csumError
		}
		var dg ipdg
		var ok bool
		switch pkt[0] >> 4 {
		case 4:
			dg, ok = parseIP(pkt, false)
		case 6:
			dg, ok = parseIP(pkt, true)
		}
		if !ok || dg.proto != protoUDP {
			return csumError
		}
		var data []byte
		if !dg.fragment {
			data, ok = udpData(dg.transport)
			if !ok {
				return csumError
			}
		}
		udp := dg.transport
		if len(udp) < 8 {
			return csumError
		}
		if udp[6] == 0 && udp[7] == 0 {
			return csumAbsent
		}
		if !dg.v6 {
			pseudo = [48]byte{}
			copy(pseudo[0:4], pkt[12:16])
			copy(pseudo[4:8], pkt[16:20])
			pseudo[9] = pkt[9]
			copy(pseudo[10:12], udp[4:6])
			copy(pseudo[12:20], udp[0:8])
			plen = 20
		} else {
			pseudo = [48]byte{}
			copy(pseudo[0:16], pkt[8:24])
			copy(pseudo[16:32], pkt[24:40])
			// upper_len is the network-order length stored in a host
			// (little-endian) uint32: its octets come first.
			copy(pseudo[32:34], udp[4:6])
			pseudo[39] = protoUDP
			copy(pseudo[40:48], udp[0:8])
			plen = 48
		}
		for i := 0; i+1 < len(data); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(data[i:]))
		}
		if len(data)&1 == 1 {
			sum += uint32(data[len(data)-1]) << 8
		}
	}
	if plen == 0 {
		return csumError
	}
	for i := 0; i < plen; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(pseudo[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	if uint16(^sum) == 0 {
		return csumCorrect
	}
	return csumIncorrect
}

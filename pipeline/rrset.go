package pipeline

import (
	"bytes"
	"encoding/binary"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/wdns"
)

const (
	msgtypeDNSQR     = 9 // base/dnsqr
	msgtypeDNSDedupe = 1 // SIE/dnsdedupe
)

// base/dnsqr fields read here.
const (
	dqResponseIP       = 3
	dqResponsePacket   = 15
	dqResponseTimeSec  = 16
	dqResponseTimeNsec = 17
)

// SIE/dnsdedupe fields written here.
const (
	ddRRname     = 1
	ddRRtype     = 2
	ddRRclass    = 3
	ddRRttl      = 4
	ddRdata      = 5
	ddCount      = 10
	ddTimeFirst  = 11
	ddTimeLast   = 12
	ddType       = 13
	ddResponseIP = 14
	ddBailiwick  = 16

	ddInsertion  = 0
	ddExpiration = 1
)

const (
	typeNS  = 2
	typeSOA = 6
	flagQR  = 0x8000
	flagAA  = 0x0400
)

// RRsetStats count what rrset dedupe did with base/dnsqr payloads.
type RRsetStats struct {
	DNSQR          uint64 // dnsqr payloads seen
	BadDNSQR       uint64 // dnsqr payloads whose protobuf did not parse (rejected)
	BadPacket      uint64 // responses that are not one whole UDP datagram (IP fragments missing, not UDP)
	Responses      uint64 // response packets parsed
	ParseErrors    uint64 // response packets that did not parse as DNS (rejected)
	NotResponse    uint64 // packets without the QR bit
	NoBailiwick    uint64 // responses whose bailiwick cannot be derived (nothing emitted)
	OutOfBailiwick uint64 // RRsets outside their response's bailiwick (dropped)
	RRsets         uint64 // RRset observations handed to the shards
}

// rrsetSplitter turns a dnsqr payload into RRset observations on the reader
// goroutine, so each is routed to the shard its identity selects.
type rrsetSplitter struct {
	st     RRsetStats
	resp   [][]byte
	sec    []int64
	nsec   []uint32
	key    []byte
	msg    []byte
	sorted [][]byte
	seen   []uint64
	obs    nmsg.Payload
	reasm  []byte
}

// split hands emit an SIE/dnsdedupe INSERTION with its identity hashes for
// every RRset observed in p's response, and returns how many.
//
// Bailiwick rule. The bailiwick of a response is the zone the responding
// server shows it serves, taken from the response alone (verifying it
// against known delegations is not done here):
//  1. an SOA record in the authority section: its owner (negative answers
//     and authoritative answers that carry the zone's SOA);
//  2. otherwise, in an authoritative response (AA set), an NS record in the
//     authority section: its owner (the server's own zone apex);
//  3. otherwise, in a referral (AA clear, empty answer section, NS records
//     in the authority section), the parent of the NS owner: the server
//     serves the zone that delegates ("." for a referral to "." itself);
//  4. otherwise, in an authoritative response, the closest common ancestor
//     of the answer section's owner names (for a single name, the name
//     itself: the narrowest zone the answer can come from);
//  5. otherwise none: a non-authoritative answer (a recursive resolver's,
//     whose data did not come from the server that sent it) or an empty
//     response. It is counted in NoBailiwick and nothing is emitted.
//
// Every RRset of the answer, authority and additional sections whose owner
// is the bailiwick or below it is an observation; the others are counted
// in OutOfBailiwick and dropped (they are what a poisoning attempt looks
// like). An RRset appearing twice in one response is observed once. Its
// INSERTION keeps the owner name's case as first seen and the lowest TTL
// of its records.
func (sp *rrsetSplitter) split(hash hasher, p *nmsg.Payload, emit func(obs *nmsg.Payload, h1, h2 uint64)) int {
	sp.st.DNSQR++
	ip, ok := sp.parseDNSQR(p.Message)
	if !ok {
		sp.st.BadDNSQR++
		return 0
	}
	if len(sp.resp) == 0 || len(ip) != 4 && len(ip) != 16 {
		return 0 // no response: nothing to observe
	}
	// The observation time is the response's (its first packet's).
	tsec, tnsec := p.TimeSec, p.TimeNsec
	if len(sp.sec) > 0 {
		tsec, tnsec = sp.sec[0], 0
		if len(sp.nsec) > 0 {
			tnsec = sp.nsec[0]
		}
	}
	n := 0
	{
		pkt, buf, ok := dnsPayload(sp.resp, len(ip) == 16, sp.reasm)
		sp.reasm = buf
		if !ok {
			sp.st.BadPacket++
			return 0
		}
		m, err := wdns.ParseMessage(pkt)
		if err != nil {
			sp.st.ParseErrors++
			return 0
		}
		sp.st.Responses++
		if m.Flags&flagQR == 0 {
			sp.st.NotResponse++
			return 0
		}
		bw, ok := bailiwick(m)
		if !ok {
			sp.st.NoBailiwick++
			return 0
		}
		sp.seen = sp.seen[:0]
		for _, section := range [...]wdns.Section{wdns.SectionAnswer, wdns.SectionAuthority, wdns.SectionAdditional} {
			for _, set := range m.RRsets(section) {
				if !underName(set.Name, bw) {
					sp.st.OutOfBailiwick++
					continue
				}
				sp.key = appendKey(sp.key[:0], &set, bw, &sp.sorted)
				h1, h2 := hash.bytes(sp.key)
				if slices.Contains(sp.seen, h1) {
					continue
				}
				sp.seen = append(sp.seen, h1)
				sp.msg = appendInsertion(sp.msg[:0], &set, bw, ip, tsec)
				sp.obs = nmsg.Payload{Vid: nmsg.VendorSIE, Msgtype: msgtypeDNSDedupe, TimeSec: tsec, TimeNsec: tnsec,
					Message: sp.msg, HasMessage: true}
				emit(&sp.obs, h1, h2)
				sp.st.RRsets++
				n++
			}
		}
	}
	return n
}

// parseDNSQR collects the response packets and times of a dnsqr message
// and returns its response_ip.
func (sp *rrsetSplitter) parseDNSQR(b []byte) (ip []byte, ok bool) {
	sp.resp, sp.sec, sp.nsec = sp.resp[:0], sp.sec[:0], sp.nsec[:0]
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case num == dqResponseIP && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, false
			}
			ip, n = v, m
		case num == dqResponsePacket && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, false
			}
			sp.resp, n = append(sp.resp, v), m
		case num == dqResponseTimeSec && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return nil, false
			}
			sp.sec, n = append(sp.sec, int64(v)), m
		case num == dqResponseTimeNsec && typ == protowire.Fixed32Type:
			v, m := protowire.ConsumeFixed32(b)
			if m < 0 {
				return nil, false
			}
			sp.nsec, n = append(sp.nsec, v), m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, false
			}
		}
		b = b[n:]
	}
	return ip, true
}

// bailiwick derives a response's bailiwick (see split).
func bailiwick(m *wdns.Message) ([]byte, bool) {
	for _, rr := range m.Authority {
		if rr.Type == typeSOA {
			return rr.Name, true
		}
	}
	aa := m.Flags&flagAA != 0
	for _, rr := range m.Authority {
		if rr.Type != typeNS {
			continue
		}
		switch {
		case aa:
			return rr.Name, true
		case len(m.Answer) == 0:
			return parentName(rr.Name), true
		}
		break
	}
	if !aa || len(m.Answer) == 0 {
		return nil, false
	}
	bw := m.Answer[0].Name
	for _, rr := range m.Answer[1:] {
		bw = commonAncestor(bw, rr.Name)
	}
	return bw, true
}

// parentName returns the wire name without its first label ("." stays ".").
func parentName(name []byte) []byte {
	if len(name) == 0 || name[0] == 0 || int(name[0])+1 >= len(name) {
		return []byte{0}
	}
	return name[1+int(name[0]):]
}

// labelStarts lists the offsets of the labels of a wire name, the root
// label's included.
func labelStarts(name []byte, dst []int) []int {
	for o := 0; o < len(name); o += 1 + int(name[o]) {
		dst = append(dst, o)
		if name[o] == 0 {
			break
		}
	}
	return dst
}

// underName reports whether name is bw or below it (ASCII case ignored).
func underName(name, bw []byte) bool {
	for o := 0; o < len(name); o += 1 + int(name[o]) {
		if len(name)-o == len(bw) && equalFold(name[o:], bw) {
			return true
		}
		if name[o] == 0 {
			break
		}
	}
	return false
}

// commonAncestor returns the closest common ancestor of two wire names.
func commonAncestor(a, b []byte) []byte {
	var la, lb [128]int
	sa, sb := labelStarts(a, la[:0]), labelStarts(b, lb[:0])
	i, j := len(sa)-1, len(sb)-1
	best := a[len(a)-1:] // the root label
	for i >= 0 && j >= 0 && len(a)-sa[i] == len(b)-sb[j] && equalFold(a[sa[i]:], b[sb[j]:]) {
		best = a[sa[i]:]
		i--
		j--
	}
	return best
}

func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c | 0x20
	}
	return c
}

func appendLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lower(c))
	}
	return dst
}

// appendKey appends the canonical identity of an RRset: owner and
// bailiwick without case, type, class, and the rdata as a set (sorted).
func appendKey(dst []byte, set *wdns.RRset, bw []byte, sorted *[][]byte) []byte {
	dst = appendLower(dst, set.Name)
	dst = binary.BigEndian.AppendUint16(dst, set.Type)
	dst = binary.BigEndian.AppendUint16(dst, set.Class)
	*sorted = append((*sorted)[:0], set.Rdata...)
	slices.SortFunc(*sorted, bytes.Compare)
	for i, rd := range *sorted {
		if i > 0 && bytes.Equal(rd, (*sorted)[i-1]) {
			continue
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(rd)))
		dst = append(dst, rd...)
	}
	dst = append(dst, 0xff, 0xff) // rdata never is 65535 octets plus a name
	return appendLower(dst, bw)
}

// appendInsertion appends an SIE/dnsdedupe INSERTION for set, fields in
// tag order.
func appendInsertion(dst []byte, set *wdns.RRset, bw, ip []byte, t int64) []byte {
	dst = protowire.AppendTag(dst, ddRRname, protowire.BytesType)
	dst = protowire.AppendBytes(dst, set.Name)
	dst = protowire.AppendTag(dst, ddRRtype, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(set.Type))
	dst = protowire.AppendTag(dst, ddRRclass, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(set.Class))
	dst = protowire.AppendTag(dst, ddRRttl, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(set.TTL))
	for _, rd := range set.Rdata {
		dst = protowire.AppendTag(dst, ddRdata, protowire.BytesType)
		dst = protowire.AppendBytes(dst, rd)
	}
	dst = appendCounts(dst, 1, t, t, ddInsertion)
	if len(ip) > 0 {
		dst = protowire.AppendTag(dst, ddResponseIP, protowire.BytesType)
		dst = protowire.AppendBytes(dst, ip)
	}
	dst = protowire.AppendTag(dst, ddBailiwick, protowire.BytesType)
	return protowire.AppendBytes(dst, bw)
}

func appendCounts(dst []byte, count uint32, first, last int64, typ uint64) []byte {
	dst = protowire.AppendTag(dst, ddCount, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(count))
	dst = protowire.AppendTag(dst, ddTimeFirst, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(uint32(first)))
	dst = protowire.AppendTag(dst, ddTimeLast, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(uint32(last)))
	dst = protowire.AppendTag(dst, ddType, protowire.VarintType)
	return protowire.AppendVarint(dst, typ)
}

// appendExpiration rewrites an INSERTION (as appendInsertion wrote it)
// into the EXPIRATION of its RRset: the same rrname, rrtype, rrclass,
// rrttl, rdata and bailiwick, the totals, no response_ip.
func appendExpiration(dst, ins []byte, count uint32, first, last int64) []byte {
	var tail []byte
	for b := ins; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if n < 0 || m < 0 {
			break // cannot happen: the shard wrote ins itself
		}
		field := b[:n+m]
		switch {
		case num >= ddRRname && num <= ddRdata:
			dst = append(dst, field...)
		case num == ddBailiwick:
			tail = field
		}
		b = b[n+m:]
	}
	dst = appendCounts(dst, count, first, last, ddExpiration)
	return append(dst, tail...)
}

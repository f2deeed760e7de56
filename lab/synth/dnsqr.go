package synth

import (
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

// base/dnsqr field numbers (libnmsg base/dnsqr.proto).
const (
	dqType             = 1
	dqQueryIP          = 2
	dqResponseIP       = 3
	dqProto            = 4
	dqQueryPort        = 5
	dqResponsePort     = 6
	dqID               = 7
	dqQname            = 8
	dqQtype            = 9
	dqQclass           = 10
	dqRcode            = 11
	dqQueryPacket      = 12
	dqQueryTimeSec     = 13
	dqQueryTimeNsec    = 14
	dqResponsePacket   = 15
	dqResponseTimeSec  = 16
	dqResponseTimeNsec = 17

	dnsqrQueryResponse = 1
	dnsqrUnanswered    = 2
)

// DNSQR generates base/dnsqr payloads: a resolver's query and the
// authority's response as captured IPv4/UDP packets (checksums set), with
// varied names, types, rcodes (NOERROR, NXDOMAIN) and a share of
// unanswered queries.
type DNSQR struct {
	stream
	// LargeShare of answers are large TXT rrsets (2 to 6 KB), so that
	// small containers must carry them as NMSG fragments.
	LargeShare float64

	ipid uint16
}

// NewDNSQR returns a generator seeded with seed, starting at payload time
// start (Unix seconds): 10% repeats within 10 s, 10,000 payloads per
// second.
func NewDNSQR(seed uint64, start int64) *DNSQR {
	rng := rand.New(rand.NewPCG(seed, seed^0xd25a9))
	return &DNSQR{stream: newStream(rng, start, 0.10, 10000, 0xa1ba0209)}
}

// Next fills p with the next payload. p.Message is appended to buf, which
// is returned grown; p aliases it.
func (g *DNSQR) Next(p *nmsg.Payload, buf []byte) []byte {
	return g.next(p, buf, nmsg.VendorBase, 9, g)
}

// appendMessage appends a dnsqr message, fields in tag order.
func (g *DNSQR) appendMessage(b []byte) []byte {
	zone := g.voc.zone()
	qname := g.voc.appendName(nil, zone)
	qtype, rdatas := g.voc.rdata(zone)
	if g.LargeShare > 0 && g.rng.Float64() < g.LargeShare {
		qtype, rdatas = 16, largeTXT(g.rng)
	}
	resolver := 0xc6130000 | g.rng.Uint32N(1<<16) // 198.19.0.0/16
	server := 0xc6120000 | g.rng.Uint32N(1<<16)   // 198.18.0.0/16
	qport := uint16(1024 + g.rng.IntN(64512))
	id := uint16(g.rng.Uint32())
	kind := uint64(dnsqrQueryResponse)
	if g.rng.IntN(20) == 0 {
		kind = dnsqrUnanswered
	}
	var rcode uint16
	if g.rng.IntN(8) == 0 {
		rcode = rcodeNXDomain
	}
	qsec, qnsec := g.now/1e9, int32(g.now%1e9)
	rt := g.now + 200e3 + g.rng.Int64N(150e6) // 0.2 to 150 ms later

	g.ipid++
	query := appendIPv4UDP(nil, resolver, server, qport, 53, g.ipid, appendDNSQuery(nil, id, qname, qtype))

	b = appendVarintField(b, dqType, kind)
	b = protowire.AppendTag(b, dqQueryIP, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte{byte(resolver >> 24), byte(resolver >> 16), byte(resolver >> 8), byte(resolver)})
	b = protowire.AppendTag(b, dqResponseIP, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte{byte(server >> 24), byte(server >> 16), byte(server >> 8), byte(server)})
	b = appendVarintField(b, dqProto, 17)
	b = appendVarintField(b, dqQueryPort, uint64(qport))
	b = appendVarintField(b, dqResponsePort, 53)
	b = appendVarintField(b, dqID, uint64(id))
	b = protowire.AppendTag(b, dqQname, protowire.BytesType)
	b = protowire.AppendBytes(b, qname)
	b = appendVarintField(b, dqQtype, uint64(qtype))
	b = appendVarintField(b, dqQclass, 1)
	if kind == dnsqrQueryResponse {
		b = appendVarintField(b, dqRcode, uint64(rcode))
	}
	b = protowire.AppendTag(b, dqQueryPacket, protowire.BytesType)
	b = protowire.AppendBytes(b, query)
	b = appendVarintField(b, dqQueryTimeSec, uint64(qsec))
	b = protowire.AppendTag(b, dqQueryTimeNsec, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, uint32(qnsec))
	if kind != dnsqrQueryResponse {
		return b
	}
	ttl := []uint32{300, 3600, 86400, 60}[g.rng.IntN(4)]
	g.ipid++
	resp := appendIPv4UDP(nil, server, resolver, 53, qport, g.ipid,
		appendDNSResponse(nil, id, qname, zone, qtype, rcode, ttl, rdatas, g.rng))
	b = protowire.AppendTag(b, dqResponsePacket, protowire.BytesType)
	b = protowire.AppendBytes(b, resp)
	b = appendVarintField(b, dqResponseTimeSec, uint64(rt/1e9))
	b = protowire.AppendTag(b, dqResponseTimeNsec, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, uint32(int32(rt%1e9)))
}

// largeTXT returns 10 to 30 TXT records of about 200 octets each.
func largeTXT(rng *rand.Rand) [][]byte {
	n := 10 + rng.IntN(21)
	out := make([][]byte, n)
	for i := range out {
		l := 150 + rng.IntN(100)
		rd := make([]byte, 1+l)
		rd[0] = byte(l)
		for j := 1; j <= l; j++ {
			rd[j] = 'a' + byte(rng.IntN(26))
		}
		out[i] = rd
	}
	return out
}

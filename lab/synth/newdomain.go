package synth

import (
	"encoding/binary"
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

// SIE/newdomain field numbers (sie-nmsg newdomain.proto).
const (
	ndDomain     = 1
	ndTimeSeen   = 2
	ndRrname     = 3
	ndRrtype     = 4
	ndRrclass    = 5
	ndRrttl      = 6
	ndRdata      = 7
	ndCount      = 10
	ndTimeFirst  = 11
	ndTimeLast   = 12
	ndType       = 13
	ndResponseIP = 14
	ndBailiwick  = 16
	ndNewDomain  = 19
	ndNewRrname  = 20
	ndNewRrtype  = 21
	ndNewRR      = 22
	ndNewRrset   = 23
)

// NewDomain generates SIE/newdomain payloads: the first sighting of a
// freshly registered looking zone, with the record that revealed it.
type NewDomain struct {
	stream
}

// NewNewDomain returns a generator seeded with seed, starting at payload
// time start (Unix seconds): 5% repeats within 10 s, 500 payloads per
// second.
func NewNewDomain(seed uint64, start int64) *NewDomain {
	rng := rand.New(rand.NewPCG(seed, seed^0x7e3d0a1))
	return &NewDomain{stream: newStream(rng, start, 0.05, 500, 0xa1ba02d5)}
}

// Next fills p with the next payload. p.Message is appended to buf, which
// is returned grown; p aliases it.
func (g *NewDomain) Next(p *nmsg.Payload, buf []byte) []byte {
	return g.next(p, buf, nmsg.VendorSIE, 5, g)
}

// appendMessage appends a newdomain message, fields in tag order.
func (g *NewDomain) appendMessage(b []byte) []byte {
	zone := fresh(g.rng)
	name := g.voc.appendName(nil, zone)
	rrtype, rdatas := g.voc.rdata(zone)
	sec := uint64(g.now / 1e9)
	b = protowire.AppendTag(b, ndDomain, protowire.BytesType)
	b = protowire.AppendBytes(b, zone)
	b = appendVarintField(b, ndTimeSeen, sec)
	b = protowire.AppendTag(b, ndRrname, protowire.BytesType)
	b = protowire.AppendBytes(b, name)
	b = appendVarintField(b, ndRrtype, uint64(rrtype))
	b = appendVarintField(b, ndRrclass, 1)
	b = appendVarintField(b, ndRrttl, []uint64{300, 3600, 86400, 600}[g.rng.IntN(4)])
	for _, rd := range rdatas {
		b = protowire.AppendTag(b, ndRdata, protowire.BytesType)
		b = protowire.AppendBytes(b, rd)
	}
	b = appendVarintField(b, ndCount, 1)
	b = appendVarintField(b, ndTimeFirst, sec)
	b = appendVarintField(b, ndTimeLast, sec)
	b = appendVarintField(b, ndType, 0) // INSERTION
	ip := binary.BigEndian.AppendUint32(nil, 0xc6120000|g.rng.Uint32N(1<<17))
	b = protowire.AppendTag(b, ndResponseIP, protowire.BytesType)
	b = protowire.AppendBytes(b, ip)
	b = protowire.AppendTag(b, ndBailiwick, protowire.BytesType)
	b = protowire.AppendBytes(b, zone)
	b = appendVarintField(b, ndNewDomain, 1)
	b = appendVarintField(b, ndNewRrname, 1)
	b = appendVarintField(b, ndNewRrtype, 1)
	for range rdatas {
		b = appendVarintField(b, ndNewRR, 1)
	}
	return appendVarintField(b, ndNewRrset, 1)
}

package synth

import (
	"encoding/binary"
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

// SIE/dnsdedupe field numbers (sie-nmsg dnsdedupe.proto).
const (
	ddRrname     = 1
	ddRrtype     = 2
	ddRrclass    = 3
	ddRrttl      = 4
	ddRdata      = 5
	ddCount      = 10
	ddTimeFirst  = 11
	ddTimeLast   = 12
	ddType       = 13
	ddResponseIP = 14
	ddBailiwick  = 16
)

// Dedupe generates SIE/dnsdedupe payloads.
type Dedupe struct {
	// RepeatShare is the share of payloads that repeat, byte for byte, a
	// payload generated within the last RepeatWindow nanoseconds of
	// payload time.
	RepeatShare  float64
	RepeatWindow int64
	// Rate is the payloads per second of payload time.
	Rate   int
	Source uint32

	rng    *rand.Rand
	now    int64 // payload time, ns since the epoch
	recent []recentPayload
	next   int
}

type recentPayload struct {
	msg []byte
	t   int64
}

// NewDedupe returns a generator seeded with seed, starting at payload time
// start (Unix seconds): 30% repeats within 10 s, 20,000 payloads per second.
func NewDedupe(seed uint64, start int64) *Dedupe {
	return &Dedupe{
		RepeatShare:  0.30,
		RepeatWindow: 10e9,
		Rate:         20000,
		Source:       0xa1ba02cf,
		rng:          rand.New(rand.NewPCG(seed, seed^0x5e1eca9)),
		now:          start * 1e9,
		recent:       make([]recentPayload, 0, 4096),
	}
}

// Next fills p with the next payload. p.Message is appended to buf, which
// is returned grown; p aliases it.
func (g *Dedupe) Next(p *nmsg.Payload, buf []byte) []byte {
	g.now += 1e9/int64(g.Rate) + g.rng.Int64N(1000)
	start := len(buf)
	if r, ok := g.pickRepeat(); ok {
		buf = append(buf, r...)
	} else {
		buf = g.appendMessage(buf)
		g.remember(buf[start:])
	}
	*p = nmsg.Payload{
		Vid: nmsg.VendorSIE, Msgtype: 1,
		TimeSec: g.now / 1e9, TimeNsec: uint32(g.now % 1e9),
		Source: g.Source, Message: buf[start:], HasMessage: true,
	}
	return buf
}

func (g *Dedupe) pickRepeat() ([]byte, bool) {
	if len(g.recent) == 0 || g.rng.Float64() >= g.RepeatShare {
		return nil, false
	}
	for range 4 {
		r := g.recent[g.rng.IntN(len(g.recent))]
		if g.now-r.t <= g.RepeatWindow {
			return r.msg, true
		}
	}
	return nil, false
}

func (g *Dedupe) remember(msg []byte) {
	e := recentPayload{msg: append([]byte(nil), msg...), t: g.now}
	if len(g.recent) < cap(g.recent) {
		g.recent = append(g.recent, e)
		return
	}
	g.recent[g.next] = e
	g.next = (g.next + 1) % len(g.recent)
}

var (
	labels = []string{"www", "mail", "api", "cdn", "static", "login", "shop", "news", "img", "dev",
		"vpn", "m", "blog", "ns1", "ns2", "edge", "app", "portal", "smtp", "cloud", "secure", "status"}
	words = []string{"example", "acme", "contoso", "northwind", "fabrikam", "tailspin", "wingtip",
		"adatum", "litware", "proseware", "fourthcoffee", "lucerne", "margie", "trey", "alpine", "coho",
		"humongous", "wideworld", "woodgrove", "blueyonder", "graphic", "southridge", "treyresearch"}
	tlds = []string{"com", "net", "org", "de", "ru", "uk", "io", "info", "jp", "fr", "br", "cn"}
)

func (g *Dedupe) appendName(b []byte, zone []byte) []byte {
	n := g.rng.IntN(3)
	for range n {
		l := labels[g.rng.IntN(len(labels))]
		if g.rng.IntN(4) == 0 {
			l += string(rune('0' + g.rng.IntN(10)))
		}
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, zone...)
}

func (g *Dedupe) zone() []byte {
	w := words[g.rng.IntN(len(words))]
	if g.rng.IntN(3) == 0 {
		w += words[g.rng.IntN(len(words))]
	}
	t := tlds[g.rng.IntN(len(tlds))]
	z := []byte{byte(len(w))}
	z = append(z, w...)
	z = append(z, byte(len(t)))
	z = append(z, t...)
	return append(z, 0)
}

// appendMessage appends a new dnsdedupe message, fields in tag order as
// protobuf-c writes them.
func (g *Dedupe) appendMessage(b []byte) []byte {
	zone := g.zone()
	var name []byte
	name = g.appendName(name, zone)
	rrtype, rdatas := g.rdata(zone)
	b = protowire.AppendTag(b, ddRrname, protowire.BytesType)
	b = protowire.AppendBytes(b, name)
	b = appendVarintField(b, ddRrtype, uint64(rrtype))
	b = appendVarintField(b, ddRrclass, 1)
	b = appendVarintField(b, ddRrttl, []uint64{300, 3600, 86400, 60, 1800}[g.rng.IntN(5)])
	for _, rd := range rdatas {
		b = protowire.AppendTag(b, ddRdata, protowire.BytesType)
		b = protowire.AppendBytes(b, rd)
	}
	sec := uint64(g.now / 1e9)
	insertion := g.rng.IntN(10) < 7
	if insertion {
		b = appendVarintField(b, ddCount, 1)
		b = appendVarintField(b, ddTimeFirst, sec)
		b = appendVarintField(b, ddTimeLast, sec)
		b = appendVarintField(b, ddType, 0)
		ip := make([]byte, 4)
		binary.BigEndian.PutUint32(ip, 0xc6120000|g.rng.Uint32N(1<<17))
		b = protowire.AppendTag(b, ddResponseIP, protowire.BytesType)
		b = protowire.AppendBytes(b, ip)
	} else {
		first := sec - uint64(g.rng.IntN(86400))
		b = appendVarintField(b, ddCount, uint64(1+g.rng.IntN(500)))
		b = appendVarintField(b, ddTimeFirst, first)
		b = appendVarintField(b, ddTimeLast, sec-uint64(g.rng.IntN(int(sec-first)+1)))
		b = appendVarintField(b, ddType, 1)
	}
	b = protowire.AppendTag(b, ddBailiwick, protowire.BytesType)
	return protowire.AppendBytes(b, zone)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// rdata returns a record type and an RRset's rdata.
func (g *Dedupe) rdata(zone []byte) (uint16, [][]byte) {
	n := 1 + g.rng.IntN(2)
	out := make([][]byte, 0, n)
	switch k := g.rng.IntN(20); {
	case k < 10: // A
		for range n {
			out = append(out, binary.BigEndian.AppendUint32(nil, 0xc6120000|g.rng.Uint32N(1<<17)))
		}
		return 1, out
	case k < 13: // AAAA
		for range n {
			ip := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
			binary.BigEndian.PutUint32(ip[12:], g.rng.Uint32())
			out = append(out, ip)
		}
		return 28, out
	case k < 16: // NS
		for i := range n + 1 {
			out = append(out, append([]byte{3, 'n', 's', byte('1' + i)}, zone...))
		}
		return 2, out
	case k < 18: // CNAME
		return 5, [][]byte{g.appendName(nil, g.zone())}
	case k < 19: // MX
		return 15, [][]byte{append([]byte{0, 10, 4, 'm', 'a', 'i', 'l'}, zone...)}
	default: // TXT
		txt := []byte("v=spf1 include:_spf." + words[g.rng.IntN(len(words))] + ".com ~all")
		return 16, [][]byte{append([]byte{byte(len(txt))}, txt...)}
	}
}

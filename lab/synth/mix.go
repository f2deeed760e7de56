package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/siecap/siecap/nmsg"
)

// Generator makes payloads: Next fills p, appending its message to buf,
// and returns buf grown; p aliases it.
type Generator interface {
	Next(p *nmsg.Payload, buf []byte) []byte
}

// Mix weighs the message types of a mixed feed.
type Mix struct {
	Dnsdedupe, Newdomain, Dnsqr int
}

// DefaultMix is mostly dnsdedupe, some dnsqr and a trickle of newdomain.
var DefaultMix = Mix{Dnsdedupe: 6, Newdomain: 1, Dnsqr: 3}

// ParseMix parses "dnsdedupe=6,newdomain=1,dnsqr=3"; types left out weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			w = "1"
		}
		n, err := strconv.Atoi(w)
		if err != nil || n < 0 {
			return Mix{}, fmt.Errorf("parse mix weight %q: not a count", part)
		}
		switch name {
		case "dnsdedupe":
			m.Dnsdedupe = n
		case "newdomain":
			m.Newdomain = n
		case "dnsqr":
			m.Dnsqr = n
		default:
			return Mix{}, fmt.Errorf("parse mix %q: unknown type %q (dnsdedupe, newdomain, dnsqr)", s, name)
		}
	}
	if m.Dnsdedupe+m.Newdomain+m.Dnsqr == 0 {
		return Mix{}, fmt.Errorf("parse mix %q: every weight is 0", s)
	}
	return m, nil
}

// String returns the mix in ParseMix's form.
func (m Mix) String() string {
	return fmt.Sprintf("dnsdedupe=%d,newdomain=%d,dnsqr=%d", m.Dnsdedupe, m.Newdomain, m.Dnsqr)
}

// Mixed interleaves the three generators by weight.
type Mixed struct {
	dnsqr *DNSQR
	rng   *rand.Rand
	gens  []Generator
	cum   []int
	total int
}

// NewMixed returns a mixed generator seeded with seed, starting at payload
// time start (Unix seconds), with repeatShare of every type's payloads
// repeating a recent one and rate payloads per second of payload time in
// all. A zero mix means DefaultMix.
func NewMixed(seed uint64, start int64, mix Mix, repeatShare float64, rate int) *Mixed {
	if mix == (Mix{}) {
		mix = DefaultMix
	}
	m := &Mixed{rng: rand.New(rand.NewPCG(seed, seed^0x3a11))}
	total := mix.Dnsdedupe + mix.Newdomain + mix.Dnsqr
	share := func(w int) int { return max(1, rate*w/total) }
	add := func(w int, g Generator) {
		if w > 0 {
			m.total += w
			m.gens = append(m.gens, g)
			m.cum = append(m.cum, m.total)
		}
	}
	d := NewDedupe(seed+1, start)
	d.RepeatShare, d.Rate = repeatShare, share(mix.Dnsdedupe)
	n := NewNewDomain(seed+2, start)
	n.RepeatShare, n.Rate = repeatShare, share(mix.Newdomain)
	q := NewDNSQR(seed+3, start)
	q.RepeatShare, q.Rate = repeatShare, share(mix.Dnsqr)
	add(mix.Dnsdedupe, d)
	add(mix.Newdomain, n)
	add(mix.Dnsqr, q)
	m.dnsqr = q
	return m
}

// SetLargeShare sets the share of dnsqr payloads with a large answer
// (see DNSQR.LargeShare).
func (m *Mixed) SetLargeShare(f float64) { m.dnsqr.LargeShare = f }

// Next fills p from one of the generators, drawn by weight.
func (m *Mixed) Next(p *nmsg.Payload, buf []byte) []byte {
	r := m.rng.IntN(m.total)
	for i, c := range m.cum {
		if r < c {
			return m.gens[i].Next(p, buf)
		}
	}
	return m.gens[len(m.gens)-1].Next(p, buf)
}

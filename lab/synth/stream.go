package synth

import (
	"math/rand/v2"

	"github.com/siecap/siecap/nmsg"
)

// stream is what the newdomain and dnsqr generators share: payload time
// advancing at Rate, and a share of repeats of recent messages.
type stream struct {
	// RepeatShare and RepeatWindow work as in Dedupe.
	RepeatShare  float64
	RepeatWindow int64
	// Rate is the payloads per second of payload time.
	Rate   int
	Source uint32

	rng    *rand.Rand
	voc    *Dedupe
	now    int64
	recent recent
}

func newStream(rng *rand.Rand, start int64, repeatShare float64, rate int, source uint32) stream {
	return stream{RepeatShare: repeatShare, RepeatWindow: 10e9, Rate: rate, Source: source,
		rng: rng, voc: vocabulary(rng), now: start * 1e9, recent: newRecent()}
}

// messageAppender appends a new serialized message of a generator's type.
type messageAppender interface {
	appendMessage(b []byte) []byte
}

// next fills p with the next payload of type (vid, msgtype): a repeat of a
// recent message, or a new one from g. p.Message is appended
// to buf, which is returned grown; p aliases it.
func (s *stream) next(p *nmsg.Payload, buf []byte, vid, msgtype uint32, g messageAppender) []byte {
	s.now += 1e9/int64(max(s.Rate, 1)) + s.rng.Int64N(1000)
	start := len(buf)
	if r, ok := s.recent.pick(s.rng, s.now, s.RepeatShare, s.RepeatWindow); ok {
		buf = append(buf, r...)
	} else {
		buf = g.appendMessage(buf)
		s.recent.remember(buf[start:], s.now)
	}
	*p = nmsg.Payload{
		Vid: vid, Msgtype: msgtype,
		TimeSec: s.now / 1e9, TimeNsec: uint32(s.now % 1e9),
		Source: s.Source, Message: buf[start:], HasMessage: true,
	}
	return buf
}

package synth

import "math/rand/v2"

// recent remembers the messages generated within a window of payload time,
// so that a generator can repeat one byte for byte.
type recent struct {
	msgs []recentPayload
	next int
}

func newRecent() recent { return recent{msgs: make([]recentPayload, 0, 4096)} }

// pick returns, with probability share, a message remembered within window
// ns of payload time before now; otherwise false: this payload is new.
func (r *recent) pick(rng *rand.Rand, now int64, share float64, window int64) ([]byte, bool) {
	if len(r.msgs) == 0 || rng.Float64() >= share {
		return nil, false
	}
	for range 4 {
		m := r.msgs[rng.IntN(len(r.msgs))]
		if now-m.t <= window {
			return m.msg, true
		}
	}
	return nil, false
}

func (r *recent) remember(msg []byte, now int64) {
	e := recentPayload{msg: append([]byte(nil), msg...), t: now}
	if len(r.msgs) < cap(r.msgs) {
		r.msgs = append(r.msgs, e)
		return
	}
	r.msgs[r.next] = e
	r.next = (r.next + 1) % len(r.msgs)
}

// fresh appends a newly registered looking zone: a random label of 6 to 14
// letters and digits under a TLD.
func fresh(rng *rand.Rand) []byte {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	l := 6 + rng.IntN(9)
	z := []byte{byte(l)}
	for range l {
		z = append(z, alnum[rng.IntN(len(alnum))])
	}
	t := tlds[rng.IntN(len(tlds))]
	z = append(z, byte(len(t)))
	z = append(z, t...)
	return append(z, 0)
}

// vocabulary returns a Dedupe that draws names and rdata from rng, for the
// other generators to share its vocabulary.
func vocabulary(rng *rand.Rand) *Dedupe { return &Dedupe{rng: rng} }

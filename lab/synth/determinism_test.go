package synth_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

type generator interface {
	Next(p *nmsg.Payload, buf []byte) []byte
}

func newNewDomain() generator { return synth.NewNewDomain(5, 1767225600) }
func newDNSQR() generator     { return synth.NewDNSQR(6, 1767225600) }

// TestGeneratorsDeterministic: the same seed gives the same payloads.
func TestGeneratorsDeterministic(t *testing.T) {
	for _, mk := range []func() generator{newNewDomain, newDNSQR} {
		sum := func() string {
			g := mk()
			h := sha256.New()
			var p nmsg.Payload
			var buf []byte
			for range 2000 {
				buf = g.Next(&p, buf[:0])
				fmt.Fprintf(h, "%d %d %d %d %x\n", p.Vid, p.Msgtype, p.TimeSec, p.TimeNsec, p.Message)
			}
			return fmt.Sprintf("%x", h.Sum(nil))
		}
		if a, b := sum(), sum(); a != b {
			t.Fatalf("same seed, different payloads: %s vs %s", a, b)
		}
	}
}

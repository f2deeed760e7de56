package synth_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/msgmod"
)

// TestGeneratorsPrint checks that every generated payload is a message
// nmsgtool's modules decode completely: presentation and JSON print
// without error, DNS messages parse, and required fields are present.
func TestGeneratorsPrint(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  synth.Generator
		want []string
	}{
		{"dnsdedupe", synth.NewDedupe(1, 1767225600), []string{"rrname: ", "bailiwick: "}},
		{"newdomain", synth.NewNewDomain(2, 1767225600), []string{"domain: ", "rrname: ", "new_domain: True"}},
		{"dnsqr", synth.NewDNSQR(3, 1767225600), []string{"qname: ", "query: ", "type: UDP_"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pr msgmod.Printer
			var p nmsg.Payload
			var buf, out []byte
			seenResponse := false
			for i := range 2000 {
				buf = tc.gen.Next(&p, buf[:0])
				var err error
				out, err = pr.AppendPres(out[:0], &p)
				if err != nil {
					t.Fatalf("payload %d: print: %v", i, err)
				}
				s := string(out)
				for _, w := range tc.want {
					if !strings.Contains(s, w) {
						t.Fatalf("payload %d lacks %q:\n%s", i, w, s)
					}
				}
				if strings.Contains(s, "PARSE ERROR") {
					t.Fatalf("payload %d has a DNS parse error:\n%s", i, s)
				}
				if strings.Contains(s, "response: [") {
					seenResponse = true
				}
				if _, err := pr.AppendJSON(out[:0], &p); err != nil {
					t.Fatalf("payload %d: JSON: %v", i, err)
				}
			}
			if tc.name == "dnsqr" && !seenResponse {
				t.Fatal("no dnsqr payload carried a response")
			}
		})
	}
}

func TestMixedIsDeterministicAndRepeats(t *testing.T) {
	gen := func() ([][]byte, map[uint32]int) {
		g := synth.NewMixed(7, 1767225600, synth.DefaultMix, 0.3, 20000)
		var p nmsg.Payload
		var msgs [][]byte
		types := map[uint32]int{}
		for range 5000 {
			b := g.Next(&p, nil)
			msgs = append(msgs, b)
			types[p.Vid<<16|p.Msgtype]++
		}
		return msgs, types
	}
	a, types := gen()
	b, _ := gen()
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("payload %d differs between runs with the same seed", i)
		}
	}
	for _, k := range []uint32{2<<16 | 1, 2<<16 | 5, 1<<16 | 9} {
		if types[k] == 0 {
			t.Errorf("type %d:%d never generated: %v", k>>16, k&0xffff, types)
		}
	}
	seen := map[string]bool{}
	repeats := 0
	for _, m := range a {
		if seen[string(m)] {
			repeats++
		}
		seen[string(m)] = true
	}
	if share := float64(repeats) / float64(len(a)); share < 0.2 || share > 0.4 {
		t.Errorf("repeat share %.3f, want about 0.3", share)
	}
}

func TestParseMix(t *testing.T) {
	m, err := synth.ParseMix("dnsdedupe=2, dnsqr=5")
	if err != nil || m != (synth.Mix{Dnsdedupe: 2, Dnsqr: 5}) {
		t.Fatalf("ParseMix = %+v, %v", m, err)
	}
	for _, bad := range []string{"dnsx=1", "dnsqr=-1", "dnsqr=0", "dnsqr=x"} {
		if _, err := synth.ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

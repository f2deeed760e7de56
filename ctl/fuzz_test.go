package ctl

import (
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzDecodeRuleSet feeds PUT /api/v1/rules bodies to the decoder and the
// validator: never a panic, and whatever passes both is a rule set whose
// every rule has a known action and the types that action needs.
func FuzzDecodeRuleSet(f *testing.F) {
	f.Add([]byte(`{"channels":[{"channel":204,"action":"deny","types":["SIE:newdomain"]}]}`))
	f.Add([]byte(`{"channels":[{"channel":202,"action":"pass"},{"channel":208,"action":"drop"}]}`))
	f.Add([]byte(`{"channels":[{"channel":1,"action":"allow","types":["base","2:3","SIE:dnsdedupe"]}]}`))
	f.Add([]byte(`{"channels":[{"channel":70000}]}`))
	f.Add([]byte(`{"channels":null} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := decodeRuleSet(body)
		if err != nil {
			return
		}
		if rs.Validate() != nil {
			return
		}
		for _, r := range rs.Channels {
			switch r.Action {
			case ActionPass, ActionDrop:
				if len(r.Types) != 0 {
					t.Fatalf("valid %s rule with types: %+v", r.Action, r)
				}
			case ActionAllow, ActionDeny:
				if len(r.Types) == 0 {
					t.Fatalf("valid %s rule without types: %+v", r.Action, r)
				}
			default:
				t.Fatalf("valid rule with action %q", r.Action)
			}
		}
	})
}

// FuzzExportQuery feeds query strings to the export parameter parser.
func FuzzExportQuery(f *testing.F) {
	f.Add("channel=204&from=2026-01-02T03:04:05Z&to=1767323045&format=json")
	f.Add("channel=4096&format=pcap")
	f.Add("from=100&to=50&channel=1")
	f.Fuzz(func(t *testing.T, query string) {
		var a fasthttpArgs
		a.Parse(query)
		q, err := parseExportQuery(&a.Args)
		if err != nil {
			return
		}
		if q.Channel > MaxChannel || (q.Format != ExportNMSG && q.Format != ExportJSON) ||
			(!q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To)) {
			t.Fatalf("accepted %q as %+v", query, q)
		}
	})
}

type fasthttpArgs struct{ fasthttp.Args }

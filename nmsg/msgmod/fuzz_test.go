package msgmod

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/siecap/siecap/nmsg"
)

// seedLines are hand-written nmsgtool JSON lines, one or more per module.
var seedLines = []string{
	`{"time":"2020-01-02 03:04:05.000000006","vname":"SIE","mname":"dnsdedupe","source":"01020304","message":{"type":"INSERTION","count":2,"time_first":"2020-01-01 00:00:00","response_ip":"198.18.0.1","bailiwick":"example.","rrname":"a.example.","rrclass":"IN","rrtype":"AAAA","rrttl":60,"rdata":["2001:db8::1"]}}`,
	`{"time":"2020-01-02 03:04:05.1","vname":"SIE","mname":"newdomain","message":{"domain":"example.","keys":["x",""],"new_rr":[true,0],"new_rrset":"FALSE"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"SIE","mname":"delay","message":{"query_ip":"::1","response_ip":"198.18.0.2","delay":1e-3,"response_time_sec":-5}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"SIE","mname":"dnsnx","message":{"qname":"nx.example.","qclass":"IN","qtype":"MX","response_ip":"198.18.0.3"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"SIE","mname":"qr","message":{"type":"ERROR","text":"t\u0000u"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"SIE","mname":"reputation","message":{"type":"HOST","tag":"x","host":"h"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"dns","message":{"rrname":"b.example.","rrclass":"CLASS7","rrtype":"TYPE999","rdata":["\\# 1 00 "]}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"encode","message":{"type":"JSON","payload":"eyJhIjoxfQ=="}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"email","message":{"type":3,"body":"b\nc","rcpt":["r"]}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"http","message":{"type":"sinkhole","p0f_dist":-1,"p0f_uptime":2147483647}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"ipconn","message":{"proto":17,"srcip":"198.18.0.4","srcport":1}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"pkt","message":{"len_frame":3,"payload":"AQID"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"xml","message":{"xmltype":"t","xmlpayload":"PGEvPg=="}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"packet","message":{"payload_type":"IP","payload":"RQAAHAAAAABAEQAAxhIAAcYSAAIAAQA1AAgAAA=="}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"ncap","message":{"type":"IPV4","payload":"RQAAHAAAAABAEQAAxhIAAcYSAAIAAQA1AAgAAA=="}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"dnsqr","message":{"type":"UDP_QUERY_RESPONSE","query_ip":"198.18.0.1","response_ip":"198.18.0.2","proto":"UDP","query_port":1,"response_port":53,"id":7,"query_packet":["RQAAHAAAAABAEQAAxhIAAcYSAAIAAQA1AAgAAA=="],"query_time_sec":[1],"query_time_nsec":[2],"response_packet":["RQAAHAAAAABAEQAAxhIAAsYSAAEANQABAAgAAA=="],"response_time_sec":[1],"response_time_nsec":[3]}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"dnsobs","message":{"time":1,"response_ip":"198.18.0.5","qname":"o.example.","qtype":"A","qclass":"IN","rcode":"NOERROR","sensor_id":"ff"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"logline","message":{"category":"c","message":"\u00e9"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"linkpair","message":{"type":"redirect","src":"s","dst":"d","headers":"h"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"base","mname":"dnstap","message":{"identity":"aWQ=","type":"MESSAGE"}}`,
	`{"time":"2020-01-02 03:04:05.000000000","vname":"(unknown)","mname":"(unknown)","vid":9,"msgtype":9,"message":{"b64":"CAE="}}`,
}

func addVectorSeeds(f *testing.F, add func(nmsg.Payload)) {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	v := filepath.Join(dir, "..", "shared", "vectors", "nmsgtool", "types-all-zlib.nmsg")
	if _, err := os.Stat(v); err != nil {
		return
	}
	for _, p := range readPayloads(f, v) {
		add(p)
	}
}

// FuzzAppendJSON prints arbitrary messages of every type. It must never
// panic, and every line printed must be JSON. encoding/json.Valid does not
// check UTF-8 inside strings, which matches what nmsgtool prints: strings
// may carry raw bytes (encoded surrogates, code points above U+10FFFF,
// encode TEXT payloads).
func FuzzAppendJSON(f *testing.F) {
	r := &JSONReader{}
	for _, l := range seedLines {
		pl, err := r.ParseLine([]byte(l))
		if err != nil {
			f.Fatalf("seed %s: %v", l, err)
		}
		f.Add(pl.Vid, pl.Msgtype, pl.TimeSec, pl.TimeNsec, pl.Message)
	}
	addVectorSeeds(f, func(p nmsg.Payload) { f.Add(p.Vid, p.Msgtype, p.TimeSec, p.TimeNsec, p.Message) })
	p := &Printer{}
	f.Fuzz(func(t *testing.T, vid, msgtype uint32, sec int64, nsec uint32, message []byte) {
		pl := nmsg.Payload{Vid: vid % 4, Msgtype: msgtype % 16, TimeSec: sec, TimeNsec: nsec,
			Message: message, HasMessage: true, Operator: vid >> 28}
		out, err := p.AppendJSON(nil, &pl)
		if err != nil {
			return
		}
		if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", out)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		if _, err := p.AppendPres(nil, &pl); err != nil {
			t.Fatalf("pres fails where JSON did not: %v", err)
		}
	})
}

// FuzzParseLine reads arbitrary JSON lines: it must never panic, and a
// payload it accepts must print as JSON.
func FuzzParseLine(f *testing.F) {
	for _, l := range seedLines {
		f.Add([]byte(l))
	}
	p := &Printer{}
	addVectorSeeds(f, func(pl nmsg.Payload) {
		if out, err := p.AppendJSON(nil, &pl); err == nil {
			f.Add(bytes.TrimSuffix(out, []byte("\n")))
		}
	})
	r := &JSONReader{}
	f.Fuzz(func(t *testing.T, line []byte) {
		pl, err := r.ParseLine(line)
		if err != nil {
			return
		}
		out, err := p.AppendJSON(nil, &pl)
		if err != nil {
			t.Fatalf("ParseLine accepted %q but its message does not print: %v", line, err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
	})
}

package msgmod

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/siecap/siecap/nmsg"
)

func TestLookupName(t *testing.T) {
	for _, c := range []struct {
		v, m        string
		vid, mtype  uint32
		wantErrText string
	}{
		{v: "SIE", m: "dnsdedupe", vid: 2, mtype: 1},
		{v: "sie", m: "DNSDEDUPE", vid: 2, mtype: 1},
		{v: "2", m: "5", vid: 2, mtype: 5},
		{v: "base", m: "dnsqr", vid: 1, mtype: 9},
		{v: "ISC", m: "ncap", vid: 1, mtype: 1},
		{v: "nope", m: "dnsqr", wantErrText: "unknown vendor"},
		{v: "SIE", m: "dnsqr", wantErrText: "unknown message type"},
		{v: "base", m: "99", wantErrText: "unknown message type"},
	} {
		m, err := LookupName(c.v, c.m)
		if c.wantErrText != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErrText) {
				t.Errorf("%s/%s: err %v, want %q", c.v, c.m, err, c.wantErrText)
			}
			continue
		}
		if err != nil || m.Vid != c.vid || m.Msgtype != c.mtype {
			t.Errorf("%s/%s: %v %v", c.v, c.m, m, err)
		}
	}
	ms := Modules()
	if len(ms) != 20 || ms[0].MName != "ncap" || ms[13].MName != "dnsobs" || ms[19].MName != "dnsnx" {
		t.Errorf("%d modules, want 14 base + 6 SIE in order", len(ms))
	}
}

func TestUnknownType(t *testing.T) {
	p := &Printer{}
	pl := nmsg.Payload{Vid: 2, Msgtype: 99, TimeSec: 1, Message: []byte{8, 1}, HasMessage: true}
	got, err := p.AppendJSON(nil, &pl)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"1970-01-01 00:00:01.000000000","vname":"SIE","mname":"(unknown)","vid":2,"msgtype":99,"message":{"b64":"CAE="}}` + "\n"
	if string(got) != want {
		t.Errorf("got %s", got)
	}
	back, err := (&JSONReader{}).ParseLine(got[:len(got)-1])
	if err != nil || back.Vid != 2 || back.Msgtype != 99 || string(back.Message) != "\x08\x01" {
		t.Errorf("read back %+v %v", back, err)
	}
	pres, _ := p.AppendPres(nil, &pl)
	wantPres := "[2] [1970-01-01 00:00:01.000000000] [2:99 SIE (null)] [00000000] [] [] \n<UNKNOWN NMSG 2:99>\n\n"
	if string(pres) != wantPres {
		t.Errorf("pres %q", pres)
	}
}

func TestMalformedMessage(t *testing.T) {
	p := &Printer{}
	for _, msg := range [][]byte{{0x0a, 0x05, 'a'}, {0x50}, {0x6d, 1, 2, 3, 4}} { // short bytes, short varint, wrong wire type
		pl := nmsg.Payload{Vid: 2, Msgtype: 1, Message: msg, HasMessage: true}
		out, err := p.AppendJSON([]byte("x"), &pl)
		if !errors.Is(err, ErrMalformed) || string(out) != "x" {
			t.Errorf("%x: %q %v", msg, out, err)
		}
		if _, err := p.AppendPres(nil, &pl); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: pres %v", msg, err)
		}
	}
}

func TestJSONDouble(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0.1, "0.100000000000000006"},
		{5, "5.0"},
		{0.25, "0.25"},
		{-1.5, "-1.5"},
		{1e44, "100000000000000008821361405306422640701865984.0"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
	} {
		if got := string(appendJSONDouble(nil, c.d)); got != c.want {
			t.Errorf("%v: %s, want %s", c.d, got, c.want)
		}
	}
	if got := string(appendCDouble(nil, math.NaN())); got != "nan" {
		t.Errorf("pres NaN %s", got)
	}
}

func TestAppendIP(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{[]byte{198, 18, 0, 1}, "198.18.0.1"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1}, "::198.18.0.1"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1}, "::ffff:198.18.0.1"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
		{[]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8:0:1::1"},
	} {
		if got := string(appendIP(nil, c.b)); got != c.want {
			t.Errorf("%x: %s, want %s", c.b, got, c.want)
		}
	}
}

func TestJSONStringUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a\x00b", `"a"`},
		{"\xff|\xc0\xaf|\xe0\x80\xaf|\xed\xa0\x80|\xe2\x82", "\"\ufffd|\ufffd|\ufffd|\xed\xa0\x80|\ufffd\ufffd\""},
		{"q\"\\\t\x01\x7f", `"q\"\\\t\u0001` + "\x7f\""},
	} {
		if got := string(appendJSONStringUTF8(nil, []byte(c.in))); got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseLineErrors(t *testing.T) {
	r := &JSONReader{}
	for _, c := range []struct{ line, want string }{
		{`[]`, "not an object"},
		{`{"time":"x","vname":"SIE","mname":"qr","message":{}}`, "time"},
		{`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"nope","message":{}}`, "unknown message type"},
		{`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"qr","message":{"type":"NOPE"}}`, "field type"},
		{`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"delay","message":{"delay":"x"}}`, "field delay"},
		{`{"time":"2020-01-01 00:00:00","vname":"base","mname":"http","message":{"p0f_dist":40000}}`, "field p0f_dist"},
		{`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"dnsdedupe","message":{"rdata":["1.2.3.4"]}}`, "rrtype"},
		{`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"qr","message":{}`, "syntax"},
	} {
		_, err := r.ParseLine([]byte(c.line))
		if err == nil || !errors.Is(err, ErrJSONInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.line, err, c.want)
		}
	}
	// a double given as an integer literal, and a uint64 above 2^63-1 as
	// a number, are read as meant (nmsgtool rejects or caps them)
	pl, err := r.ParseLine([]byte(`{"time":"2020-01-01 00:00:00","vname":"base","mname":"dnsobs","message":{"time":18446744073709551615}}`))
	if err != nil || !strings.Contains(string(pl.Message), "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01") {
		t.Errorf("uint64 max: %x %v", pl.Message, err)
	}
	if _, err := r.ParseLine([]byte(`{"time":"2020-01-01 00:00:00","vname":"SIE","mname":"delay","message":{"delay":5}}`)); err != nil {
		t.Errorf("integer double: %v", err)
	}
}

func TestAliases(t *testing.T) {
	op, _ := nmsg.ParseAliases(strings.NewReader("1 FSI\n"))
	gr, _ := nmsg.ParseAliases(strings.NewReader("131 dns_chaff\n"))
	al := &nmsg.Aliases{Operator: op, Group: gr}
	p := &Printer{Aliases: al}
	pl := nmsg.Payload{Vid: 2, Msgtype: 3, Operator: 1, Group: 131, Message: []byte{8, 0}, HasMessage: true}
	got, _ := p.AppendJSON(nil, &pl)
	if !strings.Contains(string(got), `"operator":"FSI","group":"dns_chaff"`) {
		t.Errorf("json %s", got)
	}
	pres, _ := p.AppendPres(nil, &pl)
	if !strings.Contains(string(pres), "[FSI] [dns_chaff] \n") {
		t.Errorf("pres %s", pres)
	}
	back, err := (&JSONReader{Aliases: al}).ParseLine(got[:len(got)-1])
	if err != nil || back.Operator != 1 || back.Group != 131 {
		t.Errorf("read back %+v %v", back, err)
	}
}

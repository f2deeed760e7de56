package wdns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"
)

// nxdomainResponse is the third response of types-base-dnsqr rebuilt by
// hand, with compression pointers to "example.org" at offset 20.
func nxdomainResponse() wire {
	w := wire{}.u16(258, 0x8183, 1, 0, 1, 0)
	w = w.labels("missing").name("example.org").u16(28, 1) // question; example.org at 20
	w = w.ptr(20)
	soa := wire{}.u8(2, 'n', 's').ptr(20).labels("hostmaster").ptr(20).u32(2023030101).u32(7200).u32(3600).u32(1209600).u32(3600)
	return w.rr(6, 1, 3600, soa)
}

// Quoted from types-base-dnsqr.pres and .json.
const nxdomainText = `;; ->>HEADER<<- opcode: QUERY, rcode: NXDOMAIN, id: 258
;; flags: qr rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 0

;; QUESTION SECTION:
;missing.example.org. IN AAAA

;; ANSWER SECTION:

;; AUTHORITY SECTION:
example.org. 3600 IN SOA ns.example.org. hostmaster.example.org. 2023030101 7200 3600 1209600 3600

;; ADDITIONAL SECTION:
`

const nxdomainJSON = `{"header":{"opcode":"QUERY","rcode":"NXDOMAIN","id":258,"flags":["qr","rd","ra"]},"question":[{"qname":"missing.example.org.","qclass":"IN","qtype":"AAAA"}],"answer":[],"authority":[{"rrname":"example.org.","rrttl":3600,"rrclass":"IN","rrtype":"SOA","rdata":["ns.example.org. hostmaster.example.org. 2023030101 7200 3600 1209600 3600"]}],"additional":[]}`

// ednsQuery is the first query of types-base-dnsqr: RD, EDNS with DO, UDP
// 1232 and option 10 carrying 00..07.
func ednsQuery() wire {
	w := wire{}.u16(48879, 0x0100, 1, 0, 0, 1)
	w = w.name("www.example.com").u16(1, 1)
	opt := wire{}.u16(10, 8).u8(0, 1, 2, 3, 4, 5, 6, 7)
	return w.u8(0).rr(41, 1232, 0x8000, opt)
}

const ednsQueryText = `;; ->>HEADER<<- opcode: QUERY, rcode: NOERROR, id: 48879
;; flags: rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
; OPT=10: 00 01 02 03 04 05 06 07 ("........")
;; QUESTION SECTION:
;www.example.com. IN A

;; ANSWER SECTION:

;; AUTHORITY SECTION:

;; ADDITIONAL SECTION:
`

const ednsQueryJSON = `{"header":{"opcode":"QUERY","rcode":"NOERROR","id":48879,"flags":["rd"],"opt":{"edns":{"version":0,"flags":["do"],"udp":1232,"options":["OPT=10: 00 01 02 03 04 05 06 07 (\"........\")"]}}},"question":[{"qname":"www.example.com.","qclass":"IN","qtype":"A"}],"answer":[],"authority":[],"additional":[]}`

// rrsetResponse has an RRset split by another record, names differing in
// case, different TTLs, an A record in class CH and an empty A rdata.
func rrsetResponse() wire {
	w := wire{}.u16(7, 0x8400, 0, 5, 0, 0)
	w = w.name("a.example").rr(1, 1, 60, wire{}.u8(192, 0, 2, 1)) // 12
	w = w.name("b.example").rr(1, 1, 60, wire{}.u8(192, 0, 2, 9))
	w = w.name("A.EXAMPLE").rr(1, 1, 30, wire{}.u8(192, 0, 2, 2))
	w = w.name("c.example").rr(1, 3, 5, wire{}.u8(192, 0, 2, 3))
	w = w.name("d.example").rr(1, 1, 5, wire{})
	return w
}

const rrsetText = `;; ->>HEADER<<- opcode: QUERY, rcode: NOERROR, id: 7
;; flags: qr aa; QUERY: 0, ANSWER: 5, AUTHORITY: 0, ADDITIONAL: 0

;; QUESTION SECTION:

;; ANSWER SECTION:
a.example. 60 IN A 192.0.2.1
b.example. 60 IN A 192.0.2.9
A.EXAMPLE. 30 IN A 192.0.2.2
c.example. 5 CH A 
d.example. 5 IN A

;; AUTHORITY SECTION:

;; ADDITIONAL SECTION:
`

const rrsetJSON = `{"header":{"opcode":"QUERY","rcode":"NOERROR","id":7,"flags":["qr","aa"]},"question":[],"answer":[{"rrname":"a.example.","rrttl":30,"rrclass":"IN","rrtype":"A","rdata":["192.0.2.1","192.0.2.2"]},{"rrname":"b.example.","rrttl":60,"rrclass":"IN","rrtype":"A","rdata":["192.0.2.9"]},{"rrname":"c.example.","rrttl":5,"rrclass":"CH","rrtype":"A","rdata":[""]},{"rrname":"d.example.","rrttl":5,"rrclass":"IN","rrtype":"A","rdata":[""]}],"authority":[],"additional":[]}`

func TestMessageText(t *testing.T) {
	for _, c := range []struct {
		name     string
		msg      wire
		text, js string
	}{
		{"nxdomain", nxdomainResponse(), nxdomainText, nxdomainJSON},
		{"edns", ednsQuery(), ednsQueryText, ednsQueryJSON},
		{"rrsets", rrsetResponse(), rrsetText, rrsetJSON},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := wdns.AppendMessageText([]byte("q\n"), c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "q\n"+c.text {
				t.Errorf("text:\n%s\nwant:\n%s", got[2:], c.text)
			}
			got, err = wdns.AppendMessageJSON(nil, c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.js {
				t.Errorf("json:\n%s\nwant:\n%s", got, c.js)
			}
		})
	}
}

func TestParseMessageFields(t *testing.T) {
	m, err := wdns.ParseMessage(nxdomainResponse())
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 258 || m.Flags != 0x8183 || m.Rcode != 3 || m.Opcode() != 0 || m.EDNS != nil {
		t.Errorf("header: %+v", m)
	}
	if len(m.Question) != 1 || string(m.Question[0].Name) != "\x07missing\x07example\x03org\x00" || m.Question[0].Type != 28 {
		t.Errorf("question: %+v", m.Question)
	}
	// The SOA rdata comes back with its names decompressed.
	want := wire{}.name("ns.example.org").name("hostmaster.example.org").u32(2023030101).u32(7200).u32(3600).u32(1209600).u32(3600)
	if len(m.Authority) != 1 || string(m.Authority[0].Rdata) != string(want) {
		t.Errorf("authority: %+v", m.Authority)
	}
	sets := (&wdns.Message{Answer: mustParse(t, rrsetResponse()).Answer}).RRsets(wdns.SectionAnswer)
	if len(sets) != 4 || len(sets[0].Rdata) != 2 || sets[0].TTL != 30 {
		t.Errorf("rrsets: %+v", sets)
	}
}

func mustParse(t *testing.T, w wire) *wdns.Message {
	t.Helper()
	m, err := wdns.ParseMessage(w)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestParseMessageEDNSRcode: wdns ORs the OPT extended rcode octet in
// shifted by 8 (not 4), so BADVERS on the wire prints as 256+low.
func TestParseMessageEDNSRcode(t *testing.T) {
	w := wire{}.u16(1, 0x8000, 0, 0, 0, 1).u8(0).rr(41, 4096, 0x01000000, nil)
	m := mustParse(t, w)
	if m.Rcode != 256 || m.EDNS == nil || !m.EDNS.HasOptions || len(m.EDNS.Options) != 0 {
		t.Fatalf("rcode %d edns %+v", m.Rcode, m.EDNS)
	}
	js, _ := wdns.AppendMessageJSON(nil, w)
	if !strings.Contains(string(js), `"rcode":256,`) || !strings.Contains(string(js), `"options":[]`) {
		t.Errorf("json %s", js)
	}
	text, _ := wdns.AppendMessageText(nil, w)
	if !strings.HasPrefix(string(text), ";; ->>HEADER<<- opcode: QUERY, rcode: 256, id: 1\n") {
		t.Errorf("text %s", text)
	}
}

func TestParseMessageLenient(t *testing.T) {
	// Header counts more records than present: parsing stops at the end.
	w := wire{}.u16(9, 0x7800, 2, 3, 4, 5).name("x").u16(1, 1)
	m := mustParse(t, w)
	if len(m.Question) != 1 || m.Opcode() != 15 {
		t.Fatalf("%+v", m)
	}
	text, _ := wdns.AppendMessageText(nil, w)
	if !strings.HasPrefix(string(text), ";; ->>HEADER<<- opcode: 15, rcode: NOERROR, id: 9\n;; flags:; QUERY: 1, ANSWER: 0,") {
		t.Errorf("text %s", text)
	}
	js, _ := wdns.AppendMessageJSON(nil, w)
	if !strings.HasPrefix(string(js), `{"header":{"opcode":15,"rcode":"NOERROR"`) {
		t.Errorf("json %s", js)
	}
	// An OPT record in the question section has no rdata: no "options".
	w = wire{}.u16(1, 0, 1, 0, 0, 0).u8(0).u16(41, 512)
	js, _ = wdns.AppendMessageJSON(nil, w)
	if want := `{"header":{"opcode":"QUERY","rcode":"NOERROR","id":1,"flags":[],"opt":{"edns":{"version":0,"flags":[],"udp":512}}},"question":[],`; !strings.HasPrefix(string(js), want) {
		t.Errorf("json %s\nwant prefix %s", js, want)
	}
}

// TestJSONUnknownType: nmsg prints "TYPE" with the record's class number
// for a type without a mnemonic; the text form prints the type number.
func TestJSONUnknownType(t *testing.T) {
	w := wire{}.u16(1, 0x8000, 0, 1, 0, 0).name("x").rr(65280, 1, 5, wire{}.u8(1))
	js, _ := wdns.AppendMessageJSON(nil, w)
	if !strings.Contains(string(js), `"rrclass":"IN","rrtype":"TYPE1","rdata":["\\# 1 01 "]`) {
		t.Errorf("json %s", js)
	}
	text, _ := wdns.AppendMessageText(nil, w)
	if !strings.Contains(string(text), "x. 5 IN TYPE65280 \\# 1 01 \n") {
		t.Errorf("text %s", text)
	}
}

func TestParseMessageErrors(t *testing.T) {
	hdr := func(qd, an uint16) wire { return wire{}.u16(1, 0, qd, an, 0, 0) }
	for _, c := range []struct {
		name string
		msg  wire
		err  error
	}{
		{"short", wire{}.u8(1, 2, 3), wdns.ErrShort},
		{"forward pointer", hdr(1, 0).ptr(14).u16(1, 1), wdns.ErrCompressionPointer},
		{"self pointer", hdr(1, 0).ptr(12).u16(1, 1), wdns.ErrCompressionPointer},
		{"pointer loop", hdr(1, 1).name("a").u16(1, 1).u8(1, 'b').ptr(21).rr(1, 1, 0, nil), wdns.ErrCompressionPointer},
		{"pointer cut", hdr(1, 0).u8(0xc0), wdns.ErrOutOfBounds},
		{"label cut", hdr(1, 0).u8(5, 'a'), wdns.ErrOutOfBounds},
		{"length octet", hdr(1, 0).u8(0x40), wdns.ErrLengthOctet},
		{"name too long", hdr(1, 0).labels(strings.Repeat("a.", 127)+"a").u8(0).u16(1, 1), wdns.ErrNameOverflow},
		{"question cut", hdr(1, 0).name("a").u8(0, 1), wdns.ErrParse},
		{"rr cut", hdr(0, 1).name("a").u16(1, 1).u8(0), wdns.ErrParse},
		{"rdlength", hdr(0, 1).name("a").u16(1, 1).u32(0).u16(9).u8(1, 2), wdns.ErrOverflow},
		{"A too long", hdr(0, 1).name("a").rr(1, 1, 0, wire{}.u8(1, 2, 3, 4, 5)), wdns.ErrOutOfBounds},
		{"A too short", hdr(0, 1).name("a").rr(1, 1, 0, wire{}.u8(1, 2, 3)), wdns.ErrParse},
		{"NSEC bitmap", hdr(0, 1).name("a").rr(47, 1, 0, wire{}.name("b").u8(0, 33)), wdns.ErrOutOfBounds},
		{"NS name past rdata", hdr(0, 1).name("a").rr(2, 1, 0, wire{}.u8(3, 'a')).u8('b', 'c', 0), wdns.ErrOutOfBounds},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := wdns.ParseMessage(c.msg)
			if !errors.Is(err, c.err) {
				t.Fatalf("ParseMessage = %+v, %v; want %v", m, err, c.err)
			}
			if out, err := wdns.AppendMessageText([]byte("x"), c.msg); err == nil || string(out) != "x" {
				t.Errorf("AppendMessageText = %q, %v", out, err)
			}
			if out, err := wdns.AppendMessageJSON([]byte("x"), c.msg); err == nil || string(out) != "x" {
				t.Errorf("AppendMessageJSON = %q, %v", out, err)
			}
		})
	}
}

func TestCounters(t *testing.T) {
	before := wdns.ReadCounters()
	wdns.ParseMessage(wire{}.u8(1))
	wdns.ParseMessage(wire{}.u16(1, 0, 1, 0, 0, 0).u8(0x40))
	wdns.ParseMessage(wire{}.u16(1, 0, 0, 1, 0, 0).name("a").rr(1, 1, 0, wire{}.u8(1)))
	wdns.ParseMessage(nxdomainResponse())
	wdns.AppendRdata(nil, 1, 1, wire{}.u8(1))
	wdns.ParseRdata(1, 1, "x")
	wdns.ParseName("a..b")
	wdns.AppendName(nil, wire{}.u8(1))
	after := wdns.ReadCounters()
	for _, c := range []struct {
		name          string
		before, after uint64
		want          uint64
	}{
		{"MessagesParsed", before.MessagesParsed, after.MessagesParsed, 1},
		{"MessageErrors", before.MessageErrors, after.MessageErrors, 3},
		{"ShortMessages", before.ShortMessages, after.ShortMessages, 1},
		{"BadNames", before.BadNames, after.BadNames, 1},
		{"BadRecords", before.BadRecords, after.BadRecords, 1},
		{"RdataPrintErrors", before.RdataPrintErrors, after.RdataPrintErrors, 1},
		{"RdataTextRejected", before.RdataTextRejected, after.RdataTextRejected, 1},
		{"NameTextRejected", before.NameTextRejected, after.NameTextRejected, 1},
		{"MalformedWireNames", before.MalformedWireNames, after.MalformedWireNames, 1},
	} {
		if c.after-c.before != c.want {
			t.Errorf("%s grew by %d, want %d", c.name, c.after-c.before, c.want)
		}
	}
}

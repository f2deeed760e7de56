package wdns_test

import (
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"
)

// dedupeRdata is a dnsdedupe-like mix of RRsets.
var dedupeRdata = []struct {
	name          string
	rrtype, class uint16
	rdata         wire
}{
	{"A", 1, 1, wire{}.u8(192, 0, 2, 1)},
	{"AAAA", 28, 1, wire{}.u8(0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53)},
	{"NS", 2, 1, wire{}.name("a2.org.afilias-nst.info")},
	{"CNAME", 5, 1, wire{}.name("ohanamortgagellc.com")},
	{"TXT", 16, 1, wire{}.str("v=spf1 include:_spf.example.com ~all").str("x\"y")},
	{"NSEC", 47, 1, wire{}.u8(1, 0).name("www.investec.com.cdn.cloudflare.net").u8(0, 6, 0x62, 0, 0, 0, 0, 0x03)},
	{"SOA", 6, 1, wire{}.name("ns.example.org").name("hostmaster.example.org").u32(2023030101).u32(7200).u32(3600).u32(1209600).u32(3600)},
	{"MX", 15, 1, wire{}.u16(10).name("mail.example.org")},
}

func BenchmarkAppendRdata(b *testing.B) {
	buf := make([]byte, 0, 1024)
	for _, c := range dedupeRdata {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf = wdns.AppendRdata(buf[:0], c.rrtype, c.class, c.rdata)
			}
		})
	}
}

func BenchmarkAppendName(b *testing.B) {
	name := []byte(wire{}.name("www.investec.com.cdn.cloudflare.net"))
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = wdns.AppendName(buf[:0], name)
	}
}

func BenchmarkTypeClassString(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(wdns.TypeString(47)) + len(wdns.TypeString(65280)) + len(wdns.ClassString(1)) + len(wdns.ClassString(42))
	}
	_ = n
}

func BenchmarkParseMessage(b *testing.B) {
	msg := []byte(nxdomainResponse())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wdns.ParseMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMessageJSON(b *testing.B) {
	msg := []byte(ednsQuery())
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = wdns.AppendMessageJSON(buf[:0], msg)
	}
}

func BenchmarkAppendMessageText(b *testing.B) {
	msg := []byte(nxdomainResponse())
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = wdns.AppendMessageText(buf[:0], msg)
	}
}

func BenchmarkParseRdata(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wdns.ParseRdata(6, 1, "ns.example.org. hostmaster.example.org. 2023030101 7200 3600 1209600 3600"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotPathAllocs: the printers used per dnsdedupe record do not
// allocate when the buffer has room.
func TestHotPathAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	wdns.TypeString(65280) // builds the TYPEn table once
	wdns.ClassString(42)
	name := []byte(wire{}.name("www.example.com"))
	for _, c := range append(dedupeRdata, struct {
		name          string
		rrtype, class uint16
		rdata         wire
	}{"generic", 65280, 42, wire{}.u8(1, 2, 3)}) {
		allocs := testing.AllocsPerRun(100, func() {
			buf = wdns.AppendRdata(buf[:0], c.rrtype, c.class, c.rdata)
			buf, _ = wdns.AppendName(buf, name)
			buf = append(buf, wdns.TypeString(c.rrtype)...)
			buf = append(buf, wdns.ClassString(c.class)...)
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per record", c.name, allocs)
		}
	}
}

// BenchmarkMessageParse parses into one reused Message; it must not
// allocate.
func BenchmarkMessageParse(b *testing.B) {
	msg := []byte(nxdomainResponse())
	var m wdns.Message
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageParseJSON parses into one reused Message and prints it as
// JSON (dnsqr's query_json and response_json); it must not allocate.
func BenchmarkMessageParseJSON(b *testing.B) {
	msgs := [][]byte{ednsQuery(), rrsetResponse(), nxdomainResponse()}
	var m wdns.Message
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := m.Parse(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		buf = m.AppendJSON(buf[:0])
		i++
	}
}

// TestMessageParseReuse parses different messages in turn into one Message:
// each prints as a freshly parsed one does (nothing of the one before
// remains, EDNS included), and after the first round nothing allocates.
func TestMessageParseReuse(t *testing.T) {
	msgs := [][]byte{ednsQuery(), rrsetResponse(), nxdomainResponse(), wire{}.u8(1, 2, 3), ednsQuery()}
	var m wdns.Message
	buf := make([]byte, 0, 8192)
	for round := range 2 {
		for i, msg := range msgs {
			fresh, ferr := wdns.ParseMessage(msg)
			err := m.Parse(msg)
			if (err == nil) != (ferr == nil) {
				t.Fatalf("message %d: Parse %v, ParseMessage %v", i, err, ferr)
			}
			if err != nil {
				if m.EDNS != nil || len(m.Question)+len(m.Answer)+len(m.Authority)+len(m.Additional) != 0 {
					t.Errorf("message %d: failed Parse left %+v", i, m)
				}
				continue
			}
			if got, want := string(m.AppendJSON(nil)), string(fresh.AppendJSON(nil)); got != want {
				t.Errorf("round %d message %d JSON:\n%s\nwant\n%s", round, i, got, want)
			}
			if got, want := string(m.AppendText(nil)), string(fresh.AppendText(nil)); got != want {
				t.Errorf("round %d message %d text:\n%s\nwant\n%s", round, i, got, want)
			}
		}
	}
	for i, msg := range msgs[:3] {
		n := testing.AllocsPerRun(50, func() {
			if m.Parse(msg) == nil {
				buf = m.AppendJSON(buf[:0])
				buf = m.AppendText(buf)
			}
		})
		if n != 0 {
			t.Errorf("message %d: %.1f allocations per Parse, AppendJSON and AppendText", i, n)
		}
	}
}

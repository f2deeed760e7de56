package wdns_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/siecap/siecap/nmsg/wdns"
)

var nameCases = []struct {
	text string
	wire wire
}{
	{"www.example.com.", wire{}.name("www.example.com")},
	{".", wire{}.u8(0)},
	{`odd\032name\.dot.example.org.`, wire{}.str("odd name.dot").name("example.org")},                          // types-base-dns
	{`\000.www.investec.com.cdn.cloudflare.net.`, wire{}.u8(1, 0).name("www.investec.com.cdn.cloudflare.net")}, // dedupe-plain
	{`a\\b.\127\255!~\032.`, wire{}.u8(3, 'a', '\\', 'b', 5, 0x7f, 0xff, '!', '~', ' ', 0)},
	{"MiXeD.Example.", wire{}.name("MiXeD.Example")},
	{"_25._tcp.mail.example.net.", wire{}.name("_25._tcp.mail.example.net")}, // types-base-dnsqr
}

func TestAppendName(t *testing.T) {
	for _, c := range nameCases {
		got, err := wdns.AppendName([]byte(">"), c.wire)
		if err != nil || string(got) != ">"+c.text {
			t.Errorf("AppendName(% x) = %q, %v; want %q", []byte(c.wire), got, err, c.text)
		}
		back, err := wdns.ParseName(c.text)
		if err != nil || !bytes.Equal(back, c.wire) {
			t.Errorf("ParseName(%q) = % x, %v; want % x", c.text, back, err, []byte(c.wire))
		}
	}
}

func TestAppendNameMalformed(t *testing.T) {
	for _, b := range []wire{
		{},
		wire{}.u8(3, 'a', 'b', 'c'),
		wire{}.u8(3, 'a'),
		wire{}.u8(0x40),
		wire{}.u8(0xc0, 12),
		wire{}.name("a").u8(1),
		wire{}.labels(strings.Repeat("a.", 127) + "a").u8(0),
	} {
		if got, err := wdns.AppendName([]byte("x"), b); err == nil || string(got) != "x" {
			t.Errorf("AppendName(% x) = %q, %v; want an error", []byte(b), got, err)
		}
	}
}

// TestAppendDomain covers wdns_domain_to_str on malformed input, as nmsg
// prints name fields: it never fails.
func TestAppendDomain(t *testing.T) {
	for _, c := range []struct {
		b    wire
		want string
	}{
		{wire{}, "."},
		{wire{}.u8(0), "."},
		{wire{}.u8(3, 'a', 'b', 'c'), "abc."},
		{wire{}.u8(5, 'a', 'b'), "ab."},
		{wire{}.name("a").u8(1, 'b'), "a."},
		{wire{}.u8(0x41, 'x'), "x."},
	} {
		if got := string(wdns.AppendDomain(nil, c.b)); got != c.want {
			t.Errorf("AppendDomain(% x) = %q, want %q", []byte(c.b), got, c.want)
		}
	}
}

func TestParseName(t *testing.T) {
	ok := map[string]wire{
		"":                      wire{}.u8(0),
		"example.com":           wire{}.name("example.com"),
		`a\.b`:                  wire{}.u8(3, 'a', '.', 'b', 0),
		`\065`:                  wire{}.u8(1, 'A', 0),
		`\a\\`:                  wire{}.u8(2, 'a', '\\', 0),
		"a\x00ignored":          wire{}.u8(1, 'a', 0),
		strings.Repeat("a", 63): wire{}.labels(strings.Repeat("a", 63)).u8(0),
	}
	for in, want := range ok {
		got, err := wdns.ParseName(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ParseName(%q) = % x, %v; want % x", in, got, err, []byte(want))
		}
	}
	for _, in := range []string{
		"..", ".a", "a..b", `a\`, `\25`, `\256`, `\2a5`,
		strings.Repeat("a", 64),
		strings.Repeat("a.", 127) + "a",
	} {
		if got, err := wdns.ParseName(in); err == nil {
			t.Errorf("ParseName(%q) = % x, want an error", in, got)
		} else if !errors.Is(err, wdns.ErrNameMalformed) && !errors.Is(err, wdns.ErrNameTooLong) {
			t.Errorf("ParseName(%q): unexpected error %v", in, err)
		}
	}
	// 255 octets is the longest name.
	long := strings.Repeat("a.", 126) + "b" // 126*2 + 2 + 1 = 255 octets
	if b, err := wdns.ParseName(long); err != nil || len(b) != 255 {
		t.Errorf("ParseName(255-octet name) = %d octets, %v", len(b), err)
	}
}

func TestMnemonics(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{wdns.TypeString(1), "A"},
		{wdns.TypeString(47), "NSEC"},
		{wdns.TypeString(23), "NSAP-PTR"},
		{wdns.TypeString(65280), "TYPE65280"}, // types-base-dns
		{wdns.TypeString(32769), "DLV"},
		{wdns.TypeString(0), "TYPE0"},
		{wdns.ClassString(1), "IN"},
		{wdns.ClassString(3), "CH"},
		{wdns.ClassString(42), "CLASS42"}, // types-base-dns
		{wdns.ClassString(254), "NONE"},
		{wdns.RcodeString(3), "NXDOMAIN"},
		{wdns.RcodeString(16), "BADVERS"},
		{wdns.RcodeString(15), "15"},
		{wdns.OpcodeString(0), "QUERY"},
		{wdns.OpcodeString(5), "UPDATE"},
		{wdns.OpcodeString(3), "3"},
		{string(wdns.AppendType(nil, 1234)), "TYPE1234"},
		{string(wdns.AppendClass(nil, 65535)), "CLASS65535"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if _, ok := wdns.TypeName(65280); ok {
		t.Error("TypeName(65280) has a name")
	}
	for in, want := range map[string]uint16{"A": 1, "a": 1, "nsec3param": 51, "TYPE65280": 65280, "type1": 1, "NSAP-PTR": 23} {
		if got, err := wdns.ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "TYPE", "TYPE65536", "TYPEx", "FOO", "TYPE-1"} {
		if got, err := wdns.ParseType(in); err == nil {
			t.Errorf("ParseType(%q) = %d, want an error", in, got)
		}
	}
	for in, want := range map[string]uint16{"IN": 1, "ch": 3, "CLASS42": 42, "any": 255} {
		if got, err := wdns.ParseClass(in); err != nil || got != want {
			t.Errorf("ParseClass(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := wdns.ParseClass("<UNKNOWN>"); err == nil {
		t.Error("ParseClass(<UNKNOWN>) succeeded")
	}
	if rc, err := wdns.ParseRcode("nxdomain"); err != nil || rc != 3 {
		t.Errorf("ParseRcode = %d, %v", rc, err)
	}
}

package msgmod

import (
	"errors"
	"fmt"
	"time"

	"github.com/siecap/siecap/nmsg/wdns"
)

// JSON input parsers of the DNS-carrying modules.

// timeParse is time_parse: "YYYY-MM-DD HH:MM:SS" (UTC) to Unix seconds.
func timeParse(_ *encMsg, _ *Field, s string) (val, error) {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		return val{}, fmt.Errorf("time %q: %w", s, err)
	}
	return val{u: uint64(uint32(t.Unix()))}, nil
}

// nameParse is dns_name_parse (wdns_str_to_name_case).
func nameParse(_ *encMsg, _ *Field, s string) (val, error) {
	b, err := wdns.ParseName(s)
	if err != nil {
		return val{}, err
	}
	return val{b: b}, nil
}

// typeParse is dns_type_parse.
func typeParse(_ *encMsg, _ *Field, s string) (val, error) {
	t, err := wdns.ParseType(s)
	if err != nil {
		return val{}, err
	}
	if t == 0 {
		return val{}, fmt.Errorf("type %q: type 0", s)
	}
	return val{u: uint64(t)}, nil
}

// sieClassParse is the SIE dns_class_parse, which checks nothing and
// always stores IN: "CH" in the input is written as class IN.
func sieClassParse(_ *encMsg, _ *Field, _ string) (val, error) {
	return val{u: 1}, nil
}

// baseClassParse is the base module's dns_class_parse.
func baseClassParse(_ *encMsg, _ *Field, s string) (val, error) {
	c, err := wdns.ParseClass(s)
	if err != nil {
		return val{}, err
	}
	return val{u: uint64(c)}, nil
}

// rdataParse is dns_rdata_parse: it needs rrtype and rrclass set first
// (nmsgtool stops reading the whole input when they are missing).
func rdataParse(e *encMsg, _ *Field, s string) (val, error) {
	if e.mod.rrtypeFi < 0 || e.mod.rrclassFi < 0 {
		return val{}, errors.New("module has no rrtype/rrclass")
	}
	t, ok1 := e.one(e.mod.rrtypeFi)
	c, ok2 := e.one(e.mod.rrclassFi)
	if !ok1 || !ok2 {
		return val{}, errors.New("rdata needs rrtype and rrclass")
	}
	b, err := parseRdata(uint16(t.u), uint16(c.u), s)
	if err != nil {
		return val{}, err
	}
	return val{b: b}, nil
}

// messageParse is dns_message_parse, which libnmsg does not implement.
func messageParse(_ *encMsg, f *Field, _ string) (val, error) {
	return val{}, fmt.Errorf("%s: a DNS message cannot be read from its text (nmsgtool: not implemented)", f.Name)
}

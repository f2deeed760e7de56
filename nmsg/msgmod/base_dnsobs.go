package msgmod

import (
	"strconv"
	"strings"
)

// Base vendor module dnsobs (1:14), from libnmsg nmsg/base/dnsobs.c.

const dobResponse = 6

func init() {
	qname := sieNameField("qname", 3)
	qname.Required = true
	qtype := typeField("qtype", 4)
	qtype.Required = true
	qclass := baseClassField("qclass", 5)
	qclass.Required = true
	register(&Module{Vid: 1, Msgtype: 14, VName: "base", MName: "dnsobs", Fields: []Field{
		{Name: "time", Tag: 1, Type: ftUint64, PB: pbUvarint, Required: true},
		{Name: "response_ip", Tag: 2, Type: ftIP, PB: pbBytes, Required: true},
		qname,
		qtype,
		qclass,
		{Name: "rcode", Tag: 6, Type: ftUint16, PB: pbUvarint, Required: true,
			print: rcodePrint, format: rcodeFormat, parse: rcodeParse},
		dobResponse: {Name: "response", Tag: 7, Type: ftBytes, PB: pbBytes, print: messagePrint},
		{Name: "response_json", Type: ftBytes, get: dnsobsResponse, format: dnsqrMessageFormat,
			FormatRaw: true, NoPrint: true},
		sieNameField("query_zone", 8),
		{Name: "geoid", Tag: 9, Type: ftBytes, PB: pbBytes},
		{Name: "sensor_id", Tag: 10, Type: ftUint32, PB: pbFixed32,
			format: hexFormat, parse: hexParse},
	}})
}

func dnsobsResponse(m *msg, i int) (val, bool) {
	if i != 0 {
		return val{}, false
	}
	return m.one(dobResponse)
}

// hexFormat prints a uint32 as "%x".
func hexFormat(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	return strconv.AppendUint(dst, uint64(uint32(v.u)), 16), true
}

func hexParse(_ *encMsg, _ *Field, s string) (val, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 32)
	if err != nil {
		return val{}, err
	}
	return val{u: n}, nil
}

package msgmod

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Base vendor module dnstap (1:13), from libnmsg nmsg/base/dnstap.c. The
// dnstap Message is a nested protobuf message (field 14); its fields print
// through getters that walk it on demand, and id, qname, qclass, qtype and
// rcode come from the query message (else the response message) as
// dnstap_message_load reads them.

var (
	dnstapMessageType = &Enum{Names: []string{"AUTH_QUERY", "AUTH_RESPONSE", "RESOLVER_QUERY",
		"RESOLVER_RESPONSE", "CLIENT_QUERY", "CLIENT_RESPONSE", "FORWARDER_QUERY",
		"FORWARDER_RESPONSE", "STUB_QUERY", "STUB_RESPONSE", "TOOL_QUERY", "TOOL_RESPONSE"},
		Values: []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	dnstapSocketFamily   = &Enum{Names: []string{"INET", "INET6"}, Values: []uint32{1, 2}}
	dnstapSocketProtocol = &Enum{Names: []string{"UDP", "TCP"}, Values: []uint32{1, 2}}
)

// Nested dnstap.Message tags.
const (
	dtmType            = 1
	dtmSocketFamily    = 2
	dtmSocketProtocol  = 3
	dtmQueryAddress    = 4
	dtmResponseAddress = 5
	dtmQueryPort       = 6
	dtmResponsePort    = 7
	dtmQueryTimeSec    = 8
	dtmQueryTimeNsec   = 9
	dtmQueryMessage    = 10
	dtmQueryZone       = 11
	dtmResponseTimeSec = 12
	dtmResponseTimeNs  = 13
	dtmResponseMessage = 14
)

const dtMessage = 4 // index of the hidden nested message field

func init() {
	register(&Module{Vid: 1, Msgtype: 13, VName: "base", MName: "dnstap", Fields: []Field{
		{Name: "identity", Tag: 1, Type: ftBytes, PB: pbBytes},
		{Name: "version", Tag: 2, Type: ftBytes, PB: pbBytes},
		{Name: "extra", Tag: 3, Type: ftBytes, PB: pbBytes},
		{Name: "type", Tag: 15, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: &Enum{Names: []string{"MESSAGE"}, Values: []uint32{1}}},
		dtMessage: {Name: "message", Tag: 14, Type: ftBytes, PB: pbBytes, Hidden: true},
		dtEnumField("message_type", dtmType, dnstapMessageType),
		dtEnumField("socket_family", dtmSocketFamily, dnstapSocketFamily),
		dtEnumField("socket_protocol", dtmSocketProtocol, dnstapSocketProtocol),
		{Name: "query_address", Type: ftIP, get: dtGetter(dtmQueryAddress)},
		{Name: "query_port", Type: ftUint32, get: dtGetter(dtmQueryPort)},
		{Name: "query_time_sec", Type: ftUint64, get: dtGetter(dtmQueryTimeSec)},
		{Name: "query_time_nsec", Type: ftUint32, get: dtGetter(dtmQueryTimeNsec)},
		{Name: "query_message", Type: ftBytes, get: dtGetter(dtmQueryMessage), print: messagePrint},
		{Name: "query_json", Type: ftBytes, get: dtGetter(dtmQueryMessage), format: dnsqrMessageFormat,
			FormatRaw: true, NoPrint: true},
		{Name: "response_address", Type: ftIP, get: dtGetter(dtmResponseAddress)},
		{Name: "response_port", Type: ftUint32, get: dtGetter(dtmResponsePort)},
		{Name: "response_time_sec", Type: ftUint64, get: dtGetter(dtmResponseTimeSec)},
		{Name: "response_time_nsec", Type: ftUint32, get: dtGetter(dtmResponseTimeNs)},
		{Name: "query_zone", Type: ftBytes, get: dtGetter(dtmQueryZone), print: namePrint, format: nameFormat},
		{Name: "response_message", Type: ftBytes, get: dtGetter(dtmResponseMessage), print: messagePrint},
		{Name: "response_json", Type: ftBytes, get: dtGetter(dtmResponseMessage), format: dnsqrMessageFormat,
			FormatRaw: true, NoPrint: true},
		{Name: "id", Type: ftUint16, get: dtHeaderGetter(0)},
		{Name: "qname", Type: ftBytes, get: dtHeaderGetter(1), print: namePrint, format: nameFormat},
		{Name: "qclass", Type: ftUint16, get: dtHeaderGetter(2), print: baseClassPrint, format: baseClassFormat},
		{Name: "qtype", Type: ftUint16, get: dtHeaderGetter(3), print: typePrint, format: typeFormat},
		{Name: "rcode", Type: ftUint16, get: dtHeaderGetter(4), print: rcodePrint, format: rcodeFormat},
	}})
}

// dtField returns the last value of tag in the nested message.
func dtField(m *msg, tag protowire.Number) (val, bool) {
	nested, ok := m.one(dtMessage)
	if !ok {
		return val{}, false
	}
	var out val
	found := false
	b := nested.b
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return val{}, false
		}
		b = b[n:]
		var v val
		switch typ {
		case protowire.VarintType:
			x, k := protowire.ConsumeVarint(b)
			n, v = k, val{u: x}
		case protowire.Fixed32Type:
			x, k := protowire.ConsumeFixed32(b)
			n, v = k, val{u: uint64(x)}
		case protowire.BytesType:
			x, k := protowire.ConsumeBytes(b)
			n, v = k, val{b: x, null: len(x) == 0}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return val{}, false
		}
		b = b[n:]
		if num == tag {
			out, found = v, true
		}
	}
	return out, found
}

// hasNested reports whether the message holds a nested Message.
func hasNested(m *msg) bool {
	_, ok := m.one(dtMessage)
	return ok
}

func dtGetter(tag protowire.Number) func(m *msg, i int) (val, bool) {
	return func(m *msg, i int) (val, bool) {
		if i != 0 {
			return val{}, false
		}
		return dtField(m, tag)
	}
}

// dtEnumField is a dnstap enum shown by name, printed nothing (pres) or
// null (JSON) when the value has no name.
func dtEnumField(name string, tag protowire.Number, e *Enum) Field {
	format := func(_ *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
		n, ok := e.name(uint32(v.u))
		return append(dst, n...), ok
	}
	get := func(m *msg, i int) (val, bool) {
		if i != 0 || !hasNested(m) {
			return val{}, false
		}
		v, ok := dtField(m, tag)
		if !ok {
			// protobuf-c leaves an unset enum at its default, the
			// first value.
			v = val{u: uint64(e.Values[0])}
		}
		return v, true
	}
	return Field{Name: name, Type: ftUint32, get: get, format: format}
}

// dtHeaderGetter returns id (0), qname (1), qclass (2), qtype (3) or rcode
// (4) of the DNS message, as dnstap_message_load reads them.
func dtHeaderGetter(what int) func(m *msg, i int) (val, bool) {
	return func(m *msg, i int) (val, bool) {
		if i != 0 {
			return val{}, false
		}
		p, ok := dtField(m, dtmQueryMessage)
		if !ok {
			if p, ok = dtField(m, dtmResponseMessage); !ok {
				return val{}, false
			}
		}
		b := p.b
		if len(b) < 12 {
			return val{}, false
		}
		switch what {
		case 0:
			return val{u: uint64(binary.BigEndian.Uint16(b[0:2]))}, true
		case 4:
			return val{u: uint64(binary.BigEndian.Uint16(b[2:4]) & 0xf)}, true
		}
		if binary.BigEndian.Uint16(b[4:6]) != 1 || len(b) == 12 {
			return val{}, false
		}
		rest := b[12:]
		nlen := skipName(rest)
		switch what {
		case 1:
			return val{b: rest[:nlen]}, true
		case 3:
			if len(rest)-nlen < 2 {
				return val{}, false
			}
			return val{u: uint64(binary.BigEndian.Uint16(rest[nlen:]))}, true
		case 2:
			if len(rest)-nlen < 4 {
				return val{}, false
			}
			return val{u: uint64(binary.BigEndian.Uint16(rest[nlen+2:]))}, true
		}
		return val{}, false
	}
}

// skipName is wdns_skip_name: the length of the (possibly compressed) name
// at the start of b, bounded by b.
func skipName(b []byte) int {
	i := 0
	for i < len(b) {
		c := int(b[i])
		if c == 0 {
			return i + 1
		}
		if c >= 0xc0 {
			return min(i+2, len(b))
		}
		i += c + 1
	}
	return len(b)
}

// dnstapNestedFromJSON builds the nested dnstap Message from the computed
// keys nmsgtool prints (message_type, socket_family, query_address, ...).
// nmsgtool's JSON reader cannot set the nested message at all; reading it
// back here makes its JSON output round-trip. It reports whether any key
// was present.
func dnstapNestedFromJSON(mv *jval) ([]byte, bool, error) {
	var out []byte
	present := false
	enum := func(key string, tag protowire.Number, e *Enum, required bool) error {
		v, ok := mv.get(key)
		if !ok || v.kind == jNull {
			if required && present {
				out = protowire.AppendTag(out, tag, protowire.VarintType)
				out = protowire.AppendVarint(out, uint64(e.Values[0]))
			}
			return nil
		}
		if v.kind != jStr {
			return fmt.Errorf("field %s: a %s, not a name", key, v.kind)
		}
		n, ok := e.lookup(string(v.s))
		if !ok {
			return fmt.Errorf("field %s: %q is not a value of the enum", key, v.s)
		}
		out = protowire.AppendTag(out, tag, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(n))
		return nil
	}
	// any key present means a nested message
	for _, k := range []string{"message_type", "socket_family", "socket_protocol", "query_address",
		"query_port", "query_time_sec", "query_time_nsec", "query_message", "query_zone",
		"response_address", "response_port", "response_time_sec", "response_time_nsec", "response_message"} {
		if _, ok := mv.get(k); ok {
			present = true
		}
	}
	if !present {
		return nil, false, nil
	}
	if err := enum("message_type", dtmType, dnstapMessageType, true); err != nil {
		return nil, true, err
	}
	if err := enum("socket_family", dtmSocketFamily, dnstapSocketFamily, false); err != nil {
		return nil, true, err
	}
	if err := enum("socket_protocol", dtmSocketProtocol, dnstapSocketProtocol, false); err != nil {
		return nil, true, err
	}
	e := &encMsg{}
	fields := []struct {
		key string
		f   Field
	}{
		{"query_address", Field{Tag: dtmQueryAddress, Type: ftIP, PB: pbBytes}},
		{"response_address", Field{Tag: dtmResponseAddress, Type: ftIP, PB: pbBytes}},
		{"query_port", Field{Tag: dtmQueryPort, Type: ftUint32, PB: pbUvarint}},
		{"response_port", Field{Tag: dtmResponsePort, Type: ftUint32, PB: pbUvarint}},
		{"query_time_sec", Field{Tag: dtmQueryTimeSec, Type: ftUint64, PB: pbUvarint}},
		{"query_time_nsec", Field{Tag: dtmQueryTimeNsec, Type: ftUint32, PB: pbFixed32}},
		{"query_message", Field{Tag: dtmQueryMessage, Type: ftBytes, PB: pbBytes}},
		{"query_zone", Field{Tag: dtmQueryZone, Type: ftBytes, PB: pbBytes, parse: nameParse}},
		{"response_time_sec", Field{Tag: dtmResponseTimeSec, Type: ftUint64, PB: pbUvarint}},
		{"response_time_nsec", Field{Tag: dtmResponseTimeNs, Type: ftUint32, PB: pbFixed32}},
		{"response_message", Field{Tag: dtmResponseMessage, Type: ftBytes, PB: pbBytes}},
	}
	for i := range fields {
		v, ok := mv.get(fields[i].key)
		if !ok {
			continue
		}
		f := &fields[i].f
		if v.kind == jNull {
			if f.Type == ftBytes || f.Type == ftIP {
				out = appendField(out, f, val{})
			}
			continue
		}
		x, err := e.convert(f, v)
		if err != nil {
			return nil, true, fmt.Errorf("field %s: %w", fields[i].key, err)
		}
		out = appendField(out, f, x)
	}
	return out, true, nil
}

package wdns

import "strconv"

// AppendMessageJSON parses msg and appends the JSON object nmsg's
// dnsqr_message_format makes of it (query_json and response_json of dnsqr,
// response_json of dnsobs, ...). On a parse error it appends nothing and
// returns the error; nmsgtool then writes null.
func AppendMessageJSON(dst, msg []byte) ([]byte, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return dst, err
	}
	return m.AppendJSON(dst), nil
}

// AppendJSON appends the dnsqr_message_format JSON object of m.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"header":{"opcode":`...)
	if n, ok := OpcodeName(m.Opcode()); ok {
		dst = append(dst, '"')
		dst = append(dst, n...)
		dst = append(dst, '"')
	} else {
		dst = strconv.AppendUint(dst, uint64(m.Opcode()), 10)
	}
	dst = append(dst, `,"rcode":`...)
	if n, ok := RcodeName(m.Rcode); ok {
		dst = append(dst, '"')
		dst = append(dst, n...)
		dst = append(dst, '"')
	} else {
		dst = strconv.AppendUint(dst, uint64(m.Rcode), 10)
	}
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, uint64(m.ID), 10)
	dst = append(dst, `,"flags":[`...)
	first := true
	for _, f := range headerFlags {
		if m.Flags&f.bit != 0 {
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, f.name...)
			dst = append(dst, '"')
			first = false
		}
	}
	dst = append(dst, ']')
	if e := m.EDNS; e != nil {
		dst = append(dst, `,"opt":{"edns":{"version":`...)
		dst = strconv.AppendUint(dst, uint64(e.Version), 10)
		dst = append(dst, `,"flags":[`...)
		if e.Flags&0x8000 != 0 {
			dst = append(dst, `"do"`...)
		}
		dst = append(dst, `],"udp":`...)
		dst = strconv.AppendUint(dst, uint64(e.UDPSize), 10)
		if e.HasOptions {
			dst = append(dst, `,"options":[`...)
			for i, l := range ednsOptionLines(e.Options) {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, l)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, "}}"...)
	}
	dst = append(dst, `},"question":[`...)
	var buf []byte
	for i, q := range m.Question {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"qname":`...)
		buf = AppendDomain(buf[:0], q.Name)
		dst = appendJSONString(dst, buf)
		dst = append(dst, `,"qclass":`...)
		dst = appendJSONClass(dst, q.Class)
		dst = append(dst, `,"qtype":`...)
		dst = appendJSONType(dst, q.Type, q.Class)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	for _, s := range [...]struct {
		key string
		sec Section
	}{
		{`,"answer":[`, SectionAnswer},
		{`,"authority":[`, SectionAuthority},
		{`,"additional":[`, SectionAdditional},
	} {
		dst = append(dst, s.key...)
		for i, set := range m.RRsets(s.sec) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"rrname":`...)
			buf = AppendDomain(buf[:0], set.Name)
			dst = appendJSONString(dst, buf)
			dst = append(dst, `,"rrttl":`...)
			dst = strconv.AppendUint(dst, uint64(set.TTL), 10)
			dst = append(dst, `,"rrclass":`...)
			dst = appendJSONClass(dst, set.Class)
			dst = append(dst, `,"rrtype":`...)
			dst = appendJSONType(dst, set.Type, set.Class)
			dst = append(dst, `,"rdata":[`...)
			for j, rd := range set.Rdata {
				if j > 0 {
					dst = append(dst, ',')
				}
				buf = AppendRdata(buf[:0], set.Type, set.Class, rd)
				dst = appendJSONString(dst, buf)
			}
			dst = append(dst, "]}"...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

func appendJSONClass(dst []byte, c uint16) []byte {
	dst = append(dst, '"')
	dst = AppendClass(dst, c)
	return append(dst, '"')
}

// appendJSONType writes the type mnemonic, or for a type without one
// "TYPE" and the record's class number: nmsg's nmsg_rrset_array_to_json
// passes rrset->rrclass to its "TYPE%u" format, and this reproduces it.
func appendJSONType(dst []byte, t, class uint16) []byte {
	dst = append(dst, '"')
	if n, ok := TypeName(t); ok {
		dst = append(dst, n...)
	} else {
		dst = append(dst, "TYPE"...)
		dst = strconv.AppendUint(dst, uint64(class), 10)
	}
	return append(dst, '"')
}

// appendJSONString is append_json_value_string: nmsg_strbuf_append_str_json
// escapes " \ and the C0 controls, and passes every other octet through.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c <= 0x1f {
				dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&15])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

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
			var sb [512]byte
			text := AppendRdata(sb[:0], TypeOPT, 0, e.Options)
			first := true
			for len(text) > 0 {
				var line []byte
				if line, text = cutOptionLine(text); len(line) > 0 {
					if !first {
						dst = append(dst, ',')
					}
					first = false
					dst = appendJSONString(dst, line)
				}
			}
			dst = append(dst, ']')
		}
		dst = append(dst, "}}"...)
	}
	dst = append(dst, `},"question":[`...)
	for i, q := range m.Question {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"qname":`...)
		dst = appendJSONDomain(dst, q.Name)
		dst = append(dst, `,"qclass":`...)
		dst = appendJSONClass(dst, q.Class)
		dst = append(dst, `,"qtype":`...)
		dst = appendJSONType(dst, q.Type, q.Class)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	for _, s := range [...]struct {
		key string
		rrs []RR
	}{
		{`,"answer":[`, m.Answer},
		{`,"authority":[`, m.Authority},
		{`,"additional":[`, m.Additional},
	} {
		dst = append(dst, s.key...)
		dst = appendJSONRRsets(dst, s.rrs)
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendJSONRRsets writes the RRsets of rrs, grouped as RRsets groups them,
// without allocating for up to 64 records in 32 RRsets: a record joins
// the RRset of the same name (ASCII case-insensitive), type and class,
// whose first record gives the name; its TTL is the lowest.
func appendJSONRRsets(dst []byte, rrs []RR) []byte {
	type set struct {
		first, last int
		ttl         uint32
	}
	var setBuf [32]set
	var nextBuf [64]int
	sets := setBuf[:0]
	next := nextBuf[:0]
	if len(rrs) > len(nextBuf) {
		next = make([]int, len(rrs))
	} else {
		next = next[:len(rrs)]
	}
	for i := range rrs {
		rr := &rrs[i]
		next[i] = -1
		found := false
		for k := len(sets) - 1; k >= 0; k-- {
			set := &sets[k]
			f := &rrs[set.first]
			if f.Type == rr.Type && f.Class == rr.Class && equalFoldASCII(f.Name, rr.Name) {
				next[set.last] = i
				set.last = i
				if rr.TTL < set.ttl {
					set.ttl = rr.TTL
				}
				found = true
				break
			}
		}
		if !found {
			sets = append(sets, set{first: i, last: i, ttl: rr.TTL})
		}
	}
	for k, set := range sets {
		if k > 0 {
			dst = append(dst, ',')
		}
		f := &rrs[set.first]
		dst = append(dst, `{"rrname":`...)
		dst = appendJSONDomain(dst, f.Name)
		dst = append(dst, `,"rrttl":`...)
		dst = strconv.AppendUint(dst, uint64(set.ttl), 10)
		dst = append(dst, `,"rrclass":`...)
		dst = appendJSONClass(dst, f.Class)
		dst = append(dst, `,"rrtype":`...)
		dst = appendJSONType(dst, f.Type, f.Class)
		dst = append(dst, `,"rdata":[`...)
		for j := set.first; j >= 0; j = next[j] {
			if j != set.first {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			start := len(dst)
			dst = AppendRdata(dst, f.Type, f.Class, rrs[j].Rdata)
			dst = escapeJSONTail(dst, start)
			dst = append(dst, '"')
		}
		dst = append(dst, "]}"...)
	}
	return dst
}

// appendJSONDomain writes the name as a JSON string.
func appendJSONDomain(dst, name []byte) []byte {
	dst = append(dst, '"')
	dst = AppendDomainJSON(dst, name)
	return append(dst, '"')
}

// escapeJSONTail escapes dst[start:], text just appended, for a JSON
// string; it copies the text aside only when it needs escaping.
func escapeJSONTail(dst []byte, start int) []byte {
	clean := true
	for _, c := range dst[start:] {
		if c < 0x20 || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return dst
	}
	var sb [256]byte
	text := append(sb[:0], dst[start:]...)
	return AppendJSONEscaped(dst[:start], text)
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
	dst = AppendJSONEscaped(dst, s)
	return append(dst, '"')
}

// AppendJSONEscaped appends b escaped for a JSON string as json-c and
// nmsgtool escape it: quote, backslash, the short escapes and \u00XX for
// the other control octets; every other octet as it is. Hot path: the runs
// between octets to escape (most strings have none) are appended whole.
func AppendJSONEscaped(dst, b []byte) []byte {
	last := 0
	for i, c := range b {
		if !JSONEscapes[c] {
			continue
		}
		dst = append(dst, b[last:i]...)
		last = i + 1
		switch c {
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
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
		}
	}
	return append(dst, b[last:]...)
}

// JSONEscapes marks the octets AppendJSONEscaped escapes.
var JSONEscapes = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

package wdns

import (
	"bytes"
	"strconv"
)

// AppendMessageText parses msg and appends the dig-like text
// wdns_message_to_str makes of it, as nmsgtool shows a DNS message in its
// presentation output (between "query: [N octets]\n" and "---\n", which
// the caller writes). On a parse error it appends nothing and returns the
// error; nmsgtool then prints "<PARSE ERROR>".
func AppendMessageText(dst, msg []byte) ([]byte, error) {
	m, err := ParseMessage(msg)
	if err != nil {
		return dst, err
	}
	return m.AppendText(dst), nil
}

// AppendText appends the wdns_message_to_str text of m.
func (m *Message) AppendText(dst []byte) []byte {
	floor := len(dst)
	dst = append(dst, ";; ->>HEADER<<- opcode: "...)
	dst = append(dst, OpcodeString(m.Opcode())...)
	dst = append(dst, ", rcode: "...)
	dst = append(dst, RcodeString(m.Rcode)...)
	dst = append(dst, ", id: "...)
	dst = strconv.AppendUint(dst, uint64(m.ID), 10)
	dst = append(dst, "\n;; flags:"...)
	for _, f := range headerFlags {
		if m.Flags&f.bit != 0 {
			dst = append(dst, ' ')
			dst = append(dst, f.name...)
		}
	}
	dst = append(dst, "; QUERY: "...)
	dst = strconv.AppendUint(dst, uint64(len(m.Question)), 10)
	dst = append(dst, ", ANSWER: "...)
	dst = strconv.AppendUint(dst, uint64(len(m.Answer)), 10)
	dst = append(dst, ", AUTHORITY: "...)
	dst = strconv.AppendUint(dst, uint64(len(m.Authority)), 10)
	dst = append(dst, ", ADDITIONAL: "...)
	dst = strconv.AppendUint(dst, uint64(len(m.Additional)), 10)
	dst = append(dst, '\n')
	if e := m.EDNS; e != nil {
		dst = append(dst, "\n;; OPT PSEUDOSECTION:\n; EDNS: version: "...)
		dst = strconv.AppendUint(dst, uint64(e.Version), 10)
		dst = append(dst, ", flags:"...)
		if e.Flags&0x8000 != 0 {
			dst = append(dst, " do"...)
		}
		dst = append(dst, "; udp: "...)
		dst = strconv.AppendUint(dst, uint64(e.UDPSize), 10)
		if e.HasOptions {
			var sb [512]byte
			text := AppendRdata(sb[:0], TypeOPT, 0, e.Options)
			for len(text) > 0 {
				var line []byte
				if line, text = cutOptionLine(text); len(line) > 0 {
					dst = append(dst, "\n; "...)
					dst = append(dst, line...)
				}
			}
		}
	}
	dst = append(dst, "\n;; QUESTION SECTION:\n"...)
	for _, q := range m.Question {
		dst = append(dst, ';')
		dst = AppendDomain(dst, q.Name)
		dst = append(dst, ' ')
		dst = AppendClass(dst, q.Class)
		dst = append(dst, ' ')
		dst = AppendType(dst, q.Type)
		dst = append(dst, '\n')
	}
	for _, s := range [...]struct {
		title string
		rrs   []RR
	}{
		{"\n;; ANSWER SECTION:\n", m.Answer},
		{"\n;; AUTHORITY SECTION:\n", m.Authority},
		{"\n;; ADDITIONAL SECTION:\n", m.Additional},
	} {
		dst = append(dst, s.title...)
		for _, rr := range s.rrs {
			dst = AppendDomain(dst, rr.Name)
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, uint64(rr.TTL), 10)
			dst = append(dst, ' ')
			dst = AppendClass(dst, rr.Class)
			dst = append(dst, ' ')
			dst = AppendType(dst, rr.Type)
			dst = append(dst, ' ')
			// wdns prints the rdata into the message's own buffer, so
			// its trailing-space clip can take the space just written.
			dst = appendRdata(dst, floor, rr.Type, rr.Class, rr.Rdata)
			dst = append(dst, '\n')
		}
	}
	return dst
}

var headerFlags = [...]struct {
	bit  uint16
	name string
}{
	{1 << 15, "qr"}, {1 << 10, "aa"}, {1 << 9, "tc"}, {1 << 8, "rd"},
	{1 << 7, "ra"}, {1 << 5, "ad"}, {1 << 4, "cd"},
}

// cutOptionLine cuts the first line off the OPT rdata text, which is split
// as strtok(str, "\n") does: callers drop the empty pieces.
func cutOptionLine(text []byte) (line, rest []byte) {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i], text[i+1:]
	}
	return text, nil
}

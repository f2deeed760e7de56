package msgmod

import "github.com/siecap/siecap/nmsg/wdns"

// appendMessageText appends wdns_message_to_str of the wire DNS message b,
// or reports that it does not parse. The message is parsed into the
// Printer's reused wdns.Message, so printing it does not allocate.
func (p *Printer) appendMessageText(dst, b []byte) ([]byte, bool) {
	if p.dns.Parse(b) != nil {
		return dst, false
	}
	return p.dns.AppendText(dst), true
}

// appendMessageJSON appends the dnsqr module's JSON form of the wire DNS
// message b, or reports that it does not parse.
func (p *Printer) appendMessageJSON(dst, b []byte) ([]byte, bool) {
	if p.dns.Parse(b) != nil {
		return dst, false
	}
	return p.dns.AppendJSON(dst), true
}

// parseRdata converts rdata presentation text to wire form.
func parseRdata(rrtype, rrclass uint16, s string) ([]byte, error) {
	return wdns.ParseRdata(rrtype, rrclass, s)
}

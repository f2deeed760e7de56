package msgmod

import "github.com/siecap/siecap/nmsg/wdns"

// appendMessageText appends wdns_message_to_str of the wire DNS message b,
// or reports that it does not parse.
func (p *Printer) appendMessageText(dst, b []byte) ([]byte, bool) {
	out, err := wdns.AppendMessageText(dst, b)
	return out, err == nil
}

// appendMessageJSON appends the dnsqr module's JSON form of the wire DNS
// message b, or reports that it does not parse.
func (p *Printer) appendMessageJSON(dst, b []byte) ([]byte, bool) {
	out, err := wdns.AppendMessageJSON(dst, b)
	return out, err == nil
}

// parseRdata converts rdata presentation text to wire form.
func parseRdata(rrtype, rrclass uint16, s string) ([]byte, error) {
	return wdns.ParseRdata(rrtype, rrclass, s)
}

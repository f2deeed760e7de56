package wdns

// rdf is a field kind of wdns's record_descr.h.
type rdf uint8

const (
	rdfUnknown  rdf = iota
	rdfBytes        // byte array to the end, upper-case hex
	rdfBytesB64     // byte array to the end, base64
	rdfBytesStr     // byte array to the end, as one quoted string
	rdfName         // domain name (compressible in messages)
	rdfUname        // domain name (never compressed)
	rdfInt8
	rdfInt16
	rdfInt32
	rdfIPv4
	rdfIPv6
	rdfIPv6Prefix // A6 prefix length and address suffix
	rdfEUI48
	rdfEUI64
	rdfString    // length octet and that many octets
	rdfRepString // strings to the end
	rdfRRType
	rdfTypeBitmap
	rdfSalt // length-prefixed, hex, "-" when empty
	rdfHash // length-prefixed, base32hex
	rdfSvcParams
	rdfEDNSOpt // EDNS0 options (OPT rdata)
)

// descr is a record_descr entry: whether the layout applies only to class
// IN, and the fields in order.
type descr struct {
	inOnly bool
	fields []rdf
}

// descrLen is record_descr_len: one past the highest type with a layout
// (URI, 256). Types at or above it, or without an entry, are printed and
// parsed generically.
const descrLen = 257

// descrs mirrors record_descr_array of wdns record_descr.c.
var descrs = [descrLen]descr{
	5:   {false, []rdf{rdfName}},                                                                                    // CNAME
	13:  {false, []rdf{rdfString, rdfString}},                                                                       // HINFO
	7:   {false, []rdf{rdfName}},                                                                                    // MB
	3:   {false, []rdf{rdfName}},                                                                                    // MD
	4:   {false, []rdf{rdfName}},                                                                                    // MF
	8:   {false, []rdf{rdfName}},                                                                                    // MG
	14:  {false, []rdf{rdfName, rdfName}},                                                                           // MINFO
	9:   {false, []rdf{rdfName}},                                                                                    // MR
	15:  {false, []rdf{rdfInt16, rdfName}},                                                                          // MX
	2:   {false, []rdf{rdfName}},                                                                                    // NS
	10:  {false, []rdf{rdfBytes}},                                                                                   // NULL
	12:  {false, []rdf{rdfName}},                                                                                    // PTR
	6:   {false, []rdf{rdfName, rdfName, rdfInt32, rdfInt32, rdfInt32, rdfInt32, rdfInt32}},                         // SOA
	16:  {false, []rdf{rdfRepString}},                                                                               // TXT
	1:   {true, []rdf{rdfIPv4}},                                                                                     // A
	11:  {true, []rdf{rdfInt32, rdfInt8, rdfBytes}},                                                                 // WKS
	18:  {false, []rdf{rdfInt16, rdfName}},                                                                          // AFSDB
	20:  {false, []rdf{rdfString, rdfString}},                                                                       // ISDN
	17:  {false, []rdf{rdfName, rdfName}},                                                                           // RP
	21:  {false, []rdf{rdfInt16, rdfName}},                                                                          // RT
	19:  {false, []rdf{rdfString}},                                                                                  // X25
	30:  {false, []rdf{rdfName, rdfBytes}},                                                                          // NXT
	24:  {false, []rdf{rdfInt16, rdfInt8, rdfInt8, rdfInt32, rdfInt32, rdfInt32, rdfInt16, rdfName, rdfBytes}},      // SIG
	39:  {false, []rdf{rdfUname}},                                                                                   // DNAME
	38:  {true, []rdf{rdfIPv6Prefix, rdfUname}},                                                                     // A6
	28:  {true, []rdf{rdfIPv6}},                                                                                     // AAAA
	36:  {true, []rdf{rdfInt16, rdfUname}},                                                                          // KX
	26:  {true, []rdf{rdfInt16, rdfName, rdfName}},                                                                  // PX
	35:  {true, []rdf{rdfInt16, rdfInt16, rdfString, rdfString, rdfString, rdfName}},                                // NAPTR
	33:  {true, []rdf{rdfInt16, rdfInt16, rdfInt16, rdfName}},                                                       // SRV
	48:  {false, []rdf{rdfInt16, rdfInt8, rdfInt8, rdfBytesB64}},                                                    // DNSKEY
	46:  {false, []rdf{rdfRRType, rdfInt8, rdfInt8, rdfInt32, rdfInt32, rdfInt32, rdfInt16, rdfUname, rdfBytesB64}}, // RRSIG
	47:  {false, []rdf{rdfUname, rdfTypeBitmap}},                                                                    // NSEC
	43:  {false, []rdf{rdfInt16, rdfInt8, rdfInt8, rdfBytes}},                                                       // DS
	50:  {false, []rdf{rdfInt8, rdfInt8, rdfInt16, rdfSalt, rdfHash, rdfTypeBitmap}},                                // NSEC3
	51:  {false, []rdf{rdfInt8, rdfInt8, rdfInt16, rdfSalt}},                                                        // NSEC3PARAM
	99:  {false, []rdf{rdfRepString}},                                                                               // SPF
	52:  {false, []rdf{rdfInt8, rdfInt8, rdfInt8, rdfBytes}},                                                        // TLSA
	60:  {false, []rdf{rdfInt16, rdfInt8, rdfInt8, rdfBytesB64}},                                                    // CDNSKEY
	59:  {false, []rdf{rdfInt16, rdfInt8, rdfInt8, rdfBytes}},                                                       // CDS
	61:  {false, []rdf{rdfBytesB64}},                                                                                // OPENPGPKEY
	62:  {false, []rdf{rdfInt32, rdfInt16, rdfTypeBitmap}},                                                          // CSYNC
	108: {false, []rdf{rdfEUI48}},                                                                                   // EUI48
	109: {false, []rdf{rdfEUI64}},                                                                                   // EUI64
	256: {false, []rdf{rdfInt16, rdfInt16, rdfBytesStr}},                                                            // URI
	64:  {true, []rdf{rdfInt16, rdfName, rdfSvcParams}},                                                             // SVCB
	65:  {true, []rdf{rdfInt16, rdfName, rdfSvcParams}},                                                             // HTTPS
	41:  {false, []rdf{rdfEDNSOpt}},                                                                                 // OPT
}

// lookupDescr returns the layout of rrtype, or nil when wdns treats the type
// generically ("\# len hex").
func lookupDescr(rrtype uint16) *descr {
	if int(rrtype) >= descrLen {
		return nil
	}
	d := &descrs[rrtype]
	if len(d.fields) == 0 {
		return nil
	}
	return d
}

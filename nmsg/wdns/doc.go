// Package wdns reads and prints DNS wire data exactly as farsightsec/wdns,
// the C library under libnmsg, so that siecap's presentation and JSON output
// is byte-identical to nmsgtool's.
//
// It covers wire-format names (AppendName, AppendDomain, AppendDomainJSON,
// ParseName), type, class, rcode and opcode mnemonics, rdata (AppendRdata,
// ParseRdata) and whole DNS messages (ParseMessage, Message.Parse,
// AppendMessageText, AppendMessageJSON).
//
// # What callers print around these functions
//
// nmsg's message modules decorate wdns's output; this package returns only
// the wdns part:
//   - a name field prints AppendDomain (nmsg calls wdns_domain_to_str on
//     1..255 octets without checking them); AppendName is the strict form;
//   - an rrtype field prints "A (1)" or "<UNKNOWN> (65280)" in pres (TypeName)
//     and "A" or "TYPE65280" in JSON (TypeString); ClassName and ClassString
//     serve classes the same way (the modules differ in how they show an
//     unknown class: "CLASS42" in base, "<UNKNOWN>" in SIE);
//   - a DNS message prints in pres as "query: [56 octets]\n", then
//     AppendMessageText, then "---\n"; or "query: <PARSE ERROR>\n" when it
//     returns an error. In JSON query_json/response_json is
//     AppendMessageJSON, or null on error; dnsdedupe's "response" is the
//     AppendMessageText string, or "<PARSE ERROR>".
//
// # wdns behaviours reproduced
//
//   - Names: labels escaped as "\." and "\\", octets outside '!'..'~' as
//     "\DDD" decimal; the root prints ".".
//   - Rdata (wdns rdata_to_ubuf.c and record_descr.c, the versions that print
//     EDNS options): types without
//     a layout (SSHFP, CAA, TYPE65280, ...) print `\# 3 ab cd ef ` with a
//     space after every octet; class-IN-only layouts (A, AAAA, SRV, NAPTR, KX,
//     PX, A6, WKS, SVCB, HTTPS) print nothing in another class; the last
//     trailing space is clipped; rdata shorter than its layout prints the
//     fields present; rdata that breaks its layout prints what came before and
//     " ### PARSE ERROR ###" or " ### PARSE ERROR #n ###" (n a wdns_res: 3
//     bad length octet, 8 name too long, 11 no room for a name, 12 bad
//     option or SvcParam); octets after the last field are ignored; hex is
//     upper case for byte fields, lower case for salts, EUIs and generic
//     rdata; NSEC3 hashes are base32hex, a zero-length hash prints "0"; base64
//     is padded; IPv6 addresses print as glibc's inet_ntop ("::ffff:1.2.3.4",
//     "::1.2.3.4"); type bitmaps name unknown types TYPEn; OPT rdata prints one
//     "\nOPT=n: hex (\"printable\")", "\nCLIENT-SUBNET: addr/src/scope" or
//     "\nEDE: code (purpose): (text)" per option.
//   - Messages (wdns_parse_message): a message shorter than 12 octets fails;
//     records are read up to the header counts but parsing stops without error
//     where the message ends on a record boundary; names are decompressed
//     with pointers that must point before themselves; rdata of known types
//     must match its layout exactly (names inside are decompressed); every
//     OPT record, in any section, becomes the EDNS data and is not counted
//     (the last one wins; an OPT record in the question section has no rdata,
//     so JSON leaves out "options"); the rcode is the header rcode OR-ed with
//     the OPT extended-rcode octet shifted left by 8 (wdns's shift; RFC 6891
//     says 4), and an unknown rcode or opcode prints as a number.
//   - Text (wdns_message_to_str): header, flags, counts of kept records, the
//     OPT pseudosection, then every record in wire order with its own TTL.
//     The rdata is printed into the message buffer, so empty rdata of a known
//     type clips the space after the type ("d.example. 5 IN A") while a class
//     mismatch keeps it ("c.example. 5 CH A ").
//   - JSON (nmsg base/dnsqr.c dnsqr_message_format): records grouped into
//     RRsets (same name ignoring ASCII case, type and class; joined to the
//     most recent match) with the lowest TTL; an unknown type prints as
//     "TYPE" followed by the record's class number, as nmsg's format string
//     does; strings escaped as nmsg_strbuf_append_str_json does.
//
// # Deliberate differences from wdns
//
//   - wdns reads one octet past the buffer in a few malformed cases: a name
//     in rdata without a root label at the very end of the rdata (printed
//     here as if that octet were the root label: "\x03abc" prints "abc."),
//     and a message whose last octets are a cut label or pointer (an error
//     here, ErrOutOfBounds). After the first of these wdns's field loop runs
//     with a negative length; byte fields then print nothing here.
//   - ParseName rejects labels over 63 octets and a trailing lone backslash
//     (wdns_str_to_name writes the first and reads past the string on the
//     second). ParseRdata requires hex in pairs and base64 in its alphabet;
//     wdns's sscanf accepts some odd forms. For ALPN lists ending in a comma
//     wdns writes a stray length octet; this does not.
//   - The SvcParamKey 5 prints as "ech", the name the newer wdns rdata code
//     gives it (older releases said "echconfig"); no vector covers SVCB.
//
// # Counters
//
// ReadCounters reports how many messages parsed and failed (by kind), how
// many rdata printed a parse error, and how many names and rdata texts were
// rejected, so that hostile input is never lost silently.
//
// # Allocation
//
// AppendName, AppendDomain, AppendDomainJSON, AppendRdata, AppendType,
// AppendClass, TypeString and ClassString do not allocate when dst has room
// (the TYPEn and CLASSn strings are built once, on first use). ParseMessage
// allocates a Message, one buffer for all names and rdata and the record
// slices; Message.Parse reuses them, so a Message parsed into again and
// again stops allocating once they have grown. Message.AppendText and
// Message.AppendJSON do not allocate for messages of up to 64 records in
// 32 RRsets per section and OPT option text of up to 512 octets.
package wdns

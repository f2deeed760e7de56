// Package msgmod holds siecap's NMSG message modules: for every known
// (vendor id, message type) the schema of its protobuf message and the
// field list, order and formatting of libnmsg's module, so that a payload
// prints exactly as nmsgtool prints it (-J JSON lines, -o presentation)
// and nmsgtool's JSON input (-j) encodes to the same message bytes
// nmsgtool writes.
//
// Modules: the base vendor (ncap, email, linkpair, http, ipconn, logline,
// dns, pkt, dnsqr, xml, encode, packet, dnstap, dnsobs) and the SIE vendor
// (dnsdedupe, reputation, qr, delay, newdomain, dnsnx).
//
// Hot path: a Printer decodes a message by walking its protobuf wire bytes
// once (no generated structs, no reflection) into a fixed per-field array
// it reuses, then appends the output to the caller's buffer, writing the
// common field kinds (numbers, enums, addresses, times, DNS names, types,
// classes and rdata) inline rather than through the module's formatter
// functions; formatters write straight into the output, which is escaped
// for JSON only when it needs it. Times come from a per-Printer cache of
// the day's text; DNS messages parse into a wdns.Message the Printer
// reuses. A Printer is not safe for concurrent use; use one per goroutine.
// Printing a dnsdedupe or dnsqr payload allocates nothing once the scratch
// space has grown.
//
// Where nmsgtool prints something that is not valid (a bare NaN, a double
// of 1e44 or more overflowing its buffer) or fails on a payload, this
// package prints valid output instead; each such place says in a comment
// what nmsgtool does.
package msgmod

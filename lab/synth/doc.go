// Package synth makes realistic synthetic SIE payloads from a seed:
// SIE/dnsdedupe records, SIE/newdomain first sightings and base/dnsqr
// query/response pairs (captured IPv4/UDP packets with valid checksums and
// DNS messages that parse), with varied names, record types, rcodes and
// rdata. A configurable share of each type's payloads repeats a payload from
// the recent past byte for byte, so that dedupe has work; Mixed interleaves
// the types by weight. The lab's feed generator, the benchmark data and the
// bundled sample all come from here; the same seed gives the same bytes.
package synth

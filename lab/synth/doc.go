// Package synth makes realistic synthetic SIE payloads from a seed:
// SIE/dnsdedupe records with varied names, record types and rdata, a
// configurable share of which repeat a payload from the recent past, so that
// dedupe has work. The lab's feed generator, the benchmark data and the
// bundled sample all come from here; the same seed gives the same bytes.
package synth

// Package pipeline is siecap's per-channel worker chain between capture and
// the spool: decode, filter, dedupe, repack and compress.
//
// # Shape
//
// A Pipeline serves one channel. It has R readers and K shards. A Reader is
// driven by exactly one goroutine (a capture socket's reader, or a file
// reader in `siecap ingest`). Its entry points are Frame (a captured
// Ethernet frame: capture's Handler calls it), Datagram (a UDP payload and
// its sender) and Add (a payload an nmsg.Reader decoded from a file with
// the Reader's Decoder). It decodes NMSG in place with its own
// nmsg.Decoder (fragment reassembly and sequence-loss tracking per sender
// live there), counts damage by reason, applies the channel's (vid, msgtype)
// rules, and copies each surviving payload into a pooled Batch for the shard
// its content hash selects. Each (reader, shard) pair is joined by one SPSC
// ring (ring.Ring[*Batch]); each shard is owned by one goroutine, so dedupe
// state is never touched by two goroutines.
//
// A reader never blocks on a shard: when a ring is full the batch is dropped
// and its payloads are counted (Stats.Dropped). Only a reader created for
// file input (Config.Blocking) waits for room instead, so an import loses
// nothing.
//
// # Dedupe
//
// Mode payload (the default): a payload with the same vid, msgtype and
// message bytes as one stored within Config.Window is suppressed and counted
// against the stored one. Identity is a 128-bit hash of those bytes: a
// keyed 64-bit maphash value and, for a payload the decoder read, the
// CRC-32C it computed and the message's length (else a second, independent
// maphash value); the probability that two different payloads share it is
// negligible (about n²/2⁹⁶ at worst), and a sender cannot aim at it
// without the secret seed of the first. The clock is
// the channel's high-water mark of payload time: each payload carries the
// mark its reader had reached when it read it, so the window does not
// depend on the number of shards or on wall time. An entry leaves the
// window when the clock passes its first time plus Window; when a shard
// holds Config.MaxEntries/K entries the oldest leaves early
// (Stats.ExpiredEarly). When an entry with suppressed duplicates leaves,
// its count is written into the metadata of the shard's next record,
// pointing at the stored payload by (segment, record offset, ordinal); see
// meta.go. `siecap spool export --with-counts` joins them back.
//
// Mode rrset (raw passive DNS, base/dnsqr): the reader parses every
// response packet of a dnsqr payload, derives its bailiwick (rrset.go
// documents the rule), drops RRsets outside it, and turns each remaining
// RRset into an SIE/dnsdedupe INSERTION routed by the hash of its identity
// (owner name and bailiwick without ASCII case, type, class, the rdata as a
// set). The shard stores the INSERTION the first time the identity is seen
// and counts later sightings; when the identity leaves the window it
// stores an EXPIRATION with count, time_first and time_last. Payloads of
// other types pass through unchanged.
//
// Mode none stores every payload.
//
// # Records
//
// A shard repacks payloads with nmsg.Writer into containers of up to 1 MiB
// without payload CRCs (nmsg.WriterOptions.OmitCRCs: the spool checks each
// record with its own CRC-32C, export writes payload CRCs again, and the
// CRCs are incompressible: leaving them out stores 11% fewer bytes of
// the benchmark file) and compresses them with zstd (Config.Level,
// SpeedFastest by default)
// into one spool record: one self-contained frame of up to about
// Config.RecordBytes of containers, or of what accumulated within
// Config.FlushInterval. Payloads count as stored only once the spool
// reports their record durable.
//
// # Lifetimes and hot-path rules
//
// Reader methods must be called from one goroutine; the payloads and
// datagrams they receive may be reused as soon as they return. Batches are
// recycled through a pool. Shard processing of the payload mode does not
// allocate per payload in steady state (map growth aside).
package pipeline

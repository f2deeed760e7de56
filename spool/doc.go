// Package spool is siecap's crash-safe on-disk store: append-only segment
// files per channel, group-committed, sealed with a footer, recovered after
// any crash, bounded by a byte budget and an age, with every loss recorded
// in a durable loss ledger.
//
// A spool directory holds one file per segment, named by its fleet-unique
// SegmentID (node, channel, sequence) as "NNNNNNNN-CCCCCCCC-SSSSSSSSSSSSSSSS.seg",
// the loss ledger ("ledger"), quarantined files ("quarantine/") and the lock
// file ("LOCK"). The byte layout is described in segment.go, record.go and
// ledger.go.
//
// Writing: Open takes the directory's exclusive lock, recovers, and starts
// one committer goroutine per Spool. Append copies a record (one zstd frame,
// compressed by the caller, plus its payload time range, payload count and
// an opaque metadata blob) into the queue and returns a Ticket at once. The
// committer writes queued records and fsyncs them as one batch (group
// commit) CommitInterval after the oldest was queued, or as soon as
// CommitBytes are pending (so a record is durable CommitInterval plus one
// fsync after Append, unless the disk is slower than the input); only then
// does WaitDurable return, DurableLSN advance and the segment's durable
// length grow. Nothing is reported stored before it is durable. New segments are created as a temporary file,
// fsynced, renamed and the directory fsynced. A segment is sealed with a
// footer (record count, time range, CRC-32C of the whole segment) at
// SegmentBytes or SegmentAge, and by Seal and Close.
//
// Failures: on ENOSPC the committer evicts the oldest sealed segment into the
// loss ledger and retries the batch from memory; any other write or fsync
// error, or ENOSPC with nothing left to evict, stops the writer with a
// sticky error returned by every later call. Errors are never dropped.
//
// Recovery (in Open) trusts segments that end with a valid footer, walks the
// others, cuts a torn tail (damage inside the last batch, which was never
// reported durable) and seals them, and quarantines a segment whose damage
// is followed by a later batch (corruption), recording it in the ledger.
// Every frame carries the offset where its batch (one group commit) began;
// a batch is written only after the previous one was fsynced, so damage
// followed by a frame of a later batch cannot be a torn write. It never
// blocks on damage and never skips it silently. Sealed segments are not
// re-read at Open (that would read the whole spool): readers check every
// record's CRC and Verify checks the footers' whole-segment checksums.
//
// Reading: Records iterates a channel by time range while the writer
// appends; OpenSegment reads a segment by byte offset up to its durable
// length (replication, shipping, raw export); Segments lists segments with
// their state. OpenReader does the same offline under a shared lock, and
// Verify checks a directory read-only. The spool never decompresses: a
// Decoder does, into a reused buffer.
//
// Lifetimes and hot-path rules: Append does not allocate in steady state
// (frame buffers are pooled) and never waits for the disk except for
// backpressure at MaxPending. Records returned by an Iter alias its buffer
// until the next call. Lock order: LOCKS.md.
package spool

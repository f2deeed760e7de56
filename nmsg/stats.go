package nmsg

// Stats counts what a Decoder or Reader saw and every kind of damage or loss.
// Fields are plain counters owned by the single goroutine that drives the
// decoder; copy the struct to publish it elsewhere.
type Stats struct {
	Containers       uint64 // containers framed (fragments included)
	Bytes            uint64 // bytes of input framed
	Payloads         uint64 // payloads delivered
	CRCFailures      uint64 // payloads dropped for a payload_crcs mismatch
	CRCCountMismatch uint64 // containers whose payload_crcs count differs from their payloads
	Malformed        uint64 // containers rejected as malformed (bad protobuf, bad lengths)
	MalformedPayload uint64 // payloads dropped as malformed (missing required fields)
	BadHeader        uint64 // bad magic or version
	TooLarge         uint64 // containers or inflated bodies over the 1 MiB limit
	Truncated        uint64 // truncated containers at the end of a stream
	InflateErrors    uint64 // zlib bodies that did not inflate to their declared length

	Fragments             uint64 // fragment containers accepted
	FragmentDuplicates    uint64 // fragments ignored as duplicates
	FragmentsRejected     uint64 // fragments rejected (current > last, too many, bad protobuf)
	FragmentSetsDone      uint64 // fragment sets reassembled
	FragmentSetsRecovered uint64 // sets completed from libnmsg's exact-multiple layout (last piece never sent)
	FragmentSetsExpired   uint64 // incomplete sets expired or still incomplete at the end of input
	FragmentSetsDiscarded uint64 // sets discarded as inconsistent (last disagreeing)
	FragmentSetsEvicted   uint64 // sets evicted to respect the pending-memory cap
	FragmentCRCMismatch   uint64 // reassembled sets whose fragment crc did not match (delivered anyway)

	SequenceLost   uint64 // containers lost according to sequence numbers
	SequenceResets uint64 // sequence trackers reset (late, reordered or huge jumps)
	Headerless     uint64 // headerless zlib datagrams recovered
}

// Damage returns the number of damage events that make a read unsuccessful
// (everything but CRC failures, which nmsgtool only warns about).
func (s *Stats) Damage() uint64 {
	return s.Malformed + s.MalformedPayload + s.BadHeader + s.TooLarge + s.Truncated +
		s.InflateErrors + s.FragmentsRejected + s.FragmentSetsExpired +
		s.FragmentSetsDiscarded + s.FragmentSetsEvicted
}

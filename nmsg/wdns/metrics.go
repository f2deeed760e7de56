package wdns

import (
	"errors"
	"sync/atomic"
)

// Counters of hostile or malformed input seen by this package, for the
// process's statistics. They only ever grow.
type Counters struct {
	MessagesParsed     uint64 // ParseMessage successes
	MessageErrors      uint64 // ParseMessage failures, all kinds
	ShortMessages      uint64 // ErrShort
	BadNames           uint64 // ErrOutOfBounds, ErrCompressionPointer, ErrLengthOctet, ErrNameOverflow
	BadRecords         uint64 // ErrParse, ErrOverflow and rdata that breaks its layout
	RdataPrintErrors   uint64 // AppendRdata output carrying " ### PARSE ERROR"
	RdataTextRejected  uint64 // ParseRdata failures
	NameTextRejected   uint64 // ParseName failures
	MalformedWireNames uint64 // AppendName failures
}

var counters struct {
	messagesParsed, messageErrors, shortMessages, badNames, badRecords    atomic.Uint64
	rdataPrintErrors, rdataTextRejected, nameTextRejected, malformedNames atomic.Uint64
}

// ReadCounters returns the counters' current values.
func ReadCounters() Counters {
	return Counters{
		MessagesParsed:     counters.messagesParsed.Load(),
		MessageErrors:      counters.messageErrors.Load(),
		ShortMessages:      counters.shortMessages.Load(),
		BadNames:           counters.badNames.Load(),
		BadRecords:         counters.badRecords.Load(),
		RdataPrintErrors:   counters.rdataPrintErrors.Load(),
		RdataTextRejected:  counters.rdataTextRejected.Load(),
		NameTextRejected:   counters.nameTextRejected.Load(),
		MalformedWireNames: counters.malformedNames.Load(),
	}
}

func countMessageError(err error) {
	counters.messageErrors.Add(1)
	switch {
	case errors.Is(err, ErrShort):
		counters.shortMessages.Add(1)
	case errors.Is(err, ErrOutOfBounds), errors.Is(err, ErrCompressionPointer),
		errors.Is(err, ErrLengthOctet), errors.Is(err, ErrNameOverflow):
		counters.badNames.Add(1)
	default:
		counters.badRecords.Add(1)
	}
}

package capture

// SocketStats are the accumulated counters of one socket, or their sum over
// the sockets of an interface.
type SocketStats struct {
	// Kernel counters, accumulated across reads (the kernel resets them on
	// every read). Packets counts every packet that reached the socket past
	// its filter, including the dropped ones.
	Packets uint64
	Drops   uint64 // packets dropped because the ring was full
	Freezes uint64 // times the kernel froze the queue (TPACKET_V3)

	// Reader counters.
	Received   uint64 // frames handed to the handler
	Bytes      uint64 // captured bytes handed to the handler
	ReadErrors uint64 // reads that failed other than by timing out
	LastError  string `json:",omitempty"` // the most recent read error
}

func (s *SocketStats) add(o SocketStats) {
	s.Packets += o.Packets
	s.Drops += o.Drops
	s.Freezes += o.Freezes
	s.Received += o.Received
	s.Bytes += o.Bytes
	s.ReadErrors += o.ReadErrors
	if o.LastError != "" {
		s.LastError = o.LastError
	}
}

// Stats are the counters of a capture: per socket, and their sum for the
// interface.
type Stats struct {
	Interface string
	Total     SocketStats
	Sockets   []SocketStats
}

// Status describes a capture's set-up.
type Status struct {
	Interface string
	Sockets   int
	RingBytes int // per socket
	Fanout    FanoutMode
	FanoutID  uint16
	Filter    bool // a socket filter is attached to every socket
	// SequenceLossApproximate is set when the fanout mode may deliver one
	// sender's datagrams to several sockets, so that per-sender sequence
	// tracking sees them out of order and its loss counts are approximate.
	SequenceLossApproximate bool
}

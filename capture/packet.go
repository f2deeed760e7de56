package capture

import (
	"sync/atomic"
	"time"
)

// Packet is one captured frame, valid only during Handler.HandlePacket.
type Packet struct {
	// Data is the frame as captured, from the Ethernet header on, without
	// the 802.1Q tag (the kernel strips it; see VLAN). It points into the
	// kernel's ring: do not retain it.
	Data []byte
	// Length is the frame's length on the wire (without the stripped VLAN
	// tag); it exceeds len(Data) when the frame was truncated.
	Length int
	// Timestamp is the kernel's receive time.
	Timestamp time.Time
	// VLAN is the 802.1Q VLAN id, valid when HasVLAN is set.
	VLAN    uint16
	HasVLAN bool
	// Ifindex is the index of the interface the frame arrived on.
	Ifindex int
	// Socket is the index (0..Sockets-1) of the socket that read the frame.
	Socket int
}

// Handler consumes packets. HandlePacket is called by one reader goroutine
// at a time for a given Handler value; it must not retain p or p.Data (see
// the package documentation) and should return quickly: while it runs, the
// socket's ring fills.
type Handler interface {
	HandlePacket(p *Packet)
}

// Idler is implemented by handlers that keep work across packets (a batch
// being filled, a timeout to apply): Idle is called by the same reader
// goroutine, between packets, whenever a poll interval (Config.PollTimeout)
// passed without one, so that such work is finished when traffic stops.
type Idler interface {
	Idle(now time.Time)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(p *Packet)

// HandlePacket calls f(p).
func (f HandlerFunc) HandlePacket(p *Packet) { f(p) }

// Counter is a Handler that counts what it sees, for tests and benchmarks.
// Its counters may be read from any goroutine while readers run. One Counter
// may serve several sockets, at the price of contended atomic additions.
type Counter struct {
	packets   atomic.Uint64
	bytes     atomic.Uint64
	wireBytes atomic.Uint64
	truncated atomic.Uint64
	tagged    atomic.Uint64
	vlans     [4096]atomic.Uint64
}

// HandlePacket counts p.
func (c *Counter) HandlePacket(p *Packet) {
	c.packets.Add(1)
	c.bytes.Add(uint64(len(p.Data)))
	c.wireBytes.Add(uint64(p.Length))
	if p.Length > len(p.Data) {
		c.truncated.Add(1)
	}
	if p.HasVLAN {
		c.tagged.Add(1)
		c.vlans[p.VLAN&0xfff].Add(1)
	}
}

// CounterStats is a snapshot of a Counter.
type CounterStats struct {
	Packets   uint64 // frames handled
	Bytes     uint64 // captured bytes
	WireBytes uint64 // bytes on the wire
	Truncated uint64 // frames captured shorter than on the wire
	Tagged    uint64 // frames that carried a VLAN tag
}

// Stats returns a snapshot of the counters.
func (c *Counter) Stats() CounterStats {
	return CounterStats{
		Packets:   c.packets.Load(),
		Bytes:     c.bytes.Load(),
		WireBytes: c.wireBytes.Load(),
		Truncated: c.truncated.Load(),
		Tagged:    c.tagged.Load(),
	}
}

// VLAN returns the number of frames seen with VLAN id vid.
func (c *Counter) VLAN(vid uint16) uint64 { return c.vlans[vid&0xfff].Load() }

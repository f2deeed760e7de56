package capture

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// FanoutMode selects how the kernel spreads packets over the sockets of one
// interface.
type FanoutMode int

const (
	// FanoutHashDefrag (the default) sends every packet of a flow to the
	// same socket and reassembles IP fragments before fanout.
	FanoutHashDefrag FanoutMode = iota
	// FanoutLoadBalance spreads packets round-robin over the sockets, also
	// with IP fragments reassembled first. Packets of one sender may be
	// processed out of order, so sequence-loss counts become approximate.
	FanoutLoadBalance
)

func (m FanoutMode) String() string {
	switch m {
	case FanoutHashDefrag:
		return "hash+defrag"
	case FanoutLoadBalance:
		return "loadbalance+defrag"
	}
	return fmt.Sprintf("FanoutMode(%d)", int(m))
}

// Program is an eBPF socket-filter program, identified by its file
// descriptor (a *ebpf.Program of cilium/ebpf satisfies it).
type Program interface {
	FD() int
}

// Defaults for the zero fields of a Config.
const (
	DefaultSockets       = 2
	DefaultBlockSize     = 4 << 20
	DefaultNumBlocks     = 4
	DefaultBlockTimeout  = 50 * time.Millisecond
	DefaultPollTimeout   = 50 * time.Millisecond
	DefaultStatsInterval = 10 * time.Second

	// MinBlockSize keeps room for a reassembled 64 KiB IP datagram.
	MinBlockSize = 128 << 10
	// MaxSockets bounds the number of sockets (and reader goroutines) per
	// interface.
	MaxSockets = 64
)

// Config describes the capture on one interface. Zero fields take the
// defaults above; Normalize fills them in and checks the result.
type Config struct {
	// Interface to capture on. Required.
	Interface string
	// Sockets is the number of sockets in the fanout group, each with
	// its own ring and reader goroutine.
	Sockets int
	// BlockSize is the size of one ring block in bytes: a power of two,
	// at least MinBlockSize. The ring of one socket is BlockSize×NumBlocks.
	BlockSize int
	// NumBlocks is the number of blocks in the ring of one socket.
	NumBlocks int
	// BlockTimeout is how long the kernel fills a block before handing a
	// partly filled one to the reader (TPACKET_V3 tp_retire_blk_tov;
	// millisecond granularity). It bounds the latency at low packet rates.
	BlockTimeout time.Duration
	// PollTimeout is how long a reader with an empty ring stays parked
	// before it calls the handler's Idle method (if it has one), and how
	// long a reader backs off after a read error.
	PollTimeout time.Duration
	// StatsInterval is how often the kernel's socket counters are read in
	// the background and added to the totals.
	StatsInterval time.Duration
	// Promiscuous puts the interface in promiscuous mode for as long as the
	// capture runs.
	Promiscuous bool
	// Fanout is the fanout mode; the zero value is FanoutHashDefrag.
	Fanout FanoutMode
	// FanoutID is the fanout group id. Zero picks one from the process id
	// and a counter. Sockets of other processes that join the same id on
	// the same interface with the same mode share its packets.
	FanoutID uint16
	// Filter, when not nil, is attached to every socket as a socket filter.
	Filter Program
}

// Normalize returns cfg with defaults filled in, or an error naming the
// first invalid field.
func (cfg Config) Normalize() (Config, error) {
	if cfg.Interface == "" {
		return cfg, errors.New("check config: no interface")
	}
	if cfg.Sockets == 0 {
		cfg.Sockets = DefaultSockets
	}
	if cfg.BlockSize == 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.NumBlocks == 0 {
		cfg.NumBlocks = DefaultNumBlocks
	}
	if cfg.BlockTimeout == 0 {
		cfg.BlockTimeout = DefaultBlockTimeout
	}
	if cfg.PollTimeout == 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = DefaultStatsInterval
	}
	page := os.Getpagesize()
	switch {
	case cfg.Sockets < 1 || cfg.Sockets > MaxSockets:
		return cfg, fmt.Errorf("check config: sockets %d outside 1..%d", cfg.Sockets, MaxSockets)
	case cfg.BlockSize < MinBlockSize || cfg.BlockSize&(cfg.BlockSize-1) != 0 || cfg.BlockSize%page != 0:
		return cfg, fmt.Errorf("check config: block size %d is not a power of two of at least %d", cfg.BlockSize, MinBlockSize)
	case cfg.NumBlocks < 1:
		return cfg, fmt.Errorf("check config: number of blocks %d below 1", cfg.NumBlocks)
	case uint64(cfg.BlockSize)*uint64(cfg.NumBlocks) > 1<<32-1:
		return cfg, fmt.Errorf("check config: ring of %d blocks of %d bytes exceeds 4 GiB", cfg.NumBlocks, cfg.BlockSize)
	case cfg.BlockTimeout < time.Millisecond:
		return cfg, fmt.Errorf("check config: block timeout %v below 1ms", cfg.BlockTimeout)
	case cfg.PollTimeout < time.Millisecond:
		return cfg, fmt.Errorf("check config: poll timeout %v below 1ms", cfg.PollTimeout)
	case cfg.StatsInterval < 0:
		return cfg, fmt.Errorf("check config: negative stats interval %v", cfg.StatsInterval)
	case cfg.Fanout != FanoutHashDefrag && cfg.Fanout != FanoutLoadBalance:
		return cfg, fmt.Errorf("check config: unknown fanout mode %d", int(cfg.Fanout))
	}
	return cfg, nil
}

// RingBytes is the memory of one socket's ring.
func (cfg Config) RingBytes() int { return cfg.BlockSize * cfg.NumBlocks }

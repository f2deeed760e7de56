package pipeline

import (
	"github.com/siecap/siecap/nmsg"

	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Mode selects a channel's dedupe.
type Mode uint8

// Dedupe modes.
const (
	DedupePayload Mode = iota // identical payloads within the window are stored once
	DedupeRRset               // base/dnsqr responses become SIE/dnsdedupe INSERTION/EXPIRATION
	DedupeNone                // every payload is stored
)

// ParseMode parses "payload", "rrset" or "none".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "payload", "":
		return DedupePayload, nil
	case "rrset":
		return DedupeRRset, nil
	case "none":
		return DedupeNone, nil
	}
	return 0, fmt.Errorf("parse dedupe mode %q: want payload, rrset or none", s)
}

func (m Mode) String() string {
	switch m {
	case DedupePayload:
		return "payload"
	case DedupeRRset:
		return "rrset"
	case DedupeNone:
		return "none"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// RuleMode says how Rules.Types is applied.
type RuleMode uint8

// Rule modes.
const (
	AllowAll  RuleMode = iota // every payload passes
	AllowOnly                 // only the listed (vid, msgtype) pass
	DenyOnly                  // every payload but the listed pass
)

// TypeKey names a message type.
type TypeKey struct{ Vid, Msgtype uint32 }

// Rules are a channel's payload type rules (the same ones the kernel
// pre-filter applies to the containers it can read).
type Rules struct {
	Mode  RuleMode
	Types []TypeKey
}

// Pass reports whether a payload of (vid, msgtype) passes the rules.
func (r *Rules) Pass(vid, msgtype uint32) bool {
	if r.Mode == AllowAll {
		return true
	}
	listed := false
	for _, t := range r.Types {
		if t.Vid == vid && t.Msgtype == msgtype {
			listed = true
			break
		}
	}
	return listed == (r.Mode == AllowOnly)
}

// Config configures a Pipeline. Zero fields take the defaults shown.
type Config struct {
	Channel       uint32
	Dedupe        Mode
	Rules         Rules
	Window        time.Duration     // dedupe window in payload time: 60 s
	MaxEntries    int               // dedupe entries per channel (split over the shards): 2 Mi
	Shards        int               // K: GOMAXPROCS, at most 8
	Readers       int               // R: 1
	RingSize      int               // batches per ring (power of two): 64
	BatchPayloads int               // payloads per batch: 512
	BatchBytes    int               // message bytes per batch: 256 KiB
	Level         zstd.EncoderLevel // zstd level: SpeedFastest
	// RawLiterals stores literals without Huffman coding at SpeedFastest:
	// 5% more bytes for 5-10% less zstd CPU (2-5% of ingest's CPU).
	RawLiterals   bool
	FlushInterval time.Duration // a record is cut at most this long after its first payload: 1 s
	RecordBytes   int           // container bytes per record: 1 MiB - 64 KiB
	// Blocking makes readers wait for ring room instead of dropping the
	// batch: for file input only, never for capture.
	Blocking bool
	// Observe, when set, is called by reader i's goroutine with every
	// payload that passed the rules, before dedupe (the daemon's live
	// tail). The payload is valid only during the call; Observe must not
	// block.
	Observe func(reader int, p *nmsg.Payload)
}

func (c *Config) fill() error {
	if c.Window <= 0 {
		c.Window = 60 * time.Second
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 2 << 20
	}
	if c.Shards <= 0 {
		c.Shards = min(runtime.GOMAXPROCS(0), 8)
	}
	if c.Readers <= 0 {
		c.Readers = 1
	}
	if c.RingSize <= 0 {
		c.RingSize = 64
	}
	if c.BatchPayloads <= 0 {
		c.BatchPayloads = 512
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 256 << 10
	}
	if c.Level == 0 {
		c.Level = zstd.SpeedFastest
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.RecordBytes <= 0 {
		c.RecordBytes = 1<<20 - 64<<10
	}
	if c.RecordBytes < 4096 || c.RecordBytes > 1<<20-64<<10 {
		return fmt.Errorf("check config: record size %d outside [4096, %d]", c.RecordBytes, 1<<20-64<<10)
	}
	if c.MaxEntries > 1<<31 {
		// The dedupe index names entries by 32-bit sequence numbers.
		return fmt.Errorf("check config: %d dedupe entries, at most %d", c.MaxEntries, 1<<31)
	}
	if c.MaxEntries < c.Shards {
		return fmt.Errorf("check config: %d dedupe entries for %d shards", c.MaxEntries, c.Shards)
	}
	if c.Dedupe > DedupeNone {
		return fmt.Errorf("check config: unknown dedupe mode %d", c.Dedupe)
	}
	if c.RawLiterals && c.Level != zstd.SpeedFastest {
		return fmt.Errorf("check config: raw literals only at zstd level fastest, not %s", c.Level)
	}
	return nil
}

package pipeline

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/siecap/siecap/ring"
	"github.com/siecap/siecap/spool"
)

// Pipeline is one channel's workers: Config.Readers readers, Config.Shards
// shards, one ring per (reader, shard) pair, appending to a spool.
type Pipeline struct {
	cfg     Config
	rules   atomic.Pointer[Rules] // replaced whole by SetRules
	sp      *spool.Spool
	hash    hasher
	readers []*Reader
	shards  []*shard
	wg      sync.WaitGroup

	mu  sync.Mutex
	err error
}

// New starts the shards of a pipeline that appends to sp.
func New(sp *spool.Spool, cfg Config) (*Pipeline, error) {
	p, err := newPipeline(sp, cfg)
	if err != nil {
		return nil, err
	}
	p.start()
	return p, nil
}

// newPipeline builds a pipeline without starting its shards.
func newPipeline(sp *spool.Spool, cfg Config) (*Pipeline, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, sp: sp, hash: newHasher()}
	p.SetRules(cfg.Rules)
	rings := make([][]*ring.Ring[*Batch], cfg.Readers) // [reader][shard]
	for i := range rings {
		rings[i] = make([]*ring.Ring[*Batch], cfg.Shards)
		for k := range rings[i] {
			rg, err := ring.New[*Batch](cfg.RingSize)
			if err != nil {
				return nil, fmt.Errorf("create pipeline: %w", err)
			}
			rings[i][k] = rg
		}
	}
	for k := range cfg.Shards {
		in := make([]*ring.Ring[*Batch], cfg.Readers)
		for i := range in {
			in[i] = rings[i][k]
		}
		s, err := newShard(p, in)
		if err != nil {
			return nil, fmt.Errorf("create pipeline: %w", err)
		}
		p.shards = append(p.shards, s)
	}
	for i := range cfg.Readers {
		p.readers = append(p.readers, newReader(p, rings[i]))
		p.readers[i].index = i
	}
	return p, nil
}

func (p *Pipeline) start() {
	for _, s := range p.shards {
		p.wg.Add(1)
		go s.run()
	}
}

// Config returns the configuration with its defaults filled in.
func (p *Pipeline) Config() Config {
	c := p.cfg
	c.Rules = *p.rules.Load()
	return c
}

// SetRules replaces the channel's payload type rules. Readers see either
// the old rules or the new ones for any payload, never a mix.
func (p *Pipeline) SetRules(r Rules) {
	r.Types = append([]TypeKey(nil), r.Types...)
	p.rules.Store(&r)
}

// Reader returns reader i (0 ≤ i < Config.Readers). Each must be driven by
// one goroutine.
func (p *Pipeline) Reader(i int) *Reader { return p.readers[i] }

// Close waits until the shards have processed everything the readers
// pushed and stored what is left of the dedupe windows (counts and
// EXPIRATIONs), then returns the first spool error. Every Reader must have
// been closed first. Close does not close the spool: Spool.Close (or Sync)
// makes the last records durable, and Stats then reports them stored.
func (p *Pipeline) Close() error {
	p.wg.Wait()
	return p.Err()
}

// Err returns the error that stopped storing, if any.
func (p *Pipeline) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *Pipeline) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = fmt.Errorf("store records: %w", err)
	}
}

// Stats are a pipeline's counters. For payload and none modes every
// payload read is accounted for:
//
//	Payloads = Filtered + Dropped + Deduped + Appended + Failed
//
// and Stored ≤ Appended counts those the spool made durable. Payloads
// the decoder rejected (damage) never became payloads: Rejected counts
// those damage events. In rrset mode Appended and Stored count the
// INSERTIONs, EXPIRATIONs and passed-through payloads written, and
// Deduped the RRset sightings folded into counts.
type Stats struct {
	Payloads     uint64
	Filtered     uint64
	Dropped      uint64
	Rejected     uint64
	Deduped      uint64
	Appended     uint64
	Stored       uint64
	Failed       uint64
	ExpiredEarly uint64
	Readers      []ReaderStats
	Shards       []ShardStats
}

// RingFill returns the fill level of every reader→shard ring, a snapshot.
// It reads only the rings, not the counters Stats gathers.
func (p *Pipeline) RingFill() []RingStats {
	var fill []RingStats
	for _, r := range p.readers {
		for k, rg := range r.rings {
			fill = append(fill, RingStats{Reader: r.index, Shard: k, Len: rg.Len(), Cap: rg.Cap()})
		}
	}
	return fill
}

// RingStats is the fill level of the ring from one reader to one shard:
// batches waiting (Len) out of Cap. A ring that stays full drops batches
// (counted in the reader's Dropped).
type RingStats struct {
	Reader, Shard int
	Len, Cap      int
}

// Stats returns the counters (readers as of their last batch).
func (p *Pipeline) Stats() Stats {
	var st Stats
	lsn := p.sp.DurableLSN(p.cfg.Channel)
	for _, r := range p.readers {
		rs := r.Stats()
		st.Readers = append(st.Readers, rs)
		st.Payloads += rs.Payloads
		st.Filtered += rs.Filtered
		st.Dropped += rs.Dropped
		st.Rejected += rs.Decoder.Damage() + rs.Decoder.CRCFailures + rs.RRset.BadDNSQR + rs.RRset.ParseErrors
	}
	for _, s := range p.shards {
		ss := s.stats(lsn)
		st.Shards = append(st.Shards, ss)
		st.Deduped += ss.Deduped
		st.Appended += ss.Appended
		st.Stored += ss.Stored
		st.Failed += ss.Failed
		st.ExpiredEarly += ss.ExpiredEarly
	}
	return st
}

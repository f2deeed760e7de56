package spool

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Options configure a Spool. Zero fields take the defaults shown.
type Options struct {
	Node           uint32        // this blade's node id, part of every segment id
	CommitInterval time.Duration // a record is made durable at most this long after Append (plus the fsync): 100ms
	CommitBytes    int64         // ... or as soon as this many bytes are pending: 4 MiB
	MaxPending     int64         // Append blocks while this many bytes await commit: 8 × CommitBytes
	SegmentBytes   int64         // seal a segment once it reaches this size: 64 MiB
	SegmentAge     time.Duration // seal a segment this long after it was created: 10 min
	MaxBytes       int64         // byte budget of all segments; 0 = no budget
	MaxAge         time.Duration // evict sealed segments sealed longer ago; 0 = keep
	MaxRecordBytes int           // largest record frame Append accepts: 16 MiB
	Logger         *slog.Logger  // default slog.Default()
}

func (o *Options) fill() {
	if o.CommitInterval <= 0 {
		o.CommitInterval = 100 * time.Millisecond
	}
	if o.CommitBytes <= 0 {
		o.CommitBytes = 4 << 20
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 8 * o.CommitBytes
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.SegmentAge <= 0 {
		o.SegmentAge = 10 * time.Minute
	}
	if o.MaxRecordBytes <= 0 || o.MaxRecordBytes > maxFrameBody {
		o.MaxRecordBytes = 16 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Ticket identifies an appended record: where it is (segment, offset, frame
// length) and its place in its channel's order (LSN, from 1 per Spool).
// A record is stored only once WaitDurable(ticket) returned nil or
// DurableLSN(channel) ≥ ticket.LSN.
type Ticket struct {
	Channel uint32
	Segment SegmentID
	Offset  int64
	Len     int64
	LSN     uint64
}

// Stats are the spool's counters since Open.
type Stats struct {
	Appended       uint64 // records accepted by Append
	AppendedBytes  uint64
	Durable        uint64 // records made durable
	DurableBytes   uint64
	Commits        uint64 // group commits (one fsync of one segment each)
	Sealed         uint64
	Evicted        uint64 // segments evicted (each in the loss ledger)
	EvictedBytes   uint64
	NoSpaceRetries uint64 // writes retried after an ENOSPC eviction
}

// RecoveryReport says what Open found and repaired.
type RecoveryReport struct {
	Segments       int   // segment files found
	Scanned        int   // unsealed segments walked
	Resealed       int   // unsealed segments sealed after the walk
	Truncated      int   // torn tails cut
	TruncatedBytes int64 // bytes cut (never reported durable)
	Quarantined    int   // segments moved to quarantine/ (in the loss ledger)
	TempRemoved    int   // unfinished new-segment files removed
	Duration       time.Duration
}

// Spool is the writer of a spool directory. All its methods are safe for
// concurrent use. One goroutine per Spool (the committer) does every write,
// fsync, seal and eviction; see LOCKS.md.
type Spool struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File
	ldg  *ledger

	mu           sync.Mutex // guards everything below; never held across I/O
	segs         map[SegmentID]*segment
	chans        map[uint32]*channel
	pendingBytes int64
	pendingItems int
	oldest       time.Time // when the oldest pending item was queued
	urgent       int       // callers waiting in Sync/Seal: commit now
	closing      bool
	err          error         // sticky: the writer stopped
	progress     chan struct{} // closed and replaced whenever durable state changes
	stats        Stats
	recovery     RecoveryReport

	bufs bufPool

	kick chan struct{}
	done chan struct{}
}

// channel is the per-channel append state (guarded by Spool.mu).
type channel struct {
	id      uint32
	nextSeq uint64
	cur     *segment // receives appends; nil: the next Append starts one
	queue   []item
	spare   []item // a committed queue's array, reused by the next take
	lsn     uint64
	durable uint64
}

// item is a queued frame or a request to seal seg.
type item struct {
	seg     *segment
	frame   []byte
	bodyCRC uint32
	lsn     uint64
	rec     recStat
	seal    bool
}

type recStat struct {
	payloads    uint32
	first, last int64
}

// segment is the writer's view of one segment file.
type segment struct {
	id SegmentID

	// guarded by Spool.mu
	state    State
	size     int64 // durable length
	records  uint64
	payloads uint64
	first    int64
	last     int64
	created  int64
	sealed   int64
	end      int64 // Append side: end including queued frames
	appended int   // Append side: records placed

	// committer only
	f   *os.File
	off int64
	crc uint32
}

func (g *segment) info() SegmentInfo {
	return SegmentInfo{ID: g.id, State: g.state, Bytes: g.size, Records: g.records, Payloads: g.payloads,
		First: fromNS(g.first), Last: fromNS(g.last), Created: fromNS(g.created), Sealed: fromNS(g.sealed)}
}

// Open opens (creating) the spool directory dir for writing: it takes the
// exclusive lock, recovers every segment (see Recovery) and starts the
// committer. Close it to seal the open segments.
func Open(dir string, opts Options) (*Spool, error) {
	opts.fill()
	if err := os.MkdirAll(filepath.Join(dir, quarantineDir), 0o755); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	lk, err := lockDir(dir, true)
	if err != nil {
		return nil, err
	}
	s := &Spool{
		dir: dir, opts: opts, log: opts.Logger, lock: lk,
		segs: map[SegmentID]*segment{}, chans: map[uint32]*channel{},
		progress: make(chan struct{}), kick: make(chan struct{}, 1), done: make(chan struct{}),
		bufs: bufPool{limit: 2 * opts.MaxPending},
	}
	if err := s.recover(); err != nil {
		for _, g := range s.segs {
			if g.f != nil {
				g.f.Close()
			}
		}
		if s.ldg != nil {
			s.ldg.close()
		}
		lk.Close()
		return nil, fmt.Errorf("recover spool %s: %w", dir, err)
	}
	go s.run()
	return s, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Recovery returns what Open found and repaired.
func (s *Spool) Recovery() RecoveryReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovery
}

// Stats returns the counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Err returns the sticky error that stopped the writer, or nil.
func (s *Spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Spool) chanLocked(ch uint32) *channel {
	c := s.chans[ch]
	if c == nil {
		c = &channel{id: ch, nextSeq: 1}
		s.chans[ch] = c
	}
	return c
}

// Append queues r on channel ch and returns its ticket. It copies r, so the
// caller may reuse r's buffers at once. It does not wait for the disk; it
// blocks only while MaxPending bytes await commit (backpressure), and fails
// once the writer stopped (the sticky error).
func (s *Spool) Append(ch uint32, r Record) (Ticket, error) {
	if len(r.Meta) > MaxMeta {
		return Ticket{}, fmt.Errorf("append record: %d bytes of metadata: %w", len(r.Meta), ErrTooLarge)
	}
	n := frameLen(&r)
	if n > s.opts.MaxRecordBytes {
		return Ticket{}, fmt.Errorf("append record: frame of %d bytes: %w", n, ErrTooLarge)
	}
	buf := s.bufs.get(n)
	buf, bodyCRC := appendFrame(buf, &r)
	st := recStat{payloads: r.Payloads, first: toNS(r.First), last: toNS(r.Last)}

	s.mu.Lock()
	for s.err == nil && !s.closing && s.pendingBytes >= s.opts.MaxPending {
		p := s.progress
		s.mu.Unlock()
		<-p
		s.mu.Lock()
	}
	if err := s.stoppedLocked(); err != nil {
		s.mu.Unlock()
		s.bufs.put(buf)
		return Ticket{}, err
	}
	c := s.chanLocked(ch)
	g := c.cur
	if g != nil && g.appended > 0 && g.end+int64(n) > s.opts.SegmentBytes {
		s.queueSealLocked(c)
		g = nil
	}
	if g == nil {
		g = &segment{id: SegmentID{Node: s.opts.Node, Channel: ch, Seq: c.nextSeq}, state: StateOpen,
			created: time.Now().UnixNano(), end: headerSize}
		c.nextSeq++
		c.cur = g
	}
	t := Ticket{Channel: ch, Segment: g.id, Offset: g.end, Len: int64(n)}
	g.end += int64(n)
	g.appended++
	c.lsn++
	t.LSN = c.lsn
	c.queue = append(c.queue, item{seg: g, frame: buf, bodyCRC: bodyCRC, lsn: c.lsn, rec: st})
	s.queuedLocked(int64(n))
	s.stats.Appended++
	s.stats.AppendedBytes += uint64(n)
	s.mu.Unlock()
	return t, nil
}

// queueSealLocked queues the sealing of c's current segment.
func (s *Spool) queueSealLocked(c *channel) {
	c.queue = append(c.queue, item{seg: c.cur, seal: true})
	c.cur = nil
	s.queuedLocked(0)
}

func (s *Spool) queuedLocked(n int64) {
	if s.pendingItems == 0 {
		s.oldest = time.Now()
	}
	s.pendingItems++
	s.pendingBytes += n
	if s.pendingItems == 1 || s.pendingBytes >= s.opts.CommitBytes {
		s.wake()
	}
}

func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Spool) stoppedLocked() error {
	if s.err != nil {
		return s.err
	}
	if s.closing {
		return ErrClosed
	}
	return nil
}

// signalLocked wakes everyone waiting for durable progress.
func (s *Spool) signalLocked() {
	close(s.progress)
	s.progress = make(chan struct{})
}

// waitLocked waits (releasing s.mu) until cond holds, the writer stopped, or
// ctx is done.
func (s *Spool) waitLocked(ctx context.Context, cond func() bool) error {
	for !cond() {
		if s.err != nil {
			return s.err
		}
		p := s.progress
		s.mu.Unlock()
		select {
		case <-p:
		case <-ctx.Done():
			s.mu.Lock()
			return ctx.Err()
		}
		s.mu.Lock()
	}
	return nil
}

// WaitDurable blocks until the record of t is durable (nil), the writer
// stopped (its sticky error) or ctx is done.
func (s *Spool) WaitDurable(ctx context.Context, t Ticket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chanLocked(t.Channel)
	return s.waitLocked(ctx, func() bool { return c.durable >= t.LSN })
}

// DurableLSN returns the LSN up to which channel ch's records are durable.
func (s *Spool) DurableLSN(ch uint32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chans[ch]; c != nil {
		return c.durable
	}
	return 0
}

// Progress returns a channel that is closed the next time records become
// durable, a segment is sealed or evicted, or the writer stops: a reader
// following a channel waits on it instead of polling.
func (s *Spool) Progress() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

// DurableOffset returns the durable length of segment id (its file size
// once sealed) and its state.
func (s *Spool) DurableOffset(id SegmentID) (int64, State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.segs[id]
	if g == nil {
		return 0, 0, fmt.Errorf("segment %s: %w", id, ErrNotFound)
	}
	return g.size, g.state, nil
}

// Sync commits everything appended so far now and waits until it is
// durable.
func (s *Spool) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stoppedLocked(); err != nil {
		return err
	}
	want := map[*channel]uint64{}
	for _, c := range s.chans {
		if c.durable < c.lsn {
			want[c] = c.lsn
		}
	}
	s.urgent++
	defer func() { s.urgent-- }()
	s.wake()
	return s.waitLocked(ctx, func() bool {
		for c, l := range want {
			if c.durable < l {
				return false
			}
		}
		return true
	})
}

// Seal seals channel ch's open segment (if any) and waits until it is
// sealed; the next Append starts a new segment.
func (s *Spool) Seal(ctx context.Context, ch uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.stoppedLocked(); err != nil {
		return err
	}
	c := s.chans[ch]
	if c == nil || c.cur == nil {
		return nil
	}
	g := c.cur
	s.queueSealLocked(c)
	s.urgent++
	defer func() { s.urgent-- }()
	s.wake()
	return s.waitLocked(ctx, func() bool { return g.state == StateSealed })
}

// Close commits what is pending, seals every open segment, stops the
// committer and releases the directory lock. It returns the sticky error if
// the writer had stopped.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.done
		return s.Err()
	}
	for _, c := range s.chans {
		if c.cur != nil && s.err == nil {
			s.queueSealLocked(c)
		}
	}
	s.closing = true
	s.wake()
	s.mu.Unlock()
	<-s.done
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	for _, g := range s.segs {
		if g.f != nil {
			if cerr := g.f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close segment %s: %w", g.id, cerr)
			}
			g.f = nil
		}
	}
	if cerr := s.ldg.close(); cerr != nil && err == nil {
		err = fmt.Errorf("close ledger: %w", cerr)
	}
	s.lock.Close()
	return err
}

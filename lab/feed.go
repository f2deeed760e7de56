package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

// VLANMode is how a feed's frames carry their channel's VLAN id.
type VLANMode int

const (
	// VLANInline writes the 802.1Q tag into the frame bytes and sends with
	// PACKET_QDISC_BYPASS (the fastest path).
	VLANInline VLANMode = iota
	// VLANMetadata sends inline-tagged frames through tc egress, where
	// VLANOffload moves the tag into skb metadata, as a NIC with VLAN
	// offload delivers it. Slower: the frames pass the qdisc layer.
	VLANMetadata
	// VLANNone sends untagged frames (plain UDP sockets in the appliance
	// receive them; tagged ones are for AF_PACKET only).
	VLANNone
)

// ParseVLANMode parses "inline", "metadata" or "none".
func ParseVLANMode(s string) (VLANMode, error) {
	switch s {
	case "inline":
		return VLANInline, nil
	case "metadata":
		return VLANMetadata, nil
	case "none":
		return VLANNone, nil
	}
	return 0, fmt.Errorf("parse vlan mode %q: want inline, metadata or none", s)
}

func (m VLANMode) String() string {
	return [...]string{"inline", "metadata", "none"}[m]
}

// FeedConfig describes a synthetic SIE feed.
type FeedConfig struct {
	// Channels to send on, round robin; nil means the lab's channels.
	Channels []int
	// Mix weighs the payload types; zero means synth.DefaultMix.
	Mix synth.Mix
	// RepeatShare of payloads repeat a recent one byte for byte.
	RepeatShare float64
	// LargeShare of dnsqr payloads carry a large answer (2 to 6 KB),
	// which containers smaller than that send as NMSG fragments.
	LargeShare float64
	// Seed makes the payloads reproducible; channel N uses Seed+N.
	Seed uint64
	VLAN VLANMode
	// Zlib compresses every container.
	Zlib bool
	// ContainerSize is the largest container; 0 means 8192, as SIE sends.
	ContainerSize int
	// MTU is the IP MTU: larger datagrams are IP-fragmented; 0 means the
	// SIE link's MTU.
	MTU int
	// PPS (frames per second) or BPS (frame bits per second) limit the
	// rate; both 0 means as fast as the ring goes.
	PPS, BPS float64
	// Duration and Count (datagrams over all channels) bound the feed; it
	// stops at the first bound reached. Both 0 means 10 s.
	Duration time.Duration
	Count    uint64
	// Pool > 0 pre-generates Pool containers per channel and cycles
	// through them, renumbering each with a fresh sequence number: the
	// fast path, whose payloads repeat every cycle. Containers that are
	// compressed or fragmented cannot be renumbered and repeat their
	// sequence numbers on each cycle. 0 generates every payload live.
	Pool int
	// TXFrames sizes each TX ring. 0 means 512 frames or, with a Pool,
	// the frames of one whole cycle through its senders' pools when that
	// is at most maxPoolRing: each frame of the ring then carries the same
	// container body on every cycle and is not copied again (see holder).
	TXFrames int
	// TXRings is the number of TX rings sending at once, each from its
	// own OS thread, with the channels dealt out to them in turn (channel
	// i of Channels to ring i mod TXRings): on veth the kernel's receive
	// path runs on the sending CPU, so one ring is bounded by one core.
	// A channel is sent by one ring only, so its datagrams stay in order
	// and its counts exact. 0 means 1; at most the number of channels.
	TXRings int
	// TXBatch is the number of frames per send(2) (TXRingConfig.Batch);
	// 0 means half the ring.
	TXBatch int
}

// MaxTXRings bounds FeedConfig.TXRings.
const MaxTXRings = 64

// maxPoolRing bounds the TX ring that holds a whole pool cycle (about
// 36 MiB of 9 KB frames).
const maxPoolRing = 4096

// poolCycleFrames returns the frames of one cycle of the round robin over
// feeds through their pools, or 0 when it exceeds maxPoolRing.
func poolCycleFrames(feeds []*channelFeed) int {
	// Feed i sends its pool entry k%len(pool) in round k: the whole
	// sequence repeats after lcm(pool lengths) rounds.
	rounds := 1
	for _, c := range feeds {
		if len(c.pool) == 0 {
			return 0
		}
		rounds = rounds / gcd(rounds, len(c.pool)) * len(c.pool)
		if rounds*len(feeds) > maxPoolRing {
			return 0
		}
	}
	frames := 0
	for _, c := range feeds {
		n := 0
		for _, e := range c.pool {
			size := len(e.data)
			if e.reseq {
				// At most this many bytes of sequence fields.
				size += 2 + binary.MaxVarintLen32 + binary.MaxVarintLen64
			}
			n += c.flow.frames(size)
		}
		frames += n * (rounds / len(c.pool))
	}
	if frames > maxPoolRing {
		return 0
	}
	return frames
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ChannelStats is what a feed sent on one channel.
type ChannelStats struct {
	Channel    int    `json:"channel"`
	VLAN       int    `json:"vlan"` // -1: untagged
	Datagrams  uint64 `json:"datagrams"`
	Frames     uint64 `json:"frames"`
	Payloads   uint64 `json:"payloads"`
	Bytes      uint64 `json:"bytes"` // UDP payload bytes (NMSG containers)
	FrameBytes uint64 `json:"frame_bytes"`
	SequenceID uint64 `json:"sequence_id"`
}

// FeedStats is what a feed sent.
type FeedStats struct {
	Channels []ChannelStats `json:"channels"`
	Elapsed  time.Duration  `json:"elapsed_ns"`
	VLAN     string         `json:"vlan"`
	TX       TXStats        `json:"tx"`
}

// Total sums the channels.
func (s *FeedStats) Total() ChannelStats {
	t := ChannelStats{Channel: -1, VLAN: -1}
	for _, c := range s.Channels {
		t.Datagrams += c.Datagrams
		t.Frames += c.Frames
		t.Payloads += c.Payloads
		t.Bytes += c.Bytes
		t.FrameBytes += c.FrameBytes
	}
	return t
}

// channelFeed is one channel's sender.
type channelFeed struct {
	flow  flow
	stats *ChannelStats
	gen   synth.Generator
	w     *nmsg.Writer
	dec   *nmsg.Decoder
	sink  frameSink
	pl    nmsg.Payload
	buf   []byte
	// pool mode
	pool []pooled
	next int
	seq  uint32
	tail []byte
	hdr  [nmsg.HeaderSize]byte
}

// pooled is a pre-generated datagram.
type pooled struct {
	data     []byte // container; without its sequence fields when reseq
	sum      uint64 // ones' complement sum of data[HeaderSize:]
	payloads int    // payloads it completes (a fragment set counts at its last fragment)
	reseq    bool
}

// Write receives each datagram from the nmsg.Writer (live mode).
func (c *channelFeed) Write(b []byte) (int, error) {
	pls, err := c.dec.Datagram(c.flow.Src(), b, time.Now())
	if err != nil {
		return 0, fmt.Errorf("check generated datagram: %w", err)
	}
	d := parts{b}
	if err := c.send(&d, csum(b), len(pls), noStable); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *channelFeed) send(d *parts, sum uint64, payloads, stable int) error {
	frames, fbytes, err := c.flow.emit(c.sink, d, sum, stable)
	c.stats.Frames += uint64(frames)
	c.stats.FrameBytes += uint64(fbytes)
	if err != nil {
		return err
	}
	c.stats.Datagrams++
	c.stats.Bytes += uint64(d.len())
	c.stats.Payloads += uint64(payloads)
	return nil
}

// step sends at least one datagram.
func (c *channelFeed) step() error {
	if c.pool != nil {
		return c.stepPool()
	}
	before := c.stats.Datagrams
	for c.stats.Datagrams == before {
		c.buf = c.gen.Next(&c.pl, c.buf[:0])
		if err := c.w.Write(&c.pl); err != nil {
			return err
		}
	}
	return nil
}

func (c *channelFeed) stepPool() error {
	e := &c.pool[c.next]
	c.next = (c.next + 1) % len(c.pool)
	if !e.reseq {
		d := parts{e.data}
		// The pool's bytes never change.
		return c.send(&d, csum(e.data[:nmsg.HeaderSize])+e.sum, e.payloads, 0)
	}
	c.tail = protowire.AppendTag(c.tail[:0], 3, protowire.VarintType)
	c.tail = protowire.AppendVarint(c.tail, uint64(c.seq))
	c.tail = protowire.AppendTag(c.tail, 4, protowire.VarintType)
	c.tail = protowire.AppendVarint(c.tail, c.stats.SequenceID)
	c.seq++
	copy(c.hdr[:], e.data[:nmsg.HeaderSize])
	n := uint32(len(e.data) - nmsg.HeaderSize + len(c.tail))
	c.hdr[6], c.hdr[7], c.hdr[8], c.hdr[9] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	d := parts{c.hdr[:], e.data[nmsg.HeaderSize:], c.tail}
	sum := addFold(addFold(csum(c.hdr[:]), e.sum), sumAt(csum(c.tail), len(e.data)))
	return c.send(&d, sum, e.payloads, 1)
}

// poolSink collects the datagrams of the pool.
type poolSink struct {
	c     *channelFeed
	seqID uint64
	whole uint32 // containers completed so far: the next one's sequence number
}

func (p *poolSink) Write(b []byte) (int, error) {
	pls, err := p.c.dec.Datagram(p.c.flow.Src(), b, time.Now())
	if err != nil {
		return 0, fmt.Errorf("check generated datagram: %w", err)
	}
	h, err := nmsg.ParseHeader(b)
	if err != nil {
		return 0, err
	}
	e := pooled{data: slices.Clone(b), payloads: len(pls)}
	if h.Flags == 0 {
		// A whole plain container ends with its sequence fields: strip
		// them so stepPool can write fresh ones.
		var t []byte
		t = protowire.AppendTag(t, 3, protowire.VarintType)
		t = protowire.AppendVarint(t, uint64(p.whole))
		t = protowire.AppendTag(t, 4, protowire.VarintType)
		t = protowire.AppendVarint(t, p.seqID)
		if n := len(e.data) - len(t); n > nmsg.HeaderSize && string(e.data[n:]) == string(t) {
			e.data, e.reseq = e.data[:n], true
		}
	}
	if h.Flags&nmsg.FlagFragment == 0 || len(pls) > 0 {
		p.whole++
	}
	e.sum = csum(e.data[nmsg.HeaderSize:])
	p.c.pool = append(p.c.pool, e)
	return len(b), nil
}

// Feed sends a synthetic SIE feed from the switch into the SIE link, as
// cfg describes, and returns what it sent per channel. It stops at the
// first of cfg's bounds or when ctx ends (not an error).
func (l *Lab) Feed(ctx context.Context, cfg FeedConfig) (*FeedStats, error) {
	if cfg.Channels == nil {
		cfg.Channels = l.Channels
	}
	if len(cfg.Channels) == 0 {
		return nil, errors.New("start feed: no channels")
	}
	for _, ch := range cfg.Channels {
		if err := CheckChannel(ch); err != nil {
			return nil, err
		}
	}
	if cfg.ContainerSize == 0 {
		cfg.ContainerSize = 8192
	}
	if cfg.MTU == 0 {
		cfg.MTU = l.MTU
	}
	if cfg.MTU < 576 || cfg.MTU > l.MTU {
		return nil, fmt.Errorf("check mtu %d: outside 576..%d (the link's)", cfg.MTU, l.MTU)
	}
	if cfg.Duration == 0 && cfg.Count == 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.TXRings < 0 || cfg.TXRings > MaxTXRings {
		return nil, fmt.Errorf("check tx rings %d: outside 0..%d", cfg.TXRings, MaxTXRings)
	}
	start := time.Now()
	feeds := make([]*channelFeed, len(cfg.Channels))
	st := &FeedStats{Channels: make([]ChannelStats, len(cfg.Channels)), VLAN: cfg.VLAN.String()}
	for i, ch := range cfg.Channels {
		c := &channelFeed{flow: newFlow(ch, l.Switch.MAC, cfg.VLAN != VLANNone, cfg.MTU), stats: &st.Channels[i], dec: nmsg.NewDecoder()}
		c.stats.Channel, c.stats.VLAN, c.stats.SequenceID = ch, c.flow.vlan, rand.Uint64()|1
		mixed := synth.NewMixed(cfg.Seed+uint64(ch), start.Unix(), cfg.Mix, cfg.RepeatShare, 20000)
		mixed.SetLargeShare(cfg.LargeShare)
		c.gen = mixed
		opts := nmsg.WriterOptions{ContainerSize: cfg.ContainerSize, Zlib: cfg.Zlib, Sequence: true, SequenceID: c.stats.SequenceID}
		if cfg.Pool > 0 {
			ps := &poolSink{c: c, seqID: c.stats.SequenceID}
			w := nmsg.NewWriter(ps, opts)
			for len(c.pool) < cfg.Pool {
				c.buf = c.gen.Next(&c.pl, c.buf[:0])
				if err := w.Write(&c.pl); err != nil {
					return nil, fmt.Errorf("generate pool: %w", err)
				}
			}
			// The pool ends on a container boundary, so fragment sets
			// are whole; a renumbered pool continues the sequence.
			if err := w.Flush(); err != nil {
				return nil, fmt.Errorf("generate pool: %w", err)
			}
			c.seq = ps.whole
			c.stats.SequenceID = ps.seqID
		} else {
			c.w = nmsg.NewWriter(c, opts)
		}
		feeds[i] = c
	}
	rings := max(1, min(cfg.TXRings, len(feeds)))
	if cfg.VLAN == VLANMetadata {
		off, err := AttachVLANOffload(&l.Switch)
		if err != nil {
			return nil, err
		}
		defer off.Close()
	}
	senders := make([]*sender, rings)
	for i := range senders {
		senders[i] = &sender{}
	}
	for i, c := range feeds {
		senders[i%rings].feeds = append(senders[i%rings].feeds, c)
	}
	defer func() {
		for _, s := range senders {
			if s.ring != nil {
				s.ring.Close()
			}
		}
	}()
	for _, s := range senders {
		frames := cfg.TXFrames
		if frames == 0 && cfg.Pool > 0 {
			frames = poolCycleFrames(s.feeds)
		}
		err := l.Switch.NS.Do(func() (err error) {
			s.ring, err = NewTXRing(TXRingConfig{Ifindex: l.Switch.Index, MaxFrame: ethHeader + vlanHeader + l.MTU,
				Frames: frames, Batch: cfg.TXBatch, QdiscBypass: cfg.VLAN != VLANMetadata})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, c := range s.feeds {
			c.sink = s.ring
		}
	}
	err := runSenders(ctx, cfg, senders, st)
	for _, s := range senders {
		st.TX.add(s.ring.Stats)
	}
	return st, err
}

// sender is one TX ring and the channels it sends.
type sender struct {
	ring  *TXRing
	feeds []*channelFeed
}

// runSenders runs every sender on its own locked OS thread and waits for
// all of them. The rate and the count bound are shared: each sender paces
// to its share of the rate, and a datagram is sent only after it was
// counted against cfg.Count.
func runSenders(ctx context.Context, cfg FeedConfig, senders []*sender, st *FeedStats) error {
	start := time.Now()
	var sent atomic.Uint64
	share := cfg
	share.PPS /= float64(len(senders))
	share.BPS /= float64(len(senders))
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if len(senders) > 1 {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			errs[i] = run(ctx, share, start, s.ring, s.feeds, &sent)
			if ferr := s.ring.Flush(); errs[i] == nil {
				errs[i] = ferr
			}
		}()
	}
	wg.Wait()
	st.Elapsed = time.Since(start)
	return errors.Join(errs...)
}

// run sends round robin over feeds through ring, pacing to the configured
// rate, until the deadline, ctx's end or cfg.Count datagrams counted in
// sent (shared by all senders of the feed).
func run(ctx context.Context, cfg FeedConfig, start time.Time, ring *TXRing, feeds []*channelFeed, sent *atomic.Uint64) error {
	deadline := time.Time{}
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
	}
	var frames, fbytes uint64
	paced := cfg.PPS > 0 || cfg.BPS > 0
	i := 0
	for n := 0; ; n++ {
		if paced || n&63 == 0 {
			if n&63 == 0 && ctx.Err() != nil {
				break
			}
			now := time.Now()
			if !deadline.IsZero() && !now.Before(deadline) {
				break
			}
			if wait := pace(cfg, now.Sub(start), frames, fbytes); wait > 0 {
				if err := ring.Flush(); err != nil {
					return err
				}
				time.Sleep(min(wait, 10*time.Millisecond))
				continue
			}
		}
		// Claim the datagram before sending it, so that several
		// senders together never exceed the count.
		if cfg.Count > 0 && sent.Add(1) > cfg.Count {
			break
		}
		c := feeds[i]
		i = (i + 1) % len(feeds)
		fb, bb := c.stats.Frames, c.stats.FrameBytes
		d := c.stats.Datagrams
		if err := c.step(); err != nil {
			return err
		}
		if cfg.Count > 0 {
			// A step that finished a fragment set sent more than
			// the one datagram claimed.
			sent.Add(c.stats.Datagrams - d - 1)
		}
		frames += c.stats.Frames - fb
		fbytes += c.stats.FrameBytes - bb
	}
	return nil
}

// pace returns how long to wait before sending more, given what was sent
// after elapsed.
func pace(cfg FeedConfig, elapsed time.Duration, frames, fbytes uint64) time.Duration {
	var wait time.Duration
	if cfg.PPS > 0 {
		due := time.Duration(float64(frames) / cfg.PPS * float64(time.Second))
		wait = max(wait, due-elapsed)
	}
	if cfg.BPS > 0 {
		due := time.Duration(float64(fbytes*8) / cfg.BPS * float64(time.Second))
		wait = max(wait, due-elapsed)
	}
	return wait
}

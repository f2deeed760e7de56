package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/siecap/siecap/nmsg"
)

// ReplayConfig describes how Replay sends a file.
type ReplayConfig struct {
	// Channel to send on (1..511).
	Channel int
	VLAN    VLANMode
	// ContainerSize of the datagrams (0: 8192); the file's payloads are
	// repacked as nmsgtool does when it reads a file and writes to UDP.
	ContainerSize int
	Zlib          bool
	// MTU is the IP MTU (0: the link's).
	MTU int
	// PPS or BPS limit the rate (frames, frame bits per second); 0: as
	// fast as the ring goes.
	PPS, BPS float64
	// Progress, when set, is called about every 50 ms with the file
	// offset reached and what was sent so far.
	Progress func(offset int64, sent ChannelStats)
}

// Replay sends the NMSG stream r (a file of containers) into the SIE link
// on one channel, with fresh sequence numbers, until the stream ends or
// ctx does. Damaged containers are skipped and counted in the returned
// decoder statistics.
func (l *Lab) Replay(ctx context.Context, r io.Reader, cfg ReplayConfig) (*FeedStats, nmsg.Stats, error) {
	if err := CheckChannel(cfg.Channel); err != nil {
		return nil, nmsg.Stats{}, err
	}
	if cfg.ContainerSize == 0 {
		cfg.ContainerSize = 8192
	}
	if cfg.MTU == 0 {
		cfg.MTU = l.MTU
	}
	if cfg.MTU < 576 || cfg.MTU > l.MTU {
		return nil, nmsg.Stats{}, fmt.Errorf("check mtu %d: outside 576..%d (the link's)", cfg.MTU, l.MTU)
	}
	st := &FeedStats{Channels: make([]ChannelStats, 1), VLAN: cfg.VLAN.String()}
	c := &channelFeed{flow: newFlow(cfg.Channel, l.Switch.MAC, cfg.VLAN != VLANNone, cfg.MTU), stats: &st.Channels[0], dec: nmsg.NewDecoder()}
	c.stats.Channel, c.stats.VLAN, c.stats.SequenceID = cfg.Channel, c.flow.vlan, rand.Uint64()|1
	w := nmsg.NewWriter(c, nmsg.WriterOptions{ContainerSize: cfg.ContainerSize, Zlib: cfg.Zlib, Sequence: true, SequenceID: c.stats.SequenceID})
	var ring *TXRing
	err := l.Switch.NS.Do(func() (err error) {
		ring, err = NewTXRing(TXRingConfig{Ifindex: l.Switch.Index, MaxFrame: ethHeader + vlanHeader + l.MTU,
			QdiscBypass: cfg.VLAN != VLANMetadata})
		return err
	})
	if err != nil {
		return nil, nmsg.Stats{}, err
	}
	defer ring.Close()
	if cfg.VLAN == VLANMetadata {
		off, err := AttachVLANOffload(&l.Switch)
		if err != nil {
			return nil, nmsg.Stats{}, err
		}
		defer off.Close()
	}
	c.sink = ring
	rd := nmsg.NewReader(r)
	pcfg := FeedConfig{PPS: cfg.PPS, BPS: cfg.BPS}
	start := time.Now()
	lastProgress := start
	for n := 0; ; n++ {
		if n&63 == 0 && ctx.Err() != nil {
			break
		}
		if cfg.PPS > 0 || cfg.BPS > 0 {
			if wait := pace(pcfg, time.Since(start), c.stats.Frames, c.stats.FrameBytes); wait > 0 {
				if err = ring.Flush(); err != nil {
					break
				}
				time.Sleep(min(wait, 10*time.Millisecond))
				n--
				continue
			}
		}
		p, rerr := rd.Next()
		if errors.Is(rerr, io.EOF) {
			break
		}
		var nerr *nmsg.Error
		if errors.As(rerr, &nerr) && !nerr.Fatal {
			continue
		}
		if rerr != nil {
			err = fmt.Errorf("read nmsg stream: %w", rerr)
			break
		}
		if err = w.Write(p); err != nil {
			break
		}
		if cfg.Progress != nil && n&15 == 0 {
			if now := time.Now(); now.Sub(lastProgress) >= 50*time.Millisecond {
				lastProgress = now
				cfg.Progress(rd.Offset(), *c.stats)
			}
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if ferr := ring.Flush(); err == nil {
		err = ferr
	}
	st.TX, st.Elapsed = ring.Stats, time.Since(start)
	if cfg.Progress != nil {
		cfg.Progress(rd.Offset(), *c.stats)
	}
	return st, rd.Stats, err
}

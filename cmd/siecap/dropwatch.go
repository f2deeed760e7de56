package main

import "time"

// dropWatchInterval is how often the daemon reads its drop counters to log
// when a place starts or stops dropping.
const dropWatchInterval = time.Second

// dropWatch turns a growing drop counter into state changes: the first
// interval that adds drops starts an episode, the first one that adds none
// ends it. The daemon logs one line for each, never one per drop; the
// counters themselves are in /metrics.
type dropWatch struct {
	last     uint64
	dropping bool
	since    time.Time // start of the episode
	episode  uint64    // dropped in the episode so far
}

// dropChange is what one reading of a drop counter changed.
type dropChange struct {
	started, stopped bool
	added            uint64        // drops since the previous reading
	episode          uint64        // stopped: what the episode dropped in all
	lasted           time.Duration // stopped: how long it lasted
}

// observe takes a reading of the counter (total drops so far) at now. The
// counters start from zero with the daemon or the channel, as the zero
// dropWatch does; a counter that goes back (a channel replaced on reload)
// sets a new baseline.
func (w *dropWatch) observe(now time.Time, total uint64) dropChange {
	if total < w.last {
		w.last = total
		return dropChange{}
	}
	c := dropChange{added: total - w.last}
	w.last = total
	switch {
	case c.added > 0 && !w.dropping:
		w.dropping, w.since, w.episode = true, now, c.added
		c.started = true
	case c.added > 0:
		w.episode += c.added
	case w.dropping:
		w.dropping = false
		c.stopped, c.episode, c.lasted = true, w.episode, now.Sub(w.since)
	}
	return c
}

// watchDrops logs, every dropWatchInterval until done is closed, when a
// capture interface's socket rings or a channel's pipeline rings start and
// stop dropping.
func (d *daemon) watchDrops(done <-chan struct{}) {
	t := time.NewTicker(dropWatchInterval)
	defer t.Stop()
	capW := map[string]*dropWatch{}
	pipeW := map[uint16]*dropWatch{}
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			for _, ifc := range d.ifaces {
				st, err := ifc.cap.Stats()
				if err != nil {
					continue // /readyz reports a failing capture
				}
				c := watchOf(capW, ifc.name).observe(now, st.Total.Drops)
				switch {
				case c.started:
					d.log.Warn("capture dropping", "interface", ifc.name, "dropped", c.added, "freezes", st.Total.Freezes,
						"hint", "the socket rings filled before the readers emptied them: raise capture.block_count, or give the daemon more CPU")
				case c.stopped:
					d.log.Info("capture no longer dropping", "interface", ifc.name, "dropped", c.episode,
						"lasted", c.lasted.Round(time.Second))
				}
			}
			d.mu.Lock()
			chans := make(map[uint16]*channel, len(d.chans))
			for n, c := range d.chans {
				chans[n] = c
			}
			d.mu.Unlock()
			for n := range pipeW {
				if chans[n] == nil {
					delete(pipeW, n) // removed by a reload
				}
			}
			for n, ch := range chans {
				c := watchOf(pipeW, n).observe(now, ch.pipe.Stats().Dropped)
				switch {
				case c.started:
					d.log.Warn("pipeline dropping", "channel", n, "dropped", c.added,
						"hint", "the rings to the channel's shards filled: dedupe, compression or the spool cannot keep up")
				case c.stopped:
					d.log.Info("pipeline no longer dropping", "channel", n, "dropped", c.episode,
						"lasted", c.lasted.Round(time.Second))
				}
			}
		}
	}
}

// watchOf returns m's watch for key, adding one on first use.
func watchOf[K comparable](m map[K]*dropWatch, key K) *dropWatch {
	w := m[key]
	if w == nil {
		w = &dropWatch{}
		m[key] = w
	}
	return w
}

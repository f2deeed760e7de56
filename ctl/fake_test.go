package ctl

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// fakeDaemon is an in-memory daemon behind the server's interfaces.
type fakeDaemon struct {
	mu       sync.Mutex
	rules    RuleSet
	channels map[uint16]bool
	subs     map[uint16][]*Subscriber
	unsubs   int
	stored   map[uint16][]byte // what export returns per channel
	metrics  func(w *MetricWriter)
	sets     int
}

func newFakeDaemon() *fakeDaemon {
	return &fakeDaemon{
		channels: map[uint16]bool{202: true, 204: true},
		rules:    RuleSet{Channels: []ChannelRule{{Channel: 202, Action: ActionPass}, {Channel: 204, Action: ActionDeny, Types: []string{"SIE:newdomain"}}}},
		subs:     map[uint16][]*Subscriber{},
		stored:   map[uint16][]byte{204: []byte("NMSG-bytes-of-204")},
	}
}

func (d *fakeDaemon) backend() Backend {
	return Backend{Status: d, Channels: d, Rules: d, Spool: d, Export: d, Tail: d, Metrics: d}
}

func (d *fakeDaemon) Status() Status {
	return Status{Version: "test", Node: 1, Started: time.Unix(1700000000, 0).UTC(), Channels: 2,
		Interfaces: []InterfaceStatus{{Name: "eth1", Up: true, Filter: "socket", Sockets: 2}}}
}

func (d *fakeDaemon) Channels() Channels {
	return Channels{
		Channels: []ChannelInfo{{Number: 202, Name: "ch202", VLAN: 202, Action: "pass", Dedupe: "payload",
			Counters: map[string]uint64{"captured": 10, "kernel_dropped": 0}}},
		Discovered: []Discovered{{VLAN: 999, Packets: 3, Bytes: 300, NMSG: true}},
	}
}

func (d *fakeDaemon) Rules() RuleSet {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rules
}

func (d *fakeDaemon) SetRules(rs RuleSet) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, r := range rs.Channels {
		if !d.channels[r.Channel] {
			return &InvalidError{Field: fmt.Sprintf("channels[%d].channel", i), Msg: fmt.Sprintf("channel %d is not configured", r.Channel)}
		}
	}
	d.rules = rs
	d.sets++
	return nil
}

func (d *fakeDaemon) Spool() SpoolInfo {
	return SpoolInfo{Dir: "/spool", UsedBytes: 1 << 20, MaxBytes: 1 << 30,
		Segments: []SegmentInfo{{ID: "00000001-000000cc-0000000000000001", Channel: 204, State: "sealed", Bytes: 1 << 20}},
		Ledger:   []LossEntry{{Reason: "budget", Segment: "00000001-000000cc-0000000000000000", Bytes: 64 << 20}}}
}

func (d *fakeDaemon) Export(q ExportQuery) (func(io.Writer) error, error) {
	data, ok := d.stored[q.Channel]
	if !ok {
		return nil, fmt.Errorf("export channel %d: %w", q.Channel, ErrNotFound)
	}
	return func(w io.Writer) error {
		if q.Format == ExportJSON {
			_, err := fmt.Fprintf(w, "{\"channel\":%d,\"from\":%q,\"counts\":%v}\n", q.Channel, q.From.Format(time.RFC3339), q.WithCounts)
			return err
		}
		_, err := w.Write(data)
		return err
	}, nil
}

func (d *fakeDaemon) Subscribe(ch uint16, s *Subscriber) (func(), error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.channels[ch] {
		return nil, fmt.Errorf("subscribe to channel %d: %w", ch, ErrNotFound)
	}
	d.subs[ch] = append(d.subs[ch], s)
	return func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for i, x := range d.subs[ch] {
			if x == s {
				d.subs[ch] = append(d.subs[ch][:i], d.subs[ch][i+1:]...)
				d.unsubs++
				break
			}
		}
	}, nil
}

// publish offers n payloads of size bytes to channel ch's subscribers,
// as the capture path would, and returns how many were taken.
func (d *fakeDaemon) publish(ch uint16, n, size int) int {
	d.mu.Lock()
	subs := append([]*Subscriber(nil), d.subs[ch]...)
	d.mu.Unlock()
	taken := 0
	for i := range n {
		for _, s := range subs {
			if s.Offer(func(dst []byte) []byte {
				dst = fmt.Appendf(dst, `{"seq":%d,"pad":"`, i)
				for range size {
					dst = append(dst, 'x')
				}
				return append(dst, `"}`...)
			}) {
				taken++
			}
		}
	}
	return taken
}

func (d *fakeDaemon) subscribers(ch uint16) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.subs[ch])
}

func (d *fakeDaemon) WriteMetrics(w *MetricWriter) {
	if d.metrics != nil {
		d.metrics(w)
	}
}

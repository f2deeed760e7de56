package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/buildinfo"
	"github.com/siecap/siecap/internal/config"
)

// The daemon as the control API sees it (ctl.Backend).

func (d *daemon) startControl() error {
	srv, err := ctl.New(ctl.Backend{
		Status:   d,
		Channels: d,
		Rules:    d,
		Spool:    d,
		Export:   d,
		Tail:     d,
		Metrics:  d,
	}, controlOptions(d.cfg, d.log))
	if err != nil {
		return fmt.Errorf("configure control API: %w", err)
	}
	for _, ifc := range d.ifaces {
		srv.AddCheck("capture "+ifc.name, ifc.healthy)
	}
	srv.AddCheck("spool", func() error { return d.sp.Err() })
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start control API: %w", err)
	}
	d.srv = srv
	d.log.Info("control API listening", "socket", d.cfg.Control.Socket, "tcp", d.cfg.Control.TCP)
	return nil
}

// Status implements ctl.StatusSource.
func (d *daemon) Status() ctl.Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := ctl.Status{Version: buildinfo.String(), Node: d.cfg.Spool.NodeID, Started: d.started, Channels: len(d.chans)}
	for _, ifc := range d.ifaces {
		up := ifc.healthy() == nil
		st.Interfaces = append(st.Interfaces, ctl.InterfaceStatus{Name: ifc.name, Up: up, Filter: ifc.filter, FilterBuild: ifc.filterBuild, Sockets: d.cfg.Capture.Sockets})
	}
	return st
}

// Channels implements ctl.ChannelSource.
func (d *daemon) Channels() ctl.Channels {
	d.mu.Lock()
	defer d.mu.Unlock()
	var kc map[uint32]bpf.ChannelCounters
	if d.filter != nil {
		kc, _ = d.filter.Counters()
	}
	var out ctl.Channels
	for _, n := range sortedChannels(d.chans) {
		c := d.chans[n]
		info := ctl.ChannelInfo{Number: n, Name: c.cfg.Name, VLAN: c.cfg.VLAN, Action: c.cfg.Rules.Action.String(), Dedupe: c.cfg.Dedupe.String(), Counters: map[string]uint64{}}
		for _, a := range c.cfg.Addresses {
			info.Addresses = append(info.Addresses, a.String())
		}
		if k, ok := kc[kernelID(n)]; ok {
			info.Counters["kernel_passed"] = k[bpf.ReasonPass].Payloads
			info.Counters["kernel_dropped"] = k[bpf.ReasonDrop].Payloads + k[bpf.ReasonDropDefault].Payloads
			info.Counters["kernel_dropped_packets"] = k[bpf.ReasonDrop].Packets + k[bpf.ReasonDropDefault].Packets
			// Every verdict's packets and bytes: "kernel_not_nmsg_packets"
			// and so on (kernel_opaque_packets among them).
			for r := range bpf.Reason(bpf.NumReasons) {
				info.Counters[kernelCounter(r, "packets")] = k[r].Packets
				info.Counters[kernelCounter(r, "bytes")] = k[r].Bytes
			}
		}
		ps := c.pipe.Stats()
		info.Counters["captured"] = ps.Payloads
		info.Counters["filtered"] = ps.Filtered
		info.Counters["deduped"] = ps.Deduped
		info.Counters["stored"] = ps.Stored
		info.Counters["lost"] = ps.Dropped + ps.Failed
		info.Counters["lost_ring_full"] = ps.Dropped
		info.Counters["lost_spool"] = ps.Failed
		info.Counters["rejected"] = ps.Rejected
		out.Channels = append(out.Channels, info)
	}
	if d.filter != nil {
		disc, _ := d.filter.Discovery()
		for _, e := range disc {
			dd := ctl.Discovered{Packets: e.Packets, Bytes: e.Bytes, NMSG: true}
			if e.HasVLAN {
				dd.VLAN = e.VLAN
			} else {
				dd.Address = e.Dst.String()
			}
			out.Discovered = append(out.Discovered, dd)
		}
	}
	return out
}

// kernelCounter names a kernel verdict's counter in ChannelInfo.Counters,
// e.g. "kernel_not_nmsg_packets" for ReasonNotNMSG and unit "packets".
func kernelCounter(r bpf.Reason, unit string) string {
	return "kernel_" + strings.ReplaceAll(r.String(), "-", "_") + "_" + unit
}

func sortedChannels(m map[uint16]*channel) []uint16 {
	ns := make([]uint16, 0, len(m))
	for n := range m {
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	return ns
}

// Rules implements ctl.RuleStore.
func (d *daemon) Rules() ctl.RuleSet {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ruleSet(d.cfg)
}

// SetRules implements ctl.RuleStore: the new rules replace the old ones in
// the kernel filter (one map update) and in every channel's pipeline.
func (d *daemon) SetRules(rs ctl.RuleSet) error {
	rules, err := configRules(rs)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	next := *d.cfg
	next.Channels = append([]config.Channel(nil), d.cfg.Channels...)
	for i, cr := range rs.Channels {
		if _, ok := d.chans[cr.Channel]; !ok {
			return &ctl.InvalidError{Field: fmt.Sprintf("channels[%d].channel", i), Msg: fmt.Sprintf("channel %d is not configured", cr.Channel)}
		}
	}
	for j := range next.Channels {
		if r, ok := rules[next.Channels[j].Number]; ok {
			next.Channels[j].Rules = r
		}
	}
	return d.applyRules(&next)
}

// applyRules installs the rules of next (same channels as the running
// configuration) in the kernel and the pipelines. Called with d.mu held.
func (d *daemon) applyRules(next *config.Config) error {
	if d.filter != nil {
		rs, err := bpf.Compile(filterConfig(next))
		if err != nil {
			return &ctl.InvalidError{Msg: err.Error()}
		}
		if err := d.filter.Update(rs); err != nil {
			return fmt.Errorf("install kernel rules: %w", err)
		}
	}
	for _, cc := range next.Channels {
		if c := d.chans[cc.Number]; c != nil {
			c.pipe.SetRules(pipelineRules(cc.Rules))
			c.cfg.Rules = cc.Rules
		}
	}
	d.cfg = next
	d.log.Info("rules replaced", "channels", len(next.Channels))
	return nil
}

// Spool implements ctl.SpoolSource.
func (d *daemon) Spool() ctl.SpoolInfo {
	info, err := spoolInfo(d.sp)
	if err != nil {
		d.log.Warn("list spool", "err", err)
	}
	info.Dir, info.MaxBytes = d.sp.Dir(), int64(d.cfg.Spool.MaxBytes)
	return info
}

// WriteMetrics implements ctl.MetricsSource: every drop counter of every
// stage, per channel.
func (d *daemon) WriteMetrics(w *ctl.MetricWriter) {
	chans := d.Channels()
	for _, c := range chans.Channels {
		ch := ctl.L("channel", strconv.Itoa(int(c.Number)))
		for _, k := range []struct{ name, counter, help string }{
			{"siecap_kernel_passed_payloads_total", "kernel_passed", "Payloads the kernel filter passed."},
			{"siecap_kernel_dropped_payloads_total", "kernel_dropped", "Payloads the kernel filter dropped by rule."},
			{"siecap_kernel_dropped_packets_total", "kernel_dropped_packets", "Packets the kernel filter dropped."},
			{"siecap_captured_payloads_total", "captured", "Payloads decoded from captured datagrams."},
			{"siecap_filtered_payloads_total", "filtered", "Payloads user space dropped by rule."},
			{"siecap_deduped_payloads_total", "deduped", "Duplicate payloads suppressed (counted in the records)."},
			{"siecap_stored_payloads_total", "stored", "Payloads made durable in the spool."},
			{"siecap_lost_payloads_total", "lost", "Payloads lost to full rings or spool failures."},
			{"siecap_rejected_total", "rejected", "Damaged containers, fragments and payloads rejected by the decoder."},
		} {
			w.Counter(k.name, k.help, float64(c.Counters[k.counter]), ch)
		}
		for _, cause := range []string{"ring_full", "spool"} {
			w.Counter("siecap_lost_payloads_by_cause_total", "Payloads lost, by cause: a full ring between reader and shard, or a spool that stopped.",
				float64(c.Counters["lost_"+cause]), ch, ctl.L("cause", cause))
		}
		if _, ok := c.Counters[kernelCounter(bpf.ReasonPass, "packets")]; ok {
			for r := range bpf.Reason(bpf.NumReasons) {
				v := ctl.L("verdict", r.String())
				w.Counter("siecap_kernel_packets_total", "Packets the kernel filter judged, by verdict.", float64(c.Counters[kernelCounter(r, "packets")]), ch, v)
				w.Counter("siecap_kernel_bytes_total", "Bytes of the packets the kernel filter judged, by verdict.", float64(c.Counters[kernelCounter(r, "bytes")]), ch, v)
			}
		}
	}
	d.writeRingMetrics(w)
	for _, ifc := range d.ifaces {
		st, err := ifc.cap.Stats()
		if err != nil {
			continue
		}
		l := ctl.L("interface", ifc.name)
		w.Counter("siecap_capture_packets_total", "Packets the capture sockets saw.", float64(st.Total.Packets), l)
		w.Counter("siecap_capture_drops_total", "Packets the capture sockets dropped (ring full).", float64(st.Total.Drops), l)
		w.Counter("siecap_capture_freezes_total", "Capture ring queue freezes.", float64(st.Total.Freezes), l)
	}
	w.Counter("siecap_frames_not_udp_total", "Captured frames that were not a whole UDP datagram.", float64(d.notUDP.Load()))
	w.Counter("siecap_datagrams_unrouted_total", "Captured datagrams for no configured channel.", float64(d.unrouted.Load()))
	ss := d.sp.Stats()
	w.Counter("siecap_spool_durable_bytes_total", "Bytes made durable in the spool.", float64(ss.DurableBytes))
	w.Counter("siecap_spool_evicted_segments_total", "Segments evicted into the loss ledger.", float64(ss.Evicted))
	w.Counter("siecap_spool_evicted_bytes_total", "Bytes evicted into the loss ledger.", float64(ss.EvictedBytes))
	if info, err := spoolInfo(d.sp); err == nil {
		states := map[string]float64{"open": 0, "sealed": 0, "quarantined": 0}
		for _, s := range info.Segments {
			states[s.State]++
		}
		w.Gauge("siecap_spool_bytes", "Bytes in the spool's segments.", float64(info.UsedBytes))
		for _, st := range []string{"open", "sealed", "quarantined"} {
			w.Gauge("siecap_spool_segments", "Segments in the spool, by state.", states[st], ctl.L("state", st))
		}
		var lost struct{ entries, bytes, payloads float64 }
		for _, l := range info.Ledger {
			lost.entries++
			lost.bytes += float64(l.Bytes)
			lost.payloads += float64(l.Payloads)
		}
		w.Counter("siecap_spool_ledger_entries_total", "Entries in the spool's loss ledger.", lost.entries)
		w.Counter("siecap_spool_ledger_bytes_total", "Bytes the loss ledger records as lost.", lost.bytes)
		w.Counter("siecap_spool_ledger_payloads_total", "Payloads the loss ledger records as lost.", lost.payloads)
	}
}

// Export implements ctl.Exporter: a channel's stored payloads in a time
// range, read from the running spool up to what is durable.
func (d *daemon) Export(q ctl.ExportQuery) (func(w io.Writer) error, error) {
	d.mu.Lock()
	_, ok := d.chans[q.Channel]
	aliases := d.aliases
	d.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("channel %d: %w", q.Channel, ctl.ErrNotFound)
	}
	format := string(q.Format)
	if format == "" {
		format = string(ctl.ExportJSON)
	}
	warn := func(err error) { d.log.Warn("export found damage", "channel", q.Channel, "err", err) }
	return func(w io.Writer) error {
		var counts map[countKey]uint64
		if q.WithCounts {
			counts, _ = duplicateCounts(d.sp, uint32(q.Channel), warn)
		}
		_, err := exportTo(w, d.sp, uint32(q.Channel), q.From, q.To, format, counts, aliases, warn)
		return err
	}, nil
}

// Subscribe implements ctl.TailSource: s is offered every payload of the
// channel that passes its rules, from the capture readers, until cancel.
func (d *daemon) Subscribe(channel uint16, s *ctl.Subscriber) (func(), error) {
	d.mu.Lock()
	c := d.chans[channel]
	d.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("channel %d: %w", channel, ctl.ErrNotFound)
	}
	c.subMu.Lock()
	defer c.subMu.Unlock()
	var next []*ctl.Subscriber
	if cur := c.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, s)
	c.subs.Store(&next)
	return func() {
		c.subMu.Lock()
		defer c.subMu.Unlock()
		var rest []*ctl.Subscriber
		for _, o := range *c.subs.Load() {
			if o != s {
				rest = append(rest, o)
			}
		}
		c.subs.Store(&rest)
	}, nil
}

// writeRingMetrics writes the fill level of every ring between a channel's
// capture readers and its dedupe shards.
func (d *daemon) writeRingMetrics(w *ctl.MetricWriter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range sortedChannels(d.chans) {
		for _, r := range d.chans[n].pipe.RingFill() {
			l := []ctl.Label{ctl.L("channel", strconv.Itoa(int(n))), ctl.L("reader", strconv.Itoa(r.Reader)), ctl.L("shard", strconv.Itoa(r.Shard))}
			w.Gauge("siecap_ring_batches", "Batches waiting in a ring from a capture reader to a dedupe shard.", float64(r.Len), l...)
			w.Gauge("siecap_ring_capacity_batches", "Capacity of a ring from a capture reader to a dedupe shard.", float64(r.Cap), l...)
		}
	}
}

package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/spool"
)

// The demo's reconciliation: where every payload the generator sent ended
// up, and the drop counters of every place on the way.

// tally is the demo's summary in payloads. On a machine that lost nothing
// before decoding, Sent = KernelDropped + Filtered + Stored + Deduped + Lost.
type tally struct {
	Sent, KernelDropped, Filtered, Stored, Deduped, Lost uint64
}

func (t tally) accounted() uint64 {
	return t.KernelDropped + t.Filtered + t.Stored + t.Deduped + t.Lost
}

func (t tally) balanced() bool { return t.Sent == t.accounted() }

func (t tally) line() string {
	return fmt.Sprintf("demo: sent %d payloads, kernel-dropped %d, filtered %d, stored %d, deduped %d, lost %d",
		t.Sent, t.KernelDropped, t.Filtered, t.Stored, t.Deduped, t.Lost)
}

func (t *tally) add(o tally) {
	t.Sent += o.Sent
	t.KernelDropped += o.KernelDropped
	t.Filtered += o.Filtered
	t.Stored += o.Stored
	t.Deduped += o.Deduped
	t.Lost += o.Lost
}

// spoolFigures is what the sealed spool holds, read after the daemon
// exited.
type spoolFigures struct {
	segments, sealed int
	bytes            int64
	payloads         map[uint16]uint64 // per channel
	lostPayloads     map[uint16]uint64 // loss ledger, per channel
	ledger           int
	verify           *spool.VerifyReport
}

func readSpool(dir string) (*spoolFigures, error) {
	r, err := spool.OpenReader(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	defer r.Close()
	segs, err := r.Segments()
	if err != nil {
		return nil, fmt.Errorf("list spool segments: %w", err)
	}
	f := &spoolFigures{payloads: map[uint16]uint64{}, lostPayloads: map[uint16]uint64{}}
	for _, s := range segs {
		f.segments++
		if s.State == spool.StateSealed {
			f.sealed++
		}
		f.bytes += s.Bytes
		f.payloads[uint16(s.ID.Channel)] += s.Payloads
	}
	losses, err := r.Losses()
	if err != nil {
		return nil, fmt.Errorf("read loss ledger: %w", err)
	}
	for _, l := range losses {
		f.ledger++
		f.lostPayloads[uint16(l.Segment.Channel)] += l.Payloads
	}
	if f.verify, err = spool.Verify(dir); err != nil {
		return nil, fmt.Errorf("verify spool: %w", err)
	}
	return f, nil
}

// report is everything the demo read at the end.
type report struct {
	feed    *lab.FeedStats
	chans   ctl.Channels // the daemon's counters once the capture drained
	metrics string       // its /metrics at the same time
	links   map[string]lab.LinkCounters
	softnet uint64
	spool   *spoolFigures
	// CPU time (user+sys) of the generator and the daemon.
	genCPU, daemonCPU time.Duration
	names             lab.Names
}

// print writes the drop counters of every place and returns the summary.
func (r *report) print(w io.Writer) tally {
	m := parseMetrics(r.metrics)
	tx, tot := r.feed.TX, r.feed.Total()
	sw, sie := r.links[r.names.SwitchLink], r.links[r.names.SIELink]
	fmt.Fprintf(w, "\ndrop counters, place by place:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  generator (TX ring)\t%d datagrams, %d payloads sent in %.1f s; %d frames in %d send calls, %d wrong format, %d send errors\n",
		tot.Datagrams, tot.Payloads, r.feed.Elapsed.Seconds(), tot.Frames, tx.SendCalls, tx.WrongFormat, tx.SendErrors)
	fmt.Fprintf(tw, "  veth %s (switch)\ttx %d packets, %d dropped\n", r.names.SwitchLink, sw.TxPackets, sw.TxDropped)
	fmt.Fprintf(tw, "  veth %s (appliance)\trx %d packets, %d dropped\n", r.names.SIELink, sie.RxPackets, sie.RxDropped)
	fmt.Fprintf(tw, "  softnet backlog\t%d dropped (host-wide)\n", r.softnet)
	fmt.Fprintf(tw, "  capture sockets\t%d packets, %d dropped (ring full), %d queue freezes\n",
		m["siecap_capture_packets_total"], m["siecap_capture_drops_total"], m["siecap_capture_freezes_total"])
	fmt.Fprintf(tw, "  routing\t%d frames not UDP, %d datagrams for no channel\n",
		m["siecap_frames_not_udp_total"], m["siecap_datagrams_unrouted_total"])
	fmt.Fprintf(tw, "  spool\t%d segments (%d sealed), %d bytes; %d segments evicted; loss ledger %d entries; verify: %d records, %d findings\n",
		r.spool.segments, r.spool.sealed, r.spool.bytes, m["siecap_spool_evicted_segments_total"], r.spool.ledger,
		r.spool.verify.Records, len(r.spool.verify.Findings))
	fmt.Fprintf(tw, "  cpu (user+sys)\tgenerator %.2f s, daemon %.2f s\n", r.genCPU.Seconds(), r.daemonCPU.Seconds())
	tw.Flush()

	fmt.Fprintf(w, "\nper channel, in payloads (kernel packets and decode rejects in their own units):\n")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "channel\tsent\tkernel-dropped\tkernel-dropped-pkts\tkernel-opaque-pkts\tcaptured\trejected\tfiltered\tdeduped\tlost\tstored\tdaemon-stored\tunaccounted\t")
	sent := map[uint16]uint64{}
	for _, c := range r.feed.Channels {
		sent[uint16(c.Channel)] = c.Payloads
	}
	var sum tally
	for _, ch := range r.chans.Channels {
		k := ch.Counters
		t := tally{
			Sent: sent[ch.Number], KernelDropped: k["kernel_dropped"], Filtered: k["filtered"],
			Stored: r.spool.payloads[ch.Number], Deduped: k["deduped"], Lost: k["lost"] + r.spool.lostPayloads[ch.Number],
		}
		sum.add(t)
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", ch.Number, t.Sent, t.KernelDropped, k["kernel_dropped_packets"], k["kernel_opaque_packets"],
			k["captured"], k["rejected"], t.Filtered, t.Deduped, t.Lost, t.Stored, k["stored"], int64(t.Sent)-int64(t.accounted()))
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t\t\t\t\t%d\t%d\t%d\t%d\t\t%d\t\n", sum.Sent, sum.KernelDropped, sum.Filtered, sum.Deduped,
		sum.Lost, sum.Stored, int64(sum.Sent)-int64(sum.accounted()))
	tw.Flush()
	if !sum.balanced() {
		fmt.Fprintf(w, "\n%d payloads are unaccounted for: they were lost before a payload counter saw them (see the\n"+
			"packet drops above) or a counter is wrong.\n", int64(sum.Sent)-int64(sum.accounted()))
	}
	return sum
}

func printLegend(w io.Writer) {
	fmt.Fprint(w, `
where the figures come from:
  sent            payloads siecap gen wrote into the datagrams it sent (its --json report)
  kernel-dropped  payloads the kernel filter counted in the containers it dropped (its per-channel verdict counters)
  filtered        payloads the pipelines dropped by the channel's message-type rule
  stored          payloads in the spool's segments, read from the sealed spool after the daemon exited
  deduped         duplicates the payload dedupe suppressed (each counted in the record of the stored copy)
  lost            payloads siecap counted as lost: batches dropped at a full ring between capture readers and
                  dedupe shards, failed spool writes, and segments the spool evicted (its loss ledger)
  A datagram dropped before decoding (TX ring, veth, backlog, capture socket) carries payloads no counter
  saw: it shows as unaccounted and fails the demo, with the packet counters above naming the place.

`)
}

// parseMetrics sums every sample of each metric over its labels.
func parseMetrics(text string) map[string]uint64 {
	out := map[string]uint64{}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return out
	}
	for n, fam := range fams {
		for _, mt := range fam.GetMetric() {
			out[n] += uint64(sampleValue(mt))
		}
	}
	return out
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

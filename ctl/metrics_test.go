package ctl

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestMetrics(t *testing.T) {
	d := newFakeDaemon()
	d.metrics = func(w *MetricWriter) {
		const h = "Frames the kernel filter saw, by channel and verdict."
		w.Counter("siecap_kernel_frames_total", h, 1000, L("channel", "204"), L("verdict", "pass"))
		w.Counter("siecap_kernel_frames_total", h, 25, L("channel", "204"), L("verdict", "drop"))
		w.Gauge("siecap_ring_fill_ratio", "How full each ring is.", 0.25, L("ring", "0"))
		w.Gauge("siecap_spool_used_bytes", "Bytes in the spool.", 1<<30)
		w.Counter("siecap_spool_lost_bytes_total", "Bytes evicted into the loss ledger.", 5<<20)
		// Mistakes: left out and counted.
		w.Counter("siecap_captured_packets", "A counter without _total.", 1)
		w.Gauge("siecap_things_total", "A gauge named like a counter.", 1)
		w.Gauge("siecap_kernel_frames_total", "A counter's name for a gauge.", 1)
		w.Gauge("siecap-bad-name", "Not a metric name.", 1)
		w.Gauge("siecap_label_mistake", "Bad label.", 1, L("__reserved", "x"))
	}
	s := startServer(t, d.backend(), Options{Version: "1.2.3"})
	c := unixClient(t, s)
	resp, err := c.hc.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			t.Errorf("counter %s does not end in _total", name)
		}
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
	}
	bi := fams["siecap_build_info"]
	if bi == nil || bi.GetType() != dto.MetricType_GAUGE || len(bi.Metric) != 1 || bi.Metric[0].GetGauge().GetValue() != 1 ||
		bi.Metric[0].Label[0].GetName() != "version" || bi.Metric[0].Label[0].GetValue() != "1.2.3" {
		t.Errorf("siecap_build_info = %v", bi)
	}
	kf := fams["siecap_kernel_frames_total"]
	if kf == nil || kf.GetType() != dto.MetricType_COUNTER || len(kf.Metric) != 2 || kf.Metric[1].GetCounter().GetValue() != 25 {
		t.Errorf("siecap_kernel_frames_total = %v", kf)
	}
	if g := fams["siecap_spool_used_bytes"]; g == nil || g.Metric[0].GetGauge().GetValue() != 1<<30 {
		t.Errorf("siecap_spool_used_bytes = %v", g)
	}
	for _, bad := range []string{"siecap_captured_packets", "siecap_things_total", "siecap-bad-name", "siecap_label_mistake"} {
		if fams[bad] != nil {
			t.Errorf("%s was written", bad)
		}
	}
	if e := fams["siecap_ctl_metric_errors_total"]; e == nil || e.Metric[0].GetCounter().GetValue() != 5 {
		t.Errorf("siecap_ctl_metric_errors_total = %v, want 5", e)
	}
	if r := fams["siecap_ready"]; r == nil || r.Metric[0].GetGauge().GetValue() != 0 {
		t.Errorf("siecap_ready = %v, want 0", r)
	}
}

package main

import (
	"testing"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/pipeline"
)

// TestDemoRulesTranslate checks the built-in configuration's rules as the
// kernel and the pipelines receive them, and that the kernel accepts them.
func TestDemoRulesTranslate(t *testing.T) {
	cfg := config.Default()
	fc := filterConfig(cfg)
	if len(fc.Channels) != len(cfg.Channels) {
		t.Fatalf("%d kernel channels for %d configured", len(fc.Channels), len(cfg.Channels))
	}
	if _, err := bpf.Compile(fc); err != nil {
		t.Fatalf("kernel rules: %v", err)
	}
	for _, c := range cfg.Channels {
		pr := pipelineRules(c.Rules)
		switch c.Number {
		case 204: // deny SIE:newdomain
			if pr.Pass(2, 5) || !pr.Pass(2, 1) {
				t.Errorf("channel 204: %+v", pr)
			}
		case 208: // drop
			if pr.Pass(2, 1) || pr.Pass(1, 9) {
				t.Errorf("channel 208: %+v", pr)
			}
		default:
			if !pr.Pass(2, 5) || !pr.Pass(1, 9) {
				t.Errorf("channel %d: %+v", c.Number, pr)
			}
		}
	}
	if got := pipelineConfig(cfg.Channels[2], 4, 64); got.Dedupe != pipeline.DedupeNone || got.Readers != 4 || got.Channel != 207 {
		t.Errorf("channel 207 pipeline config %+v", got)
	}
}

func TestVendorWildcardRule(t *testing.T) {
	r := pipelineRules(config.Rules{Action: config.Allow, Types: []config.TypeRef{{Vendor: 2, AnyType: true}}})
	for mt := uint32(1); mt <= 6; mt++ {
		if !r.Pass(2, mt) {
			t.Errorf("SIE type %d refused", mt)
		}
	}
	if r.Pass(1, 9) {
		t.Error("base/dnsqr passed an SIE-only rule")
	}
}

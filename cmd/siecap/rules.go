package main

import (
	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/nmsg/msgmod"
	"github.com/siecap/siecap/pipeline"
)

// The configuration's channels and rules, translated for the kernel filter
// and for the pipelines. The kernel numbers channels from 1 (0 names
// traffic on no channel), so its channel ID is the channel number plus one.

func kernelID(number uint16) uint32 { return uint32(number) + 1 }

func filterConfig(cfg *config.Config) bpf.Config {
	out := bpf.Config{DropUnconfigured: cfg.Capture.DropUnconfigured}
	for _, c := range cfg.Channels {
		bc := bpf.Channel{ID: kernelID(c.Number), Addrs: c.Addresses, Rule: kernelRule(c.Rules)}
		if c.VLAN != 0 {
			bc.VLANs = []uint16{c.VLAN}
		}
		out.Channels = append(out.Channels, bc)
	}
	return out
}

func kernelRule(r config.Rules) bpf.Rule {
	rule := bpf.Rule{CountPayloads: r.CountPayloads}
	switch r.Action {
	case config.PassAll:
		rule.Action = bpf.PassAll
	case config.DropAll:
		rule.Action = bpf.DropAll
	case config.Allow:
		rule.Action = bpf.Allow
	case config.Deny:
		rule.Action = bpf.Deny
	}
	for _, t := range r.Types {
		rule.Types = append(rule.Types, bpf.Type{Vendor: uint8(t.Vendor), MsgType: uint8(t.MsgType), AnyType: t.AnyType})
	}
	return rule
}

func pipelineConfig(c config.Channel, readers, ringSize int) pipeline.Config {
	pc := pipeline.Config{
		Channel:  uint32(c.Number),
		Rules:    pipelineRules(c.Rules),
		Window:   c.Window,
		Readers:  readers,
		RingSize: ringSize,
	}
	switch c.Dedupe {
	case config.DedupeRRset:
		pc.Dedupe = pipeline.DedupeRRset
	case config.DedupeNone:
		pc.Dedupe = pipeline.DedupeNone
	default:
		pc.Dedupe = pipeline.DedupePayload
	}
	return pc
}

// pipelineRules lists the types a rule names; a vendor named alone stands
// for every message type msgmod knows of that vendor.
func pipelineRules(r config.Rules) pipeline.Rules {
	var types []pipeline.TypeKey
	for _, t := range r.Types {
		if !t.AnyType {
			types = append(types, pipeline.TypeKey{Vid: t.Vendor, Msgtype: t.MsgType})
			continue
		}
		for _, m := range msgmod.Modules() {
			if m.Vid == t.Vendor {
				types = append(types, pipeline.TypeKey{Vid: m.Vid, Msgtype: m.Msgtype})
			}
		}
	}
	switch r.Action {
	case config.DropAll:
		return pipeline.Rules{Mode: pipeline.AllowOnly}
	case config.Allow:
		return pipeline.Rules{Mode: pipeline.AllowOnly, Types: types}
	case config.Deny:
		return pipeline.Rules{Mode: pipeline.DenyOnly, Types: types}
	}
	return pipeline.Rules{Mode: pipeline.AllowAll}
}

package ctl

import (
	"errors"
	"io"
	"time"
)

// StatusSource gives the daemon's overview.
type StatusSource interface {
	Status() Status
}

// ChannelSource gives the channels' state and the discovery counters of
// traffic on no configured channel.
type ChannelSource interface {
	Channels() Channels
}

// RuleStore holds the channels' rules. SetRules replaces them all at once
// (the kernel filter and the pipeline see either the old or the new set);
// it returns an *InvalidError when rs does not fit the running
// configuration (e.g. an unknown channel).
type RuleStore interface {
	Rules() RuleSet
	SetRules(rs RuleSet) error
}

// SpoolSource gives the spool's segments, usage and loss ledger.
type SpoolSource interface {
	Spool() SpoolInfo
}

// Exporter streams a channel's stored data. Export checks q and returns
// the function that writes the data; an error from Export is reported to
// the client (ErrNotFound, *InvalidError), one from write ends the stream.
type Exporter interface {
	Export(q ExportQuery) (write func(w io.Writer) error, err error)
}

// TailSource lets clients watch a channel's payloads as they are decoded.
// Subscribe starts offering the channel's payloads to s until cancel is
// called; it returns ErrNotFound for an unknown channel.
type TailSource interface {
	Subscribe(channel uint16, s *Subscriber) (cancel func(), err error)
}

// MetricsSource writes the daemon's metric families.
type MetricsSource interface {
	WriteMetrics(w *MetricWriter)
}

// Backend is the daemon as the server sees it; nil parts answer 501.
type Backend struct {
	Status   StatusSource
	Channels ChannelSource
	Rules    RuleStore
	Spool    SpoolSource
	Export   Exporter
	Tail     TailSource
	Metrics  MetricsSource
}

// ErrNotFound reports that a named thing (a channel, a segment) does not
// exist; the API answers 404.
var ErrNotFound = errors.New("not found")

// InvalidError reports a request that is well formed but wrong; the API
// answers 422 (400 for query parameters).
type InvalidError struct {
	Field string // what is wrong, e.g. "channels[2].types[0]"
	Msg   string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Status is the daemon's overview.
type Status struct {
	Version    string            `json:"version"`
	Node       uint32            `json:"node"`
	Started    time.Time         `json:"started"`
	Ready      bool              `json:"ready"` // filled in by the server from the readiness checks
	Interfaces []InterfaceStatus `json:"interfaces"`
	Channels   int               `json:"channels"`
}

// InterfaceStatus is one SIE interface's capture.
type InterfaceStatus struct {
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Filter string `json:"filter"` // "xdp", "socket" or "off": what was attached
	// FilterBuild is the compilation of the attached programs: "direct"
	// (the daemon holds CAP_PERFMON) or "hardened" (it does not: the
	// programs read packets only through helpers and cost more per
	// frame); empty when Filter is "off".
	FilterBuild string `json:"filter_build,omitempty"`
	Sockets     int    `json:"sockets"`
}

// FilterName is Filter with its build, e.g. "xdp (hardened)".
func (i InterfaceStatus) FilterName() string {
	if i.FilterBuild == "" {
		return i.Filter
	}
	return i.Filter + " (" + i.FilterBuild + ")"
}

// Channels is the reply of /api/v1/channels.
type Channels struct {
	Channels   []ChannelInfo `json:"channels"`
	Discovered []Discovered  `json:"discovered"`
}

// ChannelInfo is a configured channel and its counters.
type ChannelInfo struct {
	Number    uint16   `json:"number"`
	Name      string   `json:"name"`
	VLAN      uint16   `json:"vlan,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	Action    string   `json:"action"`
	Dedupe    string   `json:"dedupe"`
	// Counters by stage and verdict, e.g. "kernel_passed",
	// "kernel_dropped", "captured", "filtered", "deduped", "stored",
	// "lost" (= "lost_ring_full" + "lost_spool"); payloads unless the
	// name ends in "_packets" or "_bytes". The kernel's packets and bytes
	// by verdict are "kernel_<verdict>_packets" and "_bytes" (pass, drop,
	// opaque, partial, malformed, not_nmsg, drop_default).
	Counters map[string]uint64 `json:"counters"`
}

// Discovered counts traffic the kernel saw on no configured channel, by
// VLAN id or by destination address and port.
type Discovered struct {
	VLAN    uint16 `json:"vlan,omitempty"`
	Address string `json:"address,omitempty"` // "addr:port"
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	NMSG    bool   `json:"nmsg"` // it carried NMSG
}

// RuleSet is every channel's rule; PUT replaces it whole.
type RuleSet struct {
	Channels []ChannelRule `json:"channels"`
}

// ChannelRule is one channel's rule: pass, drop, allow or deny, with the
// message types ("SIE:dnsdedupe", "SIE", "2:3") allow passes or deny
// drops. CountPayloads makes the kernel count every payload of the
// channel's containers.
type ChannelRule struct {
	Channel       uint16   `json:"channel"`
	Action        string   `json:"action"`
	Types         []string `json:"types,omitempty"`
	CountPayloads bool     `json:"count_payloads,omitempty"`
}

// SpoolInfo is the spool's state.
type SpoolInfo struct {
	Dir       string        `json:"dir"`
	UsedBytes int64         `json:"used_bytes"`
	MaxBytes  int64         `json:"max_bytes"` // 0: no budget
	Segments  []SegmentInfo `json:"segments"`
	Ledger    []LossEntry   `json:"ledger"`
}

// SegmentInfo is one segment.
type SegmentInfo struct {
	ID       string    `json:"id"`
	Channel  uint16    `json:"channel"`
	State    string    `json:"state"` // "open", "sealed", "quarantined"
	Bytes    int64     `json:"bytes"`
	Records  uint64    `json:"records"`
	Payloads uint64    `json:"payloads"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// LossEntry is one loss ledger entry.
type LossEntry struct {
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
	Segment  string    `json:"segment"`
	Bytes    int64     `json:"bytes"`
	Records  uint64    `json:"records"`
	Payloads uint64    `json:"payloads"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Detail   string    `json:"detail,omitempty"`
}

// ExportFormat is the form of exported data.
type ExportFormat string

// Export formats.
const (
	ExportNMSG ExportFormat = "nmsg" // NMSG containers, as nmsgtool -w writes
	ExportJSON ExportFormat = "json" // one nmsgtool-style JSON object per line
)

// ExportQuery selects what /api/v1/spool/export streams: the payloads of
// a channel whose time lies in [From, To).
type ExportQuery struct {
	Channel  uint16
	From, To time.Time // zero: unbounded
	Format   ExportFormat
	// WithCounts (JSON only) adds "duplicates":N to every line: the
	// identical payloads the dedupe suppressed in favour of this one.
	WithCounts bool
}

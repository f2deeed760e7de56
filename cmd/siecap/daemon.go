package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siecap/siecap/bpf"
	"github.com/siecap/siecap/capture"
	"github.com/siecap/siecap/ctl"
	"github.com/siecap/siecap/internal/caps"
	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/internal/netprobe"
	"github.com/siecap/siecap/internal/netsetup"
	"github.com/siecap/siecap/nmsg"
	"github.com/siecap/siecap/nmsg/msgmod"
	"github.com/siecap/siecap/pipeline"
	"github.com/siecap/siecap/spool"
)

// daemon is `siecap run`: it wires the kernel filter, capture, the
// channels' pipelines, the spool and the control API together. The order
// of start and stop is the data path's: the spool first and last, capture
// last and first.
type daemon struct {
	log     *slog.Logger
	started time.Time

	mu  sync.Mutex // guards cfg, and serialises reloads
	cfg *config.Config

	sp      *spool.Spool
	chans   map[uint16]*channel // configured channels
	retired []*channel          // channels removed by a reload, closed on stop
	routes  atomic.Pointer[routes]
	filter  *bpf.Filter
	setup   *netsetup.Setup // interface set-up, undone on stop
	ifaces  []*iface
	readers int // pipeline readers per channel: one per capture socket of every interface
	srv     *ctl.Server

	aliases *nmsg.Aliases // operator and group names for JSON output

	stopOnce sync.Once
	stopErr  error

	watchDone chan struct{} // closed to stop watchDrops
	watchers  sync.WaitGroup

	notUDP   atomic.Uint64 // captured frames that were not a whole UDP datagram
	unrouted atomic.Uint64 // datagrams for no configured channel
}

// channel is one subscribed channel's running state.
type channel struct {
	cfg  config.Channel
	pipe *pipeline.Pipeline

	// Live tail: the subscribers (replaced whole under subMu, read with
	// one atomic load per payload) and one printer per pipeline reader.
	subMu    sync.Mutex
	subs     atomic.Pointer[[]*ctl.Subscriber]
	printers []msgmod.Printer
}

// newChannel starts a channel's pipeline.
func (d *daemon) newChannel(cc config.Channel, ringSize int) (*channel, error) {
	c := &channel{cfg: cc, printers: make([]msgmod.Printer, d.readers)}
	for i := range c.printers {
		c.printers[i].Aliases = d.aliases
	}
	pc := pipelineConfig(cc, d.readers, ringSize)
	pc.Observe = c.observe
	p, err := pipeline.New(d.sp, pc)
	if err != nil {
		return nil, fmt.Errorf("start pipeline of channel %d: %w", cc.Number, err)
	}
	c.pipe = p
	return c, nil
}

// observe offers a payload that passed the rules to the channel's tail
// subscribers; without any it costs one atomic load.
func (c *channel) observe(reader int, p *nmsg.Payload) {
	subs := c.subs.Load()
	if subs == nil || len(*subs) == 0 {
		return
	}
	pr := &c.printers[reader]
	for _, s := range *subs {
		s.Offer(func(dst []byte) []byte {
			out, err := pr.AppendJSON(dst, p)
			if err != nil {
				return dst
			}
			if n := len(out); n > len(dst) && out[n-1] == '\n' {
				out = out[:n-1]
			}
			return out
		})
	}
}

// iface is one SIE interface's capture.
type iface struct {
	name        string
	filter      string // "xdp", "socket" or "off"
	filterBuild string // the attached programs' bpf.Build, "" if off
	cap         *capture.Capture
	base        int // index of its first socket among all readers
}

// healthy reports the capture's state: an error once its sockets fail to
// read (the interface went away or down).
func (ifc *iface) healthy() error {
	st, err := ifc.cap.Stats()
	if err != nil {
		return fmt.Errorf("read capture stats: %w", err)
	}
	if st.Total.LastError != "" {
		return fmt.Errorf("capture on %s: %s", ifc.name, st.Total.LastError)
	}
	return nil
}

// routes maps a captured datagram to its channel. It is replaced whole on
// reload, so a packet sees the old table or the new one.
type routes struct {
	byVLAN map[uint16]*channel
	byAddr map[netip.AddrPort]*channel
	all    []*channel
}

func (r *routes) lookup(vlan uint16, hasVLAN bool, dst netip.AddrPort) *channel {
	if hasVLAN {
		if c := r.byVLAN[vlan]; c != nil {
			return c
		}
	}
	return r.byAddr[dst]
}

func newRoutes(chans map[uint16]*channel) *routes {
	r := &routes{byVLAN: map[uint16]*channel{}, byAddr: map[netip.AddrPort]*channel{}}
	for _, c := range chans {
		r.all = append(r.all, c)
		if c.cfg.VLAN != 0 {
			r.byVLAN[c.cfg.VLAN] = c
		}
		for _, a := range c.cfg.Addresses {
			r.byAddr[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())] = c
		}
	}
	return r
}

// start brings everything up; on error it stops what it started.
func (d *daemon) start() (err error) {
	defer func() {
		if err != nil {
			d.stop()
		}
	}()
	cfg := d.cfg
	if err := checkPrivileges(cfg); err != nil {
		return err
	}
	if err := netprobe.Check(); err != nil {
		return err
	}
	if d.aliases, err = nmsg.LoadAliases(); err != nil {
		return fmt.Errorf("load alias files: %w", err)
	}
	d.sp, err = spool.Open(cfg.Spool.Dir, spool.Options{
		Node:           cfg.Spool.NodeID,
		CommitInterval: cfg.Spool.CommitInterval,
		CommitBytes:    int64(cfg.Spool.CommitBytes),
		SegmentBytes:   int64(cfg.Spool.SegmentBytes),
		SegmentAge:     cfg.Spool.SegmentAge,
		MaxBytes:       int64(cfg.Spool.MaxBytes),
		MaxAge:         cfg.Spool.MaxAge,
		Logger:         d.log,
	})
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	d.log.Info("spool open", "dir", cfg.Spool.Dir, "node", cfg.Spool.NodeID)

	d.readers = len(cfg.Interfaces) * cfg.Capture.Sockets
	d.chans = map[uint16]*channel{}
	for _, cc := range cfg.Channels {
		c, err := d.newChannel(cc, cfg.Capture.RingSize)
		if err != nil {
			return err
		}
		d.chans[cc.Number] = c
	}
	d.routes.Store(newRoutes(d.chans))

	if err := d.setUpInterfaces(); err != nil {
		return err
	}
	for _, name := range cfg.Interfaces {
		if err := d.checkCaptureInterface(name); err != nil {
			return err
		}
	}
	if cfg.Capture.Filter != config.FilterOff {
		if err := d.loadFilter(); err != nil {
			if cfg.Capture.Filter != config.FilterAuto {
				return err
			}
			d.log.Warn("kernel filter unavailable, filtering in user space only", "err", err)
		}
	}
	for i, name := range cfg.Interfaces {
		ifc, err := d.startCapture(name, i*cfg.Capture.Sockets)
		if err != nil {
			return err
		}
		d.ifaces = append(d.ifaces, ifc)
		d.log.Info("capturing", "interface", name, "sockets", cfg.Capture.Sockets, "filter", ifc.filter, "filter_build", ifc.filterBuild)
	}
	d.watchDone = make(chan struct{})
	d.watchers.Add(1)
	go func() {
		defer d.watchers.Done()
		d.watchDrops(d.watchDone)
	}()
	return d.startControl()
}

func (d *daemon) loadFilter() error {
	// Without CAP_PERFMON bpf.Load picks the hardened build, which the
	// verifier takes from a holder of CAP_BPF alone.
	f, err := bpf.Load(bpf.Options{})
	if err != nil {
		return fmt.Errorf("load kernel filter: %w", err)
	}
	d.filter = f
	const hardened = "the programs read packets through helpers only, at some cost per frame"
	switch {
	case f.Fallback() != nil:
		d.log.Warn("kernel filter loaded", "build", f.Build().String(),
			"why", "the kernel's verifier refused the direct build; "+hardened, "err", f.Fallback())
	case f.Build() == bpf.BuildHardened:
		d.log.Info("kernel filter loaded", "build", f.Build().String(), "why", "no "+caps.Perfmon.String()+": "+hardened)
	default:
		d.log.Info("kernel filter loaded", "build", f.Build().String())
	}
	rs, err := bpf.Compile(filterConfig(d.cfg))
	if err != nil {
		return fmt.Errorf("compile kernel rules: %w", err)
	}
	if err := f.Update(rs); err != nil {
		return fmt.Errorf("install kernel rules: %w", err)
	}
	return nil
}

// startCapture attaches the filter to one interface (XDP where the driver
// takes it, else a socket filter on every capture socket) and starts its
// capture sockets.
func (d *daemon) startCapture(name string, base int) (*iface, error) {
	ifc := &iface{name: name, filter: "off", base: base}
	cc := capture.Config{
		Interface:    name,
		Sockets:      d.cfg.Capture.Sockets,
		BlockSize:    int(d.cfg.Capture.BlockSize),
		NumBlocks:    d.cfg.Capture.BlockCount,
		BlockTimeout: d.cfg.Capture.BlockTimeout,
		Promiscuous:  d.cfg.Capture.Promisc,
	}
	if d.cfg.Capture.Fanout == config.FanoutLB {
		cc.Fanout = capture.FanoutLoadBalance
	}
	if d.filter != nil {
		mode := d.cfg.Capture.Filter
		if mode == config.FilterAuto || mode == config.FilterXDP {
			nic, err := net.InterfaceByName(name)
			if err == nil {
				_, err = d.filter.AttachXDP(nic.Index, bpf.XDPOptions{})
			}
			switch {
			case err == nil:
				ifc.filter, ifc.filterBuild = "xdp", d.filter.Build().String()
			case mode == config.FilterXDP:
				return nil, fmt.Errorf("attach xdp to %s: %w", name, err)
			default:
				d.log.Info("native XDP refused, using socket filters", "interface", name, "err", err)
			}
		}
		if ifc.filter == "off" {
			cc.Filter = d.filter.SocketProgram()
			ifc.filter, ifc.filterBuild = "socket", d.filter.Build().String()
		}
	}
	c, err := capture.Start(cc, func(socket int) capture.Handler {
		return &socketHandler{d: d, reader: base + socket}
	})
	if err != nil {
		return nil, fmt.Errorf("start capture on %s: %w", name, err)
	}
	ifc.cap = c
	return ifc, nil
}

// socketHandler is the capture handler of one socket: it finds the
// datagram's channel and hands it to that channel's pipeline reader for
// this socket, which decodes it in place and copies out what it keeps.
type socketHandler struct {
	d      *daemon
	reader int
}

func (h *socketHandler) HandlePacket(p *capture.Packet) {
	src, dst, dg, err := pipeline.ParseFrame(p.Data)
	if err != nil {
		h.d.notUDP.Add(1)
		return
	}
	c := h.d.routes.Load().lookup(p.VLAN, p.HasVLAN, dst)
	if c == nil {
		h.d.unrouted.Add(1)
		return
	}
	// Decoding errors are counted by the reader's decoder.
	_ = c.pipe.Reader(h.reader).Datagram(src, dg, p.Timestamp)
}

// Idle implements capture.Idler: when its socket had no packet for a poll
// interval, each channel's reader of this socket hands over what it holds.
func (h *socketHandler) Idle(now time.Time) {
	for _, c := range h.d.routes.Load().all {
		c.pipe.Reader(h.reader).Idle(now)
	}
}

// stop drains and closes everything (once) in reverse order: the control
// API first (no request reads what is closed after it), capture (so no
// reader runs), then the readers' last batches, the pipelines, the kernel
// filter, the interface set-up and the spool (which seals). It logs every
// channel's final counters.
func (d *daemon) stop() error {
	d.stopOnce.Do(func() { d.stopErr = d.shutdown() })
	return d.stopErr
}

func (d *daemon) shutdown() error {
	var errs []error
	if d.watchDone != nil {
		close(d.watchDone)
		d.watchers.Wait()
	}
	if d.srv != nil {
		if err := d.srv.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop control API: %w", err))
		}
	}
	for _, ifc := range d.ifaces {
		if ifc.cap != nil {
			if err := ifc.cap.Close(); err != nil {
				errs = append(errs, fmt.Errorf("stop capture on %s: %w", ifc.name, err))
			}
		}
	}
	all := d.retired
	for _, c := range d.chans {
		all = append(all, c)
	}
	for _, c := range all {
		// The capture readers have returned: this goroutine may drive the
		// pipeline readers now.
		for i := range d.readers {
			c.pipe.Reader(i).Close()
		}
		if err := c.pipe.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop pipeline of channel %d: %w", c.cfg.Number, err))
		}
	}
	d.mu.Lock()
	if d.filter != nil {
		if err := d.filter.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close kernel filter: %w", err))
		}
		d.filter = nil
	}
	d.mu.Unlock()
	// The filter is detached: the interfaces can go back as they were.
	if d.setup != nil {
		if err := d.setup.Undo(); err != nil {
			errs = append(errs, fmt.Errorf("undo interface set-up: %w", err))
		}
	}
	if d.sp != nil {
		if err := d.sp.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close spool: %w", err))
		}
		// Sealed: what the pipelines count as stored now is durable.
		for _, c := range all {
			st := c.pipe.Stats()
			d.log.Info("channel drained", "channel", c.cfg.Number, "captured", st.Payloads, "filtered", st.Filtered,
				"deduped", st.Deduped, "stored", st.Stored, "lost", st.Dropped+st.Failed)
		}
	}
	return errors.Join(errs...)
}

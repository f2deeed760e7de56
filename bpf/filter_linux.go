package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/siecap/siecap/internal/caps"
	"golang.org/x/sys/unix"
)

// Options tune Load.
type Options struct {
	// SocketDataAtL3 builds the socket filter for BPF_PROG_TEST_RUN, whose
	// skb data starts after the Ethernet header. Leave it false for
	// AF_PACKET SOCK_RAW sockets, whose data starts at the MAC header.
	SocketDataAtL3 bool
	// Baselines also loads the cheapest programs of each type (return
	// XDP_PASS, return skb->len), for benchmarks.
	Baselines bool
	// Build chooses the object to load; by default (BuildAuto) the
	// direct build if the loading thread holds CAP_PERFMON or
	// CAP_SYS_ADMIN, the hardened build otherwise.
	Build Build
}

// Build names one of the two compilations of the programs.
type Build int

const (
	// BuildAuto picks BuildDirect or BuildHardened by the loader's
	// capabilities.
	BuildAuto Build = iota
	// BuildDirect reads packets directly and needs CAP_PERFMON (or
	// CAP_SYS_ADMIN) beside CAP_BPF: the verifier allows its pointer
	// arithmetic only to loaders it trusts with Spectre v1.
	BuildDirect
	// BuildHardened reads packets only through helpers and passes the
	// verifier with CAP_BPF alone, at some cost per frame (see
	// docs/benchmarks.md).
	BuildHardened
)

func (b Build) String() string {
	switch b {
	case BuildAuto:
		return "auto"
	case BuildDirect:
		return "direct"
	case BuildHardened:
		return "hardened"
	}
	return fmt.Sprintf("build %d", int(b))
}

// resolve turns BuildAuto into the build the calling thread can load.
func (b Build) resolve() Build {
	if b != BuildAuto {
		return b
	}
	if caps.Has(caps.Perfmon) || caps.Has(caps.SysAdmin) {
		return BuildDirect
	}
	return BuildHardened
}

// objects are the parts of the collection Filter loads; the device-bound
// variant is loaded on demand.
type objects struct {
	XDP       *ebpf.Program `ebpf:"siecap_xdp"`
	Socket    *ebpf.Program `ebpf:"siecap_socket"`
	Channels  *ebpf.Map     `ebpf:"channels"`
	Counters  *ebpf.Map     `ebpf:"counters"`
	Discovery *ebpf.Map     `ebpf:"discovery"`
	Scratch   *ebpf.Map     `ebpf:"scratch"`
}

type baselines struct {
	XDP    *ebpf.Program `ebpf:"baseline_xdp"`
	Socket *ebpf.Program `ebpf:"baseline_socket"`
}

// Filter is the loaded pre-filter: its programs, maps and attachments.
// Its methods are safe for concurrent use.
type Filter struct {
	mu       sync.Mutex
	build    Build
	fallback error // why BuildAuto loaded the hardened build, if it fell back
	spec     *ebpf.CollectionSpec
	objs     objects
	base     baselines
	inner    *ebpf.Map // current channel map, referenced by objs.Channels[0]
	rs       *Ruleset
	slots    map[uint32]uint32 // channel ID -> counter slot
	ids      map[uint32]uint32 // counter slot -> channel ID
	links    map[int]*xdpAttachment
	sockets  map[int]bool
	closed   bool
}

type xdpAttachment struct {
	link link.Link
	prog *ebpf.Program // device-bound variant, owned here; nil otherwise
	used *ebpf.Program // the attached program
}

// The builds' specs, as bpf2go generated them; a variable so that a test
// can hand the kernel a direct build its verifier refuses.
var (
	directSpec   = loadFilter
	hardenedSpec = loadFilterHardened
)

// Load loads the programs and maps into the kernel. Every frame passes
// until Update installs a configuration.
//
// With BuildAuto, a loader that may load the direct build gets the
// hardened one if the kernel's verifier refuses the direct build (a
// kernel whose verifier explores more states than its limit allows, for
// instance); Fallback then returns the refusal.
func Load(opts Options) (*Filter, error) {
	build := opts.Build.resolve()
	f, err := loadBuild(opts, build)
	var ve *ebpf.VerifierError
	if err == nil || opts.Build != BuildAuto || build != BuildDirect || !errors.As(err, &ve) {
		return f, err
	}
	f, herr := loadBuild(opts, BuildHardened)
	if herr != nil {
		return nil, errors.Join(err, herr)
	}
	f.fallback = err
	return f, nil
}

func loadBuild(opts Options, build Build) (*Filter, error) {
	load := directSpec
	if build == BuildHardened {
		load = hardenedSpec
	}
	spec, err := load()
	if err != nil {
		return nil, fmt.Errorf("load filter spec: %w", err)
	}
	// One scratch buffer per CPU for XDP and one for the socket filter.
	cpus, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, fmt.Errorf("count possible cpus: %w", err)
	}
	spec.Maps["scratch"].MaxEntries = 2 * uint32(cpus)
	if err := spec.Variables["scratch_cpus"].Set(uint32(cpus)); err != nil {
		return nil, fmt.Errorf("set scratch_cpus: %w", err)
	}
	if opts.SocketDataAtL3 {
		if err := spec.Variables["skb_data_offset"].Set(uint32(14)); err != nil {
			return nil, fmt.Errorf("set skb_data_offset: %w", err)
		}
	}
	f := &Filter{
		build:   build,
		spec:    spec,
		slots:   map[uint32]uint32{},
		ids:     map[uint32]uint32{},
		links:   map[int]*xdpAttachment{},
		sockets: map[int]bool{},
	}
	if err := spec.LoadAndAssign(&f.objs, nil); err != nil {
		return nil, fmt.Errorf("load filter: %w", err)
	}
	if opts.Baselines {
		if err := spec.LoadAndAssign(&f.base, nil); err != nil {
			f.objs.close()
			return nil, fmt.Errorf("load baselines: %w", err)
		}
	}
	return f, nil
}

func (o *objects) close() error {
	var errs []error
	for _, c := range []interface{ Close() error }{o.XDP, o.Socket, o.Channels, o.Counters, o.Discovery, o.Scratch} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// Build returns the build Load loaded: BuildDirect or BuildHardened.
func (f *Filter) Build() Build { return f.build }

// Fallback returns the verifier's refusal of the direct build if Load,
// choosing the build itself, fell back to the hardened one; nil otherwise.
func (f *Filter) Fallback() error { return f.fallback }

// XDPProgram returns the XDP program (for BPF_PROG_TEST_RUN or a caller's
// own attachment). It stays owned by the Filter.
func (f *Filter) XDPProgram() *ebpf.Program { return f.objs.XDP }

// SocketProgram returns the socket filter program, owned by the Filter.
func (f *Filter) SocketProgram() *ebpf.Program { return f.objs.Socket }

// BaselineXDP and BaselineSocket return the baseline programs, or nil
// unless loaded with Options.Baselines.
func (f *Filter) BaselineXDP() *ebpf.Program    { return f.base.XDP }
func (f *Filter) BaselineSocket() *ebpf.Program { return f.base.Socket }

// Ruleset returns the installed rule set (nil before the first Update).
func (f *Filter) Ruleset() *Ruleset {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rs
}

// Update installs rs. It builds a complete new channel map and swaps it in
// with one map update, so each frame is classified either entirely by the
// previous rule set or entirely by rs. Counters of a channel ID survive.
func (f *Filter) Update(rs *Ruleset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("update filter: %w", os.ErrClosed)
	}
	slots := map[uint32]uint32{}
	for id, s := range f.slots {
		slots[id] = s
	}
	ids := map[uint32]uint32{}
	for s, id := range f.ids {
		ids[s] = id
	}
	slotOf := func(id uint32) (uint32, error) {
		if s, ok := slots[id]; ok {
			return s, nil
		}
		for s := uint32(1); s < maxSlots; s++ {
			if _, used := ids[s]; !used {
				slots[id], ids[s] = s, id
				return s, nil
			}
		}
		return 0, fmt.Errorf("assign counter slot to channel %d: all %d slots used", id, maxSlots-1)
	}
	innerSpec := f.spec.Maps["channels"].InnerMap.Copy()
	inner, err := ebpf.NewMap(innerSpec)
	if err != nil {
		return fmt.Errorf("create channel map: %w", err)
	}
	err = writeTable(inner, rs, slotOf)
	if err == nil {
		// One syscall replaces the whole set; for map-in-map updates the
		// kernel also waits for running programs (synchronize_rcu), so
		// after it returns no frame uses the old set.
		err = f.objs.Channels.Update(uint32(0), inner, ebpf.UpdateAny)
		if err != nil {
			err = fmt.Errorf("swap channel map: %w", err)
		}
	}
	if err != nil {
		inner.Close()
		return fmt.Errorf("update filter: %w", err)
	}
	if f.inner != nil {
		f.inner.Close()
	}
	f.inner, f.rs, f.slots, f.ids = inner, rs, slots, ids
	return nil
}

// writeTable fills a new channel table with rs: the directory, the address
// hash table and one rule entry per channel.
func writeTable(m *ebpf.Map, rs *Ruleset, slotOf func(id uint32) (uint32, error)) error {
	size := int(m.ValueSize())
	put := func(entry uint32, v any) error {
		b, err := binary.Append(make([]byte, 0, size), binary.NativeEndian, v)
		if err != nil {
			return fmt.Errorf("marshal channel table entry %d: %w", entry, err)
		}
		if len(b) > size {
			return fmt.Errorf("marshal channel table entry %d: %d bytes, entries have %d", entry, len(b), size)
		}
		if err := m.Put(entry, append(b, make([]byte, size-len(b))...)); err != nil {
			return fmt.Errorf("put channel table entry %d: %w", entry, err)
		}
		return nil
	}
	for _, r := range rs.rules {
		s, err := slotOf(r.id)
		if err != nil {
			return err
		}
		v := filterScRule{Slot: s, Action: uint8(r.action), Flags: r.flags, VidAll: r.vidAll, Pairs: r.pairs}
		// A vendor listed with all its types also has every (vendor,
		// type) bit set, so that the programs' fast path tests one bit.
		for vid := range 256 {
			if r.vidAll[vid>>6]&(1<<(vid&63)) != 0 {
				for i := range 4 {
					v.Pairs[vid*4+i] = ^uint64(0)
				}
			}
		}
		if err := put(uint32(r.entry), &v); err != nil {
			return err
		}
	}
	var addrs [addrSlots / addrPerEntry][addrPerEntry]filterScAddrSlot
	var filled [addrSlots / addrPerEntry]bool
	for _, p := range rs.table.placed {
		e, i := p.slot/addrPerEntry, p.slot%addrPerEntry
		addrs[e][i] = filterScAddrSlot{Addr: p.key.addr, Port: p.key.port, Family: p.key.family, Entry: p.rule.entry}
		filled[e] = true
	}
	for e := range addrs {
		if filled[e] {
			if err := put(uint32(tableAddr+e), &addrs[e]); err != nil {
				return err
			}
		}
	}
	dir := filterScDir{Seed: rs.table.seed}
	for vlan, r := range rs.vlans {
		dir.Vlan[vlan] = r.entry
	}
	if rs.dropUnconfigured {
		dir.Flags |= flagDropUnconfigured
	}
	return put(tableDir, &dir)
}

// XDPOptions choose how AttachXDP attaches.
type XDPOptions struct {
	// Generic attaches in generic (skb) mode; by default only native
	// (driver) mode is tried.
	Generic bool
	// VLANMetadata loads the device-bound variant that reads VLAN tags a
	// NIC stripped from the driver's metadata (Linux 6.8+, drivers with
	// the rx_vlan_tag hint). If the kernel lacks it, AttachXDP falls back
	// to the plain program and reports it in XDPInfo.
	//
	// Kernel defect: on Linux 6.12 and 6.18, unregistering the device
	// while a device-bound program is loaded oopses in
	// __bpf_prog_offload_destroy (the kernel keeps a pointer to the
	// program's copy from before verification) and leaves rtnl locked.
	// Detach (DetachXDP or Close) before the interface goes away.
	VLANMetadata bool
}

// XDPInfo says what AttachXDP attached.
type XDPInfo struct {
	VLANMetadata bool // the device-bound variant is attached
	// Fallback is why the device-bound variant was not used, if it was
	// asked for.
	Fallback error
}

// AttachXDP attaches the XDP program to the interface ifindex (of the
// calling thread's network namespace) through a BPF link.
func (f *Filter) AttachXDP(ifindex int, opts XDPOptions) (XDPInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var info XDPInfo
	if f.closed {
		return info, fmt.Errorf("attach xdp: %w", os.ErrClosed)
	}
	if _, ok := f.links[ifindex]; ok {
		return info, fmt.Errorf("attach xdp to ifindex %d: %w", ifindex, os.ErrExist)
	}
	flags := link.XDPDriverMode
	if opts.Generic {
		flags = link.XDPGenericMode
	}
	att := &xdpAttachment{}
	prog := f.objs.XDP
	if opts.VLANMetadata && !opts.Generic {
		p, err := f.loadVLANMeta(ifindex)
		if err != nil {
			info.Fallback = err
		} else {
			att.prog, prog, info.VLANMetadata = p, p, true
		}
	} else if opts.VLANMetadata {
		info.Fallback = errors.New("device-bound programs cannot attach in generic mode")
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifindex, Flags: flags})
	if err != nil {
		if att.prog != nil {
			att.prog.Close()
		}
		return info, fmt.Errorf("attach xdp to ifindex %d: %w", ifindex, err)
	}
	att.link, att.used = l, prog
	f.links[ifindex] = att
	return info, nil
}

// loadVLANMeta loads the device-bound variant for ifindex, sharing the
// Filter's maps.
func (f *Filter) loadVLANMeta(ifindex int) (*ebpf.Program, error) {
	spec := f.spec.Copy()
	ps := spec.Programs["siecap_xdp_vlanmeta"]
	ps.Ifindex = uint32(ifindex)
	ps.Flags |= unix.BPF_F_XDP_DEV_BOUND_ONLY
	var o struct {
		P *ebpf.Program `ebpf:"siecap_xdp_vlanmeta"`
	}
	err := spec.LoadAndAssign(&o, &ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		"channels": f.objs.Channels, "counters": f.objs.Counters, "discovery": f.objs.Discovery,
		"scratch": f.objs.Scratch,
	}})
	if err != nil {
		return nil, fmt.Errorf("load device-bound xdp program (needs Linux 6.8+ and a driver with VLAN metadata): %w", err)
	}
	return o.P, nil
}

// XDPAttached returns the program attached to ifindex (the device-bound
// variant or the plain one), or nil. It stays owned by the Filter.
func (f *Filter) XDPAttached(ifindex int) *ebpf.Program {
	f.mu.Lock()
	defer f.mu.Unlock()
	if att, ok := f.links[ifindex]; ok {
		return att.used
	}
	return nil
}

// DetachXDP removes the XDP program from ifindex.
func (f *Filter) DetachXDP(ifindex int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	att, ok := f.links[ifindex]
	if !ok {
		return fmt.Errorf("detach xdp from ifindex %d: %w", ifindex, os.ErrNotExist)
	}
	delete(f.links, ifindex)
	return att.close()
}

func (a *xdpAttachment) close() error {
	err := a.link.Close()
	if a.prog != nil {
		err = errors.Join(err, a.prog.Close())
	}
	return err
}

// AttachSocket attaches the socket filter to the socket fd
// (SO_ATTACH_BPF), typically an AF_PACKET SOCK_RAW capture socket. The
// socket keeps the program until DetachSocket or until it is closed.
func (f *Filter) AttachSocket(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("attach socket filter: %w", os.ErrClosed)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, f.objs.Socket.FD()); err != nil {
		return fmt.Errorf("attach socket filter to fd %d: %w", fd, err)
	}
	f.sockets[fd] = true
	return nil
}

// DetachSocket removes the socket filter from fd. Call it before closing
// a socket the Filter was attached to, or the Filter's Close will try to
// detach from whatever fd number is then reused.
func (f *Filter) DetachSocket(fd int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sockets, fd)
	return detachSocket(fd)
}

func detachSocket(fd int) error {
	err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_BPF, 0)
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("detach socket filter from fd %d: %w", fd, err)
	}
	return nil
}

// Counts are one verdict's counters.
type Counts struct {
	Packets, Bytes, Payloads uint64
}

// ChannelCounters are a channel's counters by verdict, summed over CPUs.
type ChannelCounters [NumReasons]Counts

// Counters returns the counters of every channel that ever had a slot,
// keyed by channel ID (0: traffic on no configured channel).
func (f *Filter) Counters() (map[uint32]ChannelCounters, error) {
	f.mu.Lock()
	ids := map[uint32]uint32{0: 0}
	for s, id := range f.ids {
		ids[s] = id
	}
	f.mu.Unlock()
	out := make(map[uint32]ChannelCounters, len(ids))
	var per []filterScCounters
	for slot, id := range ids {
		if err := f.objs.Counters.Lookup(slot, &per); err != nil {
			return nil, fmt.Errorf("read counters of slot %d: %w", slot, err)
		}
		var cc ChannelCounters
		for _, c := range per {
			for r := range NumReasons {
				cc[r].Packets += c.Packets[r]
				cc[r].Bytes += c.Bytes[r]
				cc[r].Payloads += c.Payloads[r]
			}
		}
		out[id] = cc
	}
	return out, nil
}

// Discovered is NMSG traffic seen on no configured channel.
type Discovered struct {
	VLAN    uint16
	HasVLAN bool
	Dst     netip.AddrPort
	Packets uint64
	Bytes   uint64
}

// Discovery returns the discovery table (a bounded LRU: the least recently
// seen entries are evicted first).
func (f *Filter) Discovery() ([]Discovered, error) {
	var (
		k   filterScDiscKey
		v   filterScDiscVal
		out []Discovered
	)
	it := f.objs.Discovery.Iterate()
	for it.Next(&k, &v) {
		d := Discovered{VLAN: k.Vlan, HasVLAN: k.HasVlan != 0, Packets: v.Packets, Bytes: v.Bytes}
		var a netip.Addr
		if k.Family == 4 {
			a = netip.AddrFrom4([4]byte(k.Addr[:4]))
		} else {
			a = netip.AddrFrom16(k.Addr)
		}
		d.Dst = netip.AddrPortFrom(a, k.Port)
		out = append(out, d)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read discovery map: %w", err)
	}
	return out, nil
}

// Close detaches every XDP attachment and socket filter and releases the
// programs and maps. It is safe to call more than once.
func (f *Filter) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for ifindex, att := range f.links {
		errs = append(errs, att.close())
		delete(f.links, ifindex)
	}
	for fd := range f.sockets {
		if err := detachSocket(fd); err != nil && !errors.Is(err, unix.EBADF) && !errors.Is(err, unix.ENOTSOCK) {
			errs = append(errs, err)
		}
		delete(f.sockets, fd)
	}
	if f.inner != nil {
		errs = append(errs, f.inner.Close())
	}
	for _, p := range []*ebpf.Program{f.base.XDP, f.base.Socket} {
		if p != nil {
			errs = append(errs, p.Close())
		}
	}
	errs = append(errs, f.objs.close())
	return errors.Join(errs...)
}

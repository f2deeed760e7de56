package netsetup

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// MaxNameLen is the longest interface name Linux takes (IFNAMSIZ - 1).
const MaxNameLen = 15

// ErrNoVLAN reports that the kernel cannot make 802.1Q VLAN interfaces.
var ErrNoVLAN = errors.New("the kernel lacks 802.1Q VLAN support (CONFIG_VLAN_8021Q, module 8021q)")

// Config is what Apply does to the SIE interfaces.
type Config struct {
	// Interfaces are the parent links (the SIE NICs).
	Interfaces []string
	// Up brings every parent up.
	Up bool
	// MTU is set on every parent; 0 leaves it alone.
	MTU int
	// Promisc sets every parent's IFF_PROMISC flag (ip link set promisc on).
	Promisc bool
	// VLANs are the sub-interfaces to have on every parent.
	VLANs []VLAN
}

// VLAN is one 802.1Q sub-interface.
type VLAN struct {
	ID uint16 // 1..4094
	// Address, when valid, is given to the sub-interface.
	Address netip.Prefix
}

// Name returns the name of VLAN vid's sub-interface on parent, as
// sie-update and ip(8) users write it: "eth1.204".
func Name(parent string, vid uint16) string { return parent + "." + strconv.Itoa(int(vid)) }

// Setup is the set-up Apply did, which Undo reverses.
type Setup struct {
	h   *netlink.Handle
	log *slog.Logger

	mu      sync.Mutex
	parents []*parent
	closed  bool
}

// parent is one SIE interface and what was changed on it.
type parent struct {
	name  string
	index int
	undo  []step            // in the order done
	vlans map[uint16]*subif // by VLAN id
}

// step is a change to a parent and how to reverse it.
type step struct {
	what   string
	revert func(l netlink.Link) error
}

// subif is a VLAN sub-interface: created here, or found and adopted (then
// only what was changed on it is reversed).
type subif struct {
	name    string
	index   int
	vid     uint16
	created bool
	setUp   bool          // adopted down and brought up here
	addr    *netlink.Addr // address added here
}

// Apply brings cfg about in the calling thread's network namespace and
// returns what it did. On error it reverses what it had done.
func Apply(cfg Config, log *slog.Logger) (*Setup, error) {
	if log == nil {
		log = slog.Default()
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink: %w", err)
	}
	s := &Setup{h: h, log: log}
	for _, name := range cfg.Interfaces {
		if err := s.prepare(name, cfg); err != nil {
			return nil, errors.Join(err, s.Undo())
		}
	}
	if err := s.Sync(cfg.VLANs); err != nil {
		return nil, errors.Join(err, s.Undo())
	}
	return s, nil
}

// prepare sets one parent's MTU, promiscuity and state.
func (s *Setup) prepare(name string, cfg Config) error {
	l, err := s.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find interface %s: %w", name, err)
	}
	a := l.Attrs()
	if len(cfg.VLANs) > 0 && l.Type() == "vlan" {
		return fmt.Errorf("create VLAN sub-interfaces on %s: it is a VLAN interface itself (name its parent instead)", name)
	}
	p := &parent{name: name, index: a.Index, vlans: map[uint16]*subif{}}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	if cfg.MTU != 0 && a.MTU != cfg.MTU {
		if err := s.h.LinkSetMTU(l, cfg.MTU); err != nil {
			return fmt.Errorf("set MTU of %s to %d: %w", name, cfg.MTU, privileged(err))
		}
		old := a.MTU
		s.done(p, fmt.Sprintf("mtu %d -> %d", old, cfg.MTU), func(l netlink.Link) error { return s.h.LinkSetMTU(l, old) })
	}
	if cfg.Promisc && a.RawFlags&unix.IFF_PROMISC == 0 {
		if err := s.h.SetPromiscOn(l); err != nil {
			return fmt.Errorf("set %s promiscuous: %w", name, privileged(err))
		}
		s.done(p, "promisc on", s.h.SetPromiscOff)
	}
	if cfg.Up && a.RawFlags&unix.IFF_UP == 0 {
		if err := s.h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set %s up: %w", name, privileged(err))
		}
		s.done(p, "up", s.h.LinkSetDown)
	}
	return nil
}

func (s *Setup) done(p *parent, what string, revert func(netlink.Link) error) {
	p.undo = append(p.undo, step{what, revert})
	s.log.Info("interface set up", "interface", p.name, "change", what)
}

// Sync makes every parent carry exactly the sub-interfaces vlans names
// among those this Setup manages: missing ones are created (or adopted),
// ones no longer wanted are deleted if created here, else given back as
// they were found.
func (s *Setup) Sync(vlans []VLAN) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sync VLAN interfaces: set-up undone")
	}
	want := map[uint16]VLAN{}
	for _, v := range vlans {
		want[v.ID] = v
	}
	var errs []error
	for _, p := range s.parents {
		for _, vid := range sortedIDs(p.vlans) {
			sub := p.vlans[vid]
			if v, ok := want[vid]; ok && sameAddr(sub, v) {
				continue
			}
			errs = append(errs, s.release(sub))
			delete(p.vlans, vid)
		}
		for _, v := range vlans {
			if _, ok := p.vlans[v.ID]; ok {
				continue
			}
			sub, err := s.ensure(p, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.vlans[v.ID] = sub
		}
	}
	return errors.Join(errs...)
}

// sameAddr reports whether sub already has v's address as asked.
func sameAddr(sub *subif, v VLAN) bool {
	if !v.Address.IsValid() {
		return sub.addr == nil
	}
	return sub.addr != nil && toPrefix(sub.addr.IPNet) == v.Address
}

func sortedIDs(m map[uint16]*subif) []uint16 {
	ids := make([]uint16, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ensure creates or adopts VLAN v's sub-interface on p, gives it v's
// address and brings it up.
func (s *Setup) ensure(p *parent, v VLAN) (*subif, error) {
	name := Name(p.name, v.ID)
	if len(name) > MaxNameLen {
		return nil, fmt.Errorf("create VLAN interface %s: name longer than %d bytes", name, MaxNameLen)
	}
	l, err := s.adoptable(p, v.ID, name)
	if err != nil {
		return nil, err
	}
	sub := &subif{name: name, vid: v.ID}
	if l == nil {
		vl := &netlink.Vlan{
			LinkAttrs:    netlink.LinkAttrs{Name: name, ParentIndex: p.index},
			VlanId:       int(v.ID),
			VlanProtocol: netlink.VLAN_PROTOCOL_8021Q,
		}
		if err := s.h.LinkAdd(vl); err != nil {
			if errors.Is(err, unix.EOPNOTSUPP) {
				err = ErrNoVLAN
			}
			return nil, fmt.Errorf("create VLAN interface %s: %w", name, privileged(err))
		}
		l, sub.created = vl, true
		// As sie-update leaves them: no IPv6 link-local address, so the
		// interface sends no router solicitations. A kernel without IPv6
		// refuses this, which is just as good.
		_ = s.h.LinkSetIP6AddrGenMode(vl, nl.IN6_ADDR_GEN_MODE_NONE)
		s.log.Info("interface set up", "interface", name, "change", fmt.Sprintf("created VLAN %d on %s", v.ID, p.name))
	} else {
		sub.name = l.Attrs().Name
		s.log.Info("interface set up", "interface", sub.name, "change", fmt.Sprintf("adopted existing VLAN %d on %s", v.ID, p.name))
	}
	sub.index = l.Attrs().Index
	fail := func(err error) (*subif, error) { return nil, errors.Join(err, s.release(sub)) }
	if v.Address.IsValid() {
		addr := &netlink.Addr{IPNet: toIPNet(v.Address)}
		switch err := s.h.AddrAdd(l, addr); {
		case errors.Is(err, unix.EEXIST):
			// Already there: not ours to remove.
		case err != nil:
			return fail(fmt.Errorf("add address %s to %s: %w", v.Address, sub.name, privileged(err)))
		default:
			sub.addr = addr
			s.log.Info("interface set up", "interface", sub.name, "change", "address "+v.Address.String())
		}
	}
	if l.Attrs().RawFlags&unix.IFF_UP == 0 {
		if err := s.h.LinkSetUp(l); err != nil {
			return fail(fmt.Errorf("set %s up: %w", sub.name, privileged(err)))
		}
		sub.setUp = !sub.created
	}
	return sub, nil
}

// adoptable returns the existing sub-interface of VLAN vid on p, found by
// name or, failing that, among p's VLAN interfaces; nil if there is none.
func (s *Setup) adoptable(p *parent, vid uint16, name string) (netlink.Link, error) {
	l, err := s.h.LinkByName(name)
	if err == nil {
		if vl, ok := l.(*netlink.Vlan); !ok || vl.ParentIndex != p.index || vl.VlanId != int(vid) {
			return nil, fmt.Errorf("create VLAN interface %s: an interface of that name exists and is not VLAN %d on %s", name, vid, p.name)
		}
		return l, nil
	}
	if !errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil, fmt.Errorf("find interface %s: %w", name, err)
	}
	links, err := s.linkList()
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if vl, ok := l.(*netlink.Vlan); ok && vl.ParentIndex == p.index && vl.VlanId == int(vid) {
			return l, nil
		}
	}
	return nil, nil
}

// linkList lists the namespace's links, retrying a dump that changed
// while it was read.
func (s *Setup) linkList() ([]netlink.Link, error) {
	for range 4 {
		links, err := s.h.LinkList()
		if errors.Is(err, netlink.ErrDumpInterrupted) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list interfaces: %w", err)
		}
		return links, nil
	}
	return nil, fmt.Errorf("list interfaces: %w", netlink.ErrDumpInterrupted)
}

// release deletes a sub-interface created here, or reverses what was
// changed on an adopted one.
func (s *Setup) release(sub *subif) error {
	l, err := s.linkByIndex(sub.index, sub.name)
	if err != nil || l == nil {
		return err
	}
	if sub.created {
		if err := s.h.LinkDel(l); err != nil {
			return fmt.Errorf("delete VLAN interface %s: %w", sub.name, privileged(err))
		}
		s.log.Info("interface restored", "interface", sub.name, "change", "deleted")
		return nil
	}
	var errs []error
	if sub.addr != nil {
		if err := s.h.AddrDel(l, sub.addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs = append(errs, fmt.Errorf("remove address from %s: %w", sub.name, privileged(err)))
		} else {
			s.log.Info("interface restored", "interface", sub.name, "change", "address removed")
		}
	}
	if sub.setUp {
		if err := s.h.LinkSetDown(l); err != nil {
			errs = append(errs, fmt.Errorf("set %s down: %w", sub.name, privileged(err)))
		} else {
			s.log.Info("interface restored", "interface", sub.name, "change", "down")
		}
	}
	return errors.Join(errs...)
}

// linkByIndex returns the link index if it is still the one named name,
// nil if it is gone.
func (s *Setup) linkByIndex(index int, name string) (netlink.Link, error) {
	l, err := s.h.LinkByIndex(index)
	if errors.As(err, &netlink.LinkNotFoundError{}) || err == nil && l.Attrs().Name != name {
		s.log.Info("interface gone, nothing to restore", "interface", name)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find interface %s: %w", name, err)
	}
	return l, nil
}

// Undo reverses every change Apply and Sync made, newest first, and
// closes the netlink socket. It is safe to call more than once.
func (s *Setup) Undo() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for i := len(s.parents) - 1; i >= 0; i-- {
		p := s.parents[i]
		ids := sortedIDs(p.vlans)
		for j := len(ids) - 1; j >= 0; j-- {
			errs = append(errs, s.release(p.vlans[ids[j]]))
		}
		l, err := s.linkByIndex(p.index, p.name)
		if err != nil || l == nil {
			errs = append(errs, err)
			continue
		}
		for j := len(p.undo) - 1; j >= 0; j-- {
			st := p.undo[j]
			if err := st.revert(l); err != nil {
				errs = append(errs, fmt.Errorf("undo %s on %s: %w", st.what, p.name, privileged(err)))
				continue
			}
			s.log.Info("interface restored", "interface", p.name, "change", "undid "+st.what)
		}
	}
	s.parents = nil
	s.h.Close()
	return errors.Join(errs...)
}

// privileged names the capability an EPERM from netlink is about.
func privileged(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%w (needs CAP_NET_ADMIN)", err)
	}
	return err
}

func toIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func toPrefix(n *net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// PairConfig describes a veth pair between two fresh namespaces.
type PairConfig struct {
	// Prefix names the namespaces (Prefix-a, Prefix-b) and the links
	// (Prefix-a, Prefix-b). It must be at most 13 bytes; UniquePrefix
	// returns a suitable one. Empty means UniquePrefix().
	Prefix string
	// MTU of both ends; 0 means 1500.
	MTU int
	// AddrA and AddrB are the ends' addresses with prefix length; the zero
	// value means 198.18.0.1/24 and 198.18.0.2/24. They must lie in
	// 198.18.0.0/15.
	AddrA, AddrB netip.Prefix
}

// End is one side of a Pair.
type End struct {
	NS    *Namespace
	Link  string // interface name inside NS
	Index int    // interface index inside NS
	MAC   net.HardwareAddr
	Addr  netip.Prefix
}

// Pair is a veth pair whose ends live in two namespaces, A and B, both up.
type Pair struct {
	A, B End
}

var benchNet = netip.MustParsePrefix("198.18.0.0/15")

// NewPair creates two namespaces and a veth pair between them, sets the MTU
// and addresses and brings both ends up. Close removes everything.
func NewPair(cfg PairConfig) (*Pair, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = UniquePrefix()
	}
	if len(cfg.Prefix) > 13 {
		return nil, fmt.Errorf("check prefix %q: longer than 13 bytes", cfg.Prefix)
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if !cfg.AddrA.IsValid() {
		cfg.AddrA = netip.MustParsePrefix("198.18.0.1/24")
	}
	if !cfg.AddrB.IsValid() {
		cfg.AddrB = netip.MustParsePrefix("198.18.0.2/24")
	}
	for _, a := range []netip.Prefix{cfg.AddrA, cfg.AddrB} {
		if !benchNet.Contains(a.Addr()) {
			return nil, fmt.Errorf("check address %s: outside %s", a, benchNet)
		}
	}
	p := &Pair{}
	var err error
	if p.A.NS, err = NewNamespace(cfg.Prefix + "-a"); err != nil {
		return nil, err
	}
	if p.B.NS, err = NewNamespace(cfg.Prefix + "-b"); err != nil {
		p.Close()
		return nil, err
	}
	p.A.Link, p.B.Link = cfg.Prefix+"-a", cfg.Prefix+"-b"
	p.A.Addr, p.B.Addr = cfg.AddrA, cfg.AddrB
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: p.A.Link, MTU: cfg.MTU},
		PeerName:      p.B.Link,
		PeerMTU:       uint32(cfg.MTU),
		PeerNamespace: netlink.NsFd(int(p.B.NS.Handle())),
	}
	if err := p.A.NS.Netlink().LinkAdd(veth); err != nil {
		p.Close()
		return nil, fmt.Errorf("add veth %s: %w", p.A.Link, err)
	}
	for _, e := range []*End{&p.A, &p.B} {
		if err := e.setUp(); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

func (e *End) setUp() error {
	nl := e.NS.Netlink()
	l, err := nl.LinkByName(e.Link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", e.Link, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{
		IP:   e.Addr.Addr().AsSlice(),
		Mask: net.CIDRMask(e.Addr.Bits(), e.Addr.Addr().BitLen()),
	}}
	if err := nl.AddrAdd(l, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", e.Addr, e.Link, err)
	}
	if err := nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", e.Link, err)
	}
	e.Index = l.Attrs().Index
	e.MAC = l.Attrs().HardwareAddr
	return nil
}

// Close deletes both namespaces (and with them the veth pair).
func (p *Pair) Close() error {
	var errs []error
	for _, ns := range []*Namespace{p.A.NS, p.B.NS} {
		if ns != nil {
			errs = append(errs, ns.Close())
		}
	}
	return errors.Join(errs...)
}

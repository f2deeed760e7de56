package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// SIE channel addressing in the lab. Channel N (1..511) uses the N-th /24
// of 198.18.0.0/15, whose broadcast address and port 8430 carry its NMSG
// datagrams, and VLAN id N. Channel 0's /24 numbers the uplink instead:
// VLAN id 0 is 802.1Q's priority tag, not a VLAN, so it carries no channel.
const (
	MaxChannel  = 511
	ChannelPort = 8430
	// DefaultMTU is the SIE link's MTU.
	DefaultMTU = 9000
	// DefaultUplinkRate is the uplink's shaped rate in bits per second.
	DefaultUplinkRate = 100_000_000
	// DefaultStateDir holds one state file per lab.
	DefaultStateDir = "/run/siecap"
	// MaxPrefixLen keeps "<prefix>-sie" within the 15-byte interface name
	// limit.
	MaxPrefixLen = 11
)

// DefaultChannels are the channels a lab carries when none are named.
var DefaultChannels = []int{202, 204, 207, 208, 212, 213}

// ChannelNet returns channel ch's /24.
func ChannelNet(ch int) netip.Prefix {
	a := [4]byte{198, 18 + byte(ch>>8), byte(ch), 0}
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}

// ChannelBroadcast returns the address channel ch's datagrams go to.
func ChannelBroadcast(ch int) netip.Addr {
	a := ChannelNet(ch).Addr().As4()
	a[3] = 255
	return netip.AddrFrom4(a)
}

// channelHost returns host h of channel ch's /24 with its prefix length.
func channelHost(ch int, h byte) netip.Prefix {
	a := ChannelNet(ch).Addr().As4()
	a[3] = h
	return netip.PrefixFrom(netip.AddrFrom4(a), 24)
}

// CheckChannel reports whether ch can carry a feed.
func CheckChannel(ch int) error {
	if ch < 1 || ch > MaxChannel {
		return fmt.Errorf("check channel %d: outside 1..%d", ch, MaxChannel)
	}
	return nil
}

// Names are the namespaces and links of the lab with a given prefix; they
// follow from the prefix alone, so leftovers of a crashed run can be found.
type Names struct {
	SwitchNS, ApplianceNS, ReceiverNS string
	// SwitchLink (in SwitchNS) is the SIE switch port; SIELink (in
	// ApplianceNS) the appliance's SIE NIC; UplinkLink (in ApplianceNS)
	// its uplink port; ReceiverLink (in ReceiverNS) the far end.
	SwitchLink, SIELink, UplinkLink, ReceiverLink string
}

// NamesFor returns the names of the lab with prefix p.
func NamesFor(p string) Names {
	return Names{
		SwitchNS: p + "-sw", ApplianceNS: p + "-app", ReceiverNS: p + "-rx",
		SwitchLink: p + "-sw", SIELink: p + "-sie", UplinkLink: p + "-up", ReceiverLink: p + "-rx",
	}
}

// Namespaces lists the namespace names.
func (n Names) Namespaces() []string { return []string{n.SwitchNS, n.ApplianceNS, n.ReceiverNS} }

// Config describes a lab.
type Config struct {
	// Prefix names everything (at most MaxPrefixLen bytes); empty means
	// UniquePrefix().
	Prefix string
	// Channels carried on the SIE link; nil means DefaultChannels. Each
	// gets an address on both ends of the SIE link, so that plain UDP
	// sockets in the appliance receive its broadcasts.
	Channels []int
	// MTU of the SIE link; 0 means DefaultMTU.
	MTU int
	// UplinkRate in bits per second; 0 means DefaultUplinkRate.
	UplinkRate uint64
	// StateDir holds the state file; empty means DefaultStateDir.
	StateDir string
}

// Lab is an SIE switch, an appliance and a receiver, each in its own
// network namespace: the switch and the appliance joined by the SIE link
// (a veth pair), the appliance and the receiver by the uplink (a veth pair
// shaped with a TBF qdisc on the appliance's side).
type Lab struct {
	Prefix   string
	Names    Names
	Channels []int
	MTU      int
	// Switch and SIE are the two ends of the SIE link; Uplink and Receiver
	// the two ends of the uplink. SIE and Uplink live in the appliance's
	// namespace.
	Switch, SIE, Uplink, Receiver End
	Appliance                     *Namespace
	StateFile                     string

	owned bool // Close deletes the namespaces
}

// Up creates the lab described by cfg and writes its state file. On error
// everything made so far is removed.
func Up(cfg Config) (*Lab, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = UniquePrefix()
	}
	if len(cfg.Prefix) > MaxPrefixLen || cfg.Prefix == "" {
		return nil, fmt.Errorf("check prefix %q: want 1 to %d bytes", cfg.Prefix, MaxPrefixLen)
	}
	if cfg.Channels == nil {
		cfg.Channels = DefaultChannels
	}
	chans := slices.Clone(cfg.Channels)
	slices.Sort(chans)
	chans = slices.Compact(chans)
	for _, ch := range chans {
		if err := CheckChannel(ch); err != nil {
			return nil, err
		}
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.UplinkRate == 0 {
		cfg.UplinkRate = DefaultUplinkRate
	}
	if cfg.StateDir == "" {
		cfg.StateDir = DefaultStateDir
	}
	names := NamesFor(cfg.Prefix)
	for _, n := range names.Namespaces() {
		if nsExists(n) {
			return nil, fmt.Errorf("create lab %s: namespace %s exists (remove it with lab down --prefix %s)", cfg.Prefix, n, cfg.Prefix)
		}
	}
	l := &Lab{Prefix: cfg.Prefix, Names: names, Channels: chans, MTU: cfg.MTU, owned: true,
		StateFile: stateFile(cfg.StateDir, cfg.Prefix)}
	// The state file comes first, so that a crash in the middle leaves a
	// record for down.
	if err := writeState(l.StateFile, l.state(cfg.UplinkRate)); err != nil {
		return nil, err
	}
	if err := l.build(cfg); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

func (l *Lab) build(cfg Config) error {
	var err error
	n := l.Names
	if l.Switch.NS, err = newQuietNamespace(n.SwitchNS); err != nil {
		return err
	}
	if l.Appliance, err = newQuietNamespace(n.ApplianceNS); err != nil {
		return err
	}
	if l.Receiver.NS, err = newQuietNamespace(n.ReceiverNS); err != nil {
		return err
	}
	l.SIE.NS, l.Uplink.NS = l.Appliance, l.Appliance
	l.Switch.Link, l.SIE.Link, l.Uplink.Link, l.Receiver.Link = n.SwitchLink, n.SIELink, n.UplinkLink, n.ReceiverLink
	if err := addVeth(&l.Switch, &l.SIE, cfg.MTU); err != nil {
		return err
	}
	if err := addVeth(&l.Uplink, &l.Receiver, 1500); err != nil {
		return err
	}
	for _, ch := range l.Channels {
		if err := addAddr(&l.Switch, channelHost(ch, 1)); err != nil {
			return err
		}
		if err := addAddr(&l.SIE, channelHost(ch, 2)); err != nil {
			return err
		}
	}
	l.Switch.Addr, l.SIE.Addr = channelHost(l.Channels[0], 1), channelHost(l.Channels[0], 2)
	if err := addAddr(&l.Uplink, channelHost(0, 1)); err != nil {
		return err
	}
	if err := addAddr(&l.Receiver, channelHost(0, 2)); err != nil {
		return err
	}
	for _, e := range []*End{&l.Switch, &l.SIE, &l.Uplink, &l.Receiver} {
		if err := linkUp(e); err != nil {
			return err
		}
	}
	return shapeUplink(&l.Uplink, cfg.UplinkRate)
}

// newQuietNamespace creates a namespace with IPv6 disabled, so that no
// router solicitations or neighbour discovery add frames to a feed.
func newQuietNamespace(name string) (*Namespace, error) {
	ns, err := NewNamespace(name)
	if err != nil {
		return nil, err
	}
	err = ns.Do(func() error {
		for _, f := range []string{"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"} {
			if err := os.WriteFile(f, []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("disable ipv6 in %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, ns.Close())
	}
	return ns, nil
}

// addVeth creates a veth pair a.Link (in a.NS) and b.Link (in b.NS).
func addVeth(a, b *End, mtu int) error {
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: a.Link, MTU: mtu},
		PeerName:      b.Link,
		PeerMTU:       uint32(mtu),
		PeerNamespace: netlink.NsFd(int(b.NS.Handle())),
	}
	if err := a.NS.Netlink().LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", a.Link, err)
	}
	return nil
}

func addAddr(e *End, p netip.Prefix) error {
	l, err := e.NS.Netlink().LinkByName(e.Link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", e.Link, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}}
	if err := e.NS.Netlink().AddrAdd(l, a); err != nil {
		return fmt.Errorf("add address %s to %s: %w", p, e.Link, err)
	}
	if !e.Addr.IsValid() {
		e.Addr = p
	}
	return nil
}

func linkUp(e *End) error {
	nl := e.NS.Netlink()
	l, err := nl.LinkByName(e.Link)
	if err != nil {
		return fmt.Errorf("find link %s: %w", e.Link, err)
	}
	if err := nl.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", e.Link, err)
	}
	e.Index, e.MAC = l.Attrs().Index, l.Attrs().HardwareAddr
	return nil
}

// shapeUplink puts a TBF qdisc on e's egress: rate bits/s, a 64 KiB burst
// and 100 ms of queue.
func shapeUplink(e *End, rate uint64) error {
	bytesPerSec := rate / 8
	const burst = 64 << 10
	q := &netlink.Tbf{
		QdiscAttrs: netlink.QdiscAttrs{LinkIndex: e.Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		Rate:       bytesPerSec,
		Limit:      uint32(max(bytesPerSec/10, 2*burst)),
		Buffer:     netlink.Xmittime(bytesPerSec, burst),
	}
	if err := e.NS.Netlink().QdiscAdd(q); err != nil {
		return fmt.Errorf("add tbf qdisc to %s: %w", e.Link, err)
	}
	return nil
}

// Close releases the lab's handles. A lab made by Up is also removed (its
// namespaces, links and state file); one made by Open stays.
func (l *Lab) Close() error {
	if l.owned {
		_, err := Down(l.Prefix, dirOf(l.StateFile))
		for _, ns := range []*Namespace{l.Switch.NS, l.Appliance, l.Receiver.NS} {
			if ns != nil {
				ns.release()
			}
		}
		return err
	}
	for _, ns := range []*Namespace{l.Switch.NS, l.Appliance, l.Receiver.NS} {
		if ns != nil {
			ns.release()
		}
	}
	return nil
}

// Keep makes Close leave the lab in place (lab up hands it to later
// commands).
func (l *Lab) Keep() { l.owned = false }

// openNamespace opens the existing named namespace without taking
// ownership: release closes its handles and leaves it.
func openNamespace(name string) (*Namespace, error) {
	h, err := netns.GetFromName(name)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", name, err)
	}
	nl, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("open netlink in %s: %w", name, err)
	}
	return &Namespace{Name: name, handle: h, nl: nl}, nil
}

// release closes the namespace's handles without deleting it.
func (ns *Namespace) release() {
	ns.once.Do(func() {
		if ns.nl != nil {
			ns.nl.Close()
		}
		ns.handle.Close()
	})
}

func nsExists(name string) bool {
	h, err := netns.GetFromName(name)
	if err != nil {
		return false
	}
	h.Close()
	return true
}

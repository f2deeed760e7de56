package netsetup

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Link is an interface's state as the set-up sees it.
type Link struct {
	Name  string
	Index int
	MTU   int
	Up    bool // administratively up (IFF_UP)
	// Promisc is the IFF_PROMISC flag set with ip link or Apply; sockets'
	// promiscuous memberships do not show in it.
	Promisc bool
	// VLAN is a VLAN interface's id and Parent its parent's name; 0 and ""
	// for other interfaces.
	VLAN   uint16
	Parent string
	// Addresses are its IPv4 and IPv6 addresses.
	Addresses []netip.Prefix
}

// ErrNotFound reports an interface that does not exist.
var ErrNotFound = errors.New("no such interface")

// Inspect returns the state of the interface name in h's network
// namespace (h nil: the calling thread's).
func Inspect(h *netlink.Handle, name string) (Link, error) {
	if h == nil {
		var err error
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return Link{}, fmt.Errorf("open netlink: %w", err)
		}
		defer h.Close()
	}
	l, err := h.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return Link{}, fmt.Errorf("inspect interface %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Link{}, fmt.Errorf("inspect interface %s: %w", name, err)
	}
	a := l.Attrs()
	out := Link{Name: a.Name, Index: a.Index, MTU: a.MTU, Up: a.RawFlags&unix.IFF_UP != 0, Promisc: a.RawFlags&unix.IFF_PROMISC != 0}
	if vl, ok := l.(*netlink.Vlan); ok {
		out.VLAN = uint16(vl.VlanId)
		if p, err := h.LinkByIndex(vl.ParentIndex); err == nil {
			out.Parent = p.Attrs().Name
		}
	}
	addrs, err := h.AddrList(l, unix.AF_UNSPEC)
	if err != nil {
		return Link{}, fmt.Errorf("list addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		out.Addresses = append(out.Addresses, toPrefix(a.IPNet))
	}
	return out, nil
}

// Inspect returns the state of the interface name in the Setup's network
// namespace.
func (s *Setup) Inspect(name string) (Link, error) { return Inspect(s.h, name) }

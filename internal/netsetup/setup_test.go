package netsetup_test

import (
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/siecap/siecap/internal/netsetup"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newPair makes a veth pair at MTU 1500; the tests set up its B end.
func newPair(t *testing.T) *lab.Pair {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin)
	p, err := lab.NewPair(lab.PairConfig{MTU: 1500})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// apply runs netsetup.Apply inside the B end's namespace.
func apply(t *testing.T, p *lab.Pair, cfg netsetup.Config) (*netsetup.Setup, error) {
	t.Helper()
	var s *netsetup.Setup
	err := p.B.NS.Do(func() (err error) {
		s, err = netsetup.Apply(cfg, quiet)
		return err
	})
	if s != nil {
		t.Cleanup(func() { s.Undo() })
	}
	return s, err
}

func inspect(t *testing.T, p *lab.Pair, name string) netsetup.Link {
	t.Helper()
	l, err := netsetup.Inspect(p.B.NS.Netlink(), name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func link(t *testing.T, p *lab.Pair, name string) netlink.Link {
	t.Helper()
	l, err := p.B.NS.Netlink().LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestApplyAndUndo sets a down veth end up, to MTU 9000 and promiscuous,
// and checks that Undo puts every setting back.
func TestApplyAndUndo(t *testing.T) {
	p := newPair(t)
	if err := p.B.NS.Netlink().LinkSetDown(link(t, p, p.B.Link)); err != nil {
		t.Fatal(err)
	}
	s, err := apply(t, p, netsetup.Config{Interfaces: []string{p.B.Link}, Up: true, MTU: 9000, Promisc: true})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if l := inspect(t, p, p.B.Link); !l.Up || l.MTU != 9000 || !l.Promisc {
		t.Errorf("after Apply: %+v, want up, MTU 9000, promiscuous", l)
	}
	if err := s.Undo(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if l := inspect(t, p, p.B.Link); l.Up || l.MTU != 1500 || l.Promisc {
		t.Errorf("after Undo: %+v, want down, MTU 1500, not promiscuous", l)
	}
	if err := s.Undo(); err != nil {
		t.Errorf("second Undo: %v", err)
	}
}

// TestUndoLeavesWhatWasAlreadySet checks that settings found as asked are
// not reversed: the link was up, at MTU 9000 and promiscuous before.
func TestUndoLeavesWhatWasAlreadySet(t *testing.T) {
	p := newPair(t)
	nl := p.B.NS.Netlink()
	l := link(t, p, p.B.Link)
	if err := nl.LinkSetMTU(l, 9000); err != nil {
		t.Fatal(err)
	}
	if err := nl.SetPromiscOn(l); err != nil {
		t.Fatal(err)
	}
	s, err := apply(t, p, netsetup.Config{Interfaces: []string{p.B.Link}, Up: true, MTU: 9000, Promisc: true})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := s.Undo(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if l := inspect(t, p, p.B.Link); !l.Up || l.MTU != 9000 || !l.Promisc {
		t.Errorf("after Undo: %+v, want it as it was: up, MTU 9000, promiscuous", l)
	}
}

// TestApplyFailureUndoes checks that a failing Apply reverses what it had
// already done and names the interface.
func TestApplyFailureUndoes(t *testing.T) {
	p := newPair(t)
	_, err := apply(t, p, netsetup.Config{Interfaces: []string{p.B.Link, "nonexistent0"}, Up: true, MTU: 9000})
	if err == nil || !strings.Contains(err.Error(), "find interface nonexistent0") {
		t.Fatalf("apply with a missing interface: %v", err)
	}
	if l := inspect(t, p, p.B.Link); l.MTU != 1500 {
		t.Errorf("MTU %d after the failed Apply, want 1500 again", l.MTU)
	}
	if _, err := netsetup.Inspect(p.B.NS.Netlink(), "nonexistent0"); !errors.Is(err, netsetup.ErrNotFound) {
		t.Errorf("Inspect of a missing interface: %v", err)
	}
}

// requireVLAN skips t when the kernel cannot make VLAN interfaces (err
// from Apply).
func requireVLAN(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, netsetup.ErrNoVLAN) {
		t.Skip("kernel lacks CONFIG_VLAN_8021Q")
	}
}

// TestVLANSubinterfaces creates VLAN sub-interfaces the way sie-update
// does, adopts existing ones (by name and under another name), follows a
// change of channels with Sync, and deletes on Undo only what it created.
func TestVLANSubinterfaces(t *testing.T) {
	p := newPair(t)
	nl := p.B.NS.Netlink()
	name := func(vid uint16) string { return netsetup.Name(p.B.Link, vid) }
	// Without 802.1Q support Apply says so and leaves the MTU as it was.
	probe, err := apply(t, p, netsetup.Config{Interfaces: []string{p.B.Link}, MTU: 9000, VLANs: []netsetup.VLAN{{ID: 204}}})
	if errors.Is(err, netsetup.ErrNoVLAN) {
		if !strings.Contains(err.Error(), "create VLAN interface "+name(204)) {
			t.Errorf("error does not name the interface: %v", err)
		}
		if l := inspect(t, p, p.B.Link); l.MTU != 1500 {
			t.Errorf("MTU %d after the failed Apply, want 1500 again", l.MTU)
		}
		t.Skip("kernel lacks CONFIG_VLAN_8021Q")
	}
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if err := probe.Undo(); err != nil {
		t.Fatal(err)
	}
	parent := link(t, p, p.B.Link)
	addVLAN := func(name string, vid int) {
		t.Helper()
		err := nl.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: parent.Attrs().Index}, VlanId: vid})
		if errors.Is(err, unix.EOPNOTSUPP) {
			t.Skip("kernel lacks CONFIG_VLAN_8021Q")
		}
		if err != nil {
			t.Fatalf("add VLAN %d: %v", vid, err)
		}
	}
	// VLAN 206 exists under another name, up; VLAN 207 under the usual
	// name, down.
	addVLAN("v206", 206)
	if err := nl.LinkSetUp(link(t, p, "v206")); err != nil {
		t.Fatal(err)
	}
	addVLAN(name(207), 207)

	addr := netip.MustParsePrefix("198.18.204.2/24")
	cfg := netsetup.Config{Interfaces: []string{p.B.Link}, Up: true, MTU: 9000,
		VLANs: []netsetup.VLAN{{ID: 204, Address: addr}, {ID: 205}, {ID: 206}, {ID: 207}}}
	s, err := apply(t, p, cfg)
	requireVLAN(t, err)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	l := inspect(t, p, name(204))
	if l.VLAN != 204 || l.Parent != p.B.Link || !l.Up || l.MTU != 9000 || !slices.Contains(l.Addresses, addr) {
		t.Errorf("%s: %+v, want VLAN 204 on %s, up, MTU 9000, with %s", name(204), l, p.B.Link, addr)
	}
	for _, a := range l.Addresses {
		if a.Addr().Is6() {
			t.Errorf("%s has IPv6 address %s; address generation should be off", name(204), a)
		}
	}
	if l := inspect(t, p, name(205)); l.VLAN != 205 || !l.Up {
		t.Errorf("%s: %+v", name(205), l)
	}
	if _, err := netsetup.Inspect(nl, name(206)); !errors.Is(err, netsetup.ErrNotFound) {
		t.Errorf("VLAN 206 exists as v206, yet %s was made: %v", name(206), err)
	}
	if l := inspect(t, p, name(207)); !l.Up {
		t.Errorf("adopted %s not brought up: %+v", name(207), l)
	}

	// The channels change: 205 goes, 208 comes.
	if err := s.Sync([]netsetup.VLAN{{ID: 204, Address: addr}, {ID: 206}, {ID: 207}, {ID: 208}}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if _, err := netsetup.Inspect(nl, name(205)); !errors.Is(err, netsetup.ErrNotFound) {
		t.Errorf("%s still there after Sync dropped it: %v", name(205), err)
	}
	if l := inspect(t, p, name(208)); l.VLAN != 208 || !l.Up {
		t.Errorf("%s: %+v", name(208), l)
	}

	if err := s.Undo(); err != nil {
		t.Fatalf("undo: %v", err)
	}
	for _, vid := range []uint16{204, 208} {
		if _, err := netsetup.Inspect(nl, name(vid)); !errors.Is(err, netsetup.ErrNotFound) {
			t.Errorf("%s, created by Apply, still there after Undo: %v", name(vid), err)
		}
	}
	if l := inspect(t, p, "v206"); !l.Up {
		t.Errorf("v206, found up, is %+v after Undo", l)
	}
	if l := inspect(t, p, name(207)); l.Up {
		t.Errorf("%s, found down, is up after Undo", name(207))
	}
	if l := inspect(t, p, p.B.Link); l.MTU != 1500 {
		t.Errorf("parent MTU %d after Undo, want 1500", l.MTU)
	}
}

// TestVLANNameConflict checks that an interface of another kind holding a
// sub-interface's name is refused, not taken over or deleted.
func TestVLANNameConflict(t *testing.T) {
	p := newPair(t)
	conflict := netsetup.Name(p.B.Link, 209)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: conflict}, PeerName: p.B.Link + "x"}
	if err := p.B.NS.Netlink().LinkAdd(veth); err != nil {
		t.Fatalf("add veth %s: %v", conflict, err)
	}
	_, err := apply(t, p, netsetup.Config{Interfaces: []string{p.B.Link}, VLANs: []netsetup.VLAN{{ID: 209}}})
	requireVLAN(t, err)
	if err == nil || !strings.Contains(err.Error(), "is not VLAN 209") {
		t.Fatalf("apply over a veth named %s: %v", conflict, err)
	}
	if _, err := netsetup.Inspect(p.B.NS.Netlink(), conflict); err != nil {
		t.Errorf("the conflicting interface was touched: %v", err)
	}
}

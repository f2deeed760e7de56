package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/siecap/siecap/internal/netsetup"
	"github.com/siecap/siecap/internal/testutil"
	"github.com/siecap/siecap/lab"
	"github.com/siecap/siecap/lab/synth"
)

// TestDaemonInterfaceSetup starts the daemon on a veth end that is down at
// MTU 1500: it must bring it up at MTU 9000, promiscuous, capture through
// it, and on stop leave it as it found it.
func TestDaemonInterfaceSetup(t *testing.T) {
	p := vethPair(t, 1500, 9)
	nl := p.B.NS.Netlink()
	l, err := nl.LinkByName(p.B.Link)
	if err == nil {
		err = nl.LinkSetDown(l)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := startDaemon(t, p.B.NS, fmt.Sprintf(`interfaces = [%q]
[setup]
link_up = true
mtu = 9000
promisc = true
[capture]
promisc = false
[spool]
dir = %q
commit_interval = "20ms"
[control]
socket = %q
[[channel]]
number = 9
vlan = 0
addresses = ["198.18.9.2/8430"]
dedupe = "none"
`, p.B.Link, filepath.Join(dir, "spool"), filepath.Join(dir, "siecap.sock")))
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	if got, err := netsetup.Inspect(nl, p.B.Link); err != nil || !got.Up || got.MTU != 9000 || !got.Promisc {
		t.Errorf("%s while the daemon runs: %+v (%v), want up, MTU 9000, promiscuous", p.B.Link, got, err)
	}
	if f := d.ifaces[0].filter; f != "xdp" {
		t.Errorf("filter %s, want XDP attached at MTU 9000", f)
	}
	// Traffic flows through the interface the daemon brought up.
	sender := newUDPSender(t, p.A.NS, p.A.Addr.Addr())
	sender.send(netip.MustParseAddrPort("198.18.9.2:8430"), generate(200, synth.NewNewDomain(9, 1764115200)), 1400, false)
	waitCounters(t, "capture after set-up", direct(d), map[uint16]map[string]uint64{9: {"stored": 200}})

	if err := d.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if got, err := netsetup.Inspect(nl, p.B.Link); err != nil || got.Up || got.MTU != 1500 || got.Promisc {
		t.Errorf("%s after stop: %+v (%v), want it as found: down, MTU 1500, not promiscuous", p.B.Link, got, err)
	}
}

// vlanLab builds a lab whose SIE link name leaves room for ".NNNN" (a
// unique prefix of 5 bytes) and skips t when the kernel cannot make VLAN
// interfaces.
func vlanLab(t *testing.T, channels ...int) *lab.Lab {
	t.Helper()
	testutil.RequireCaps(t, testutil.CapSysAdmin, testutil.CapNetAdmin, testutil.CapNetRaw, testutil.CapBPF)
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	l, err := lab.Up(lab.Config{Prefix: "v" + hex.EncodeToString(b[:]), Channels: channels, StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("build lab: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	// A VLAN interface made and removed by the test itself tells whether
	// the kernel has them.
	probe := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: "vprobe", ParentIndex: l.SIE.Index}, VlanId: 4000}
	switch err := l.Appliance.Netlink().LinkAdd(probe); {
	case errors.Is(err, unix.EOPNOTSUPP):
		t.Skip("kernel lacks CONFIG_VLAN_8021Q")
	case err != nil:
		t.Fatalf("probe VLAN support: %v", err)
	}
	if err := l.Appliance.Netlink().LinkDel(probe); err != nil {
		t.Fatal(err)
	}
	return l
}

// feedPayloads sends a bounded feed on channels, tagged with their VLAN ids
// as the SIE switch sends them, and returns the payloads sent per channel.
func feedPayloads(t *testing.T, l *lab.Lab, channels []int, datagrams uint64) map[uint16]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := l.Feed(ctx, lab.FeedConfig{Channels: channels, VLAN: lab.VLANInline, Count: datagrams, PPS: 2000, Seed: 7})
	if err != nil {
		t.Fatalf("feed: %v", err)
	}
	sent := map[uint16]uint64{}
	for _, c := range st.Channels {
		sent[uint16(c.Channel)] = c.Payloads
	}
	return sent
}

// TestDaemonVLANSubinterfaces has the daemon create one VLAN sub-interface
// per channel on the SIE link, as sie-update does, capture the tagged feed
// on the link itself, and on stop delete the sub-interfaces it created but
// not the one it found.
func TestDaemonVLANSubinterfaces(t *testing.T) {
	l := vlanLab(t, 202, 204, 207)
	nl := l.Appliance.Netlink()
	name := func(vid uint16) string { return netsetup.Name(l.SIE.Link, vid) }
	// VLAN 207's sub-interface exists before the daemon starts.
	if err := nl.LinkAdd(&netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: name(207), ParentIndex: l.SIE.Index}, VlanId: 207}); err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParsePrefix("198.18.204.3/24")
	d, err := startDaemon(t, l.Appliance, daemonConfig(l.SIE.Link, t.TempDir(), fmt.Sprintf(`[setup]
vlan_interfaces = true
[[channel]]
number = 202
dedupe = "none"
[[channel]]
number = 204
dedupe = "none"
interface_address = %q
[[channel]]
number = 207
dedupe = "none"
`, addr)))
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	for _, vid := range []uint16{202, 204, 207} {
		got, err := netsetup.Inspect(nl, name(vid))
		if err != nil || got.VLAN != vid || got.Parent != l.SIE.Link || !got.Up || got.MTU != 9000 {
			t.Errorf("%s: %+v (%v), want VLAN %d on %s, up, MTU 9000", name(vid), got, err, vid, l.SIE.Link)
		}
		if vid == 204 && !slices.Contains(got.Addresses, addr) {
			t.Errorf("%s has addresses %v, want %s", name(vid), got.Addresses, addr)
		}
	}
	sent := feedPayloads(t, l, []int{202, 204, 207}, 300)
	want := map[uint16]map[string]uint64{}
	for ch, n := range sent {
		want[ch] = map[string]uint64{"captured": n, "stored": n}
	}
	waitCounters(t, "the tagged feed captured on the SIE link", direct(d), want)

	if err := d.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, vid := range []uint16{202, 204} {
		if _, err := netsetup.Inspect(nl, name(vid)); !errors.Is(err, netsetup.ErrNotFound) {
			t.Errorf("%s, created by the daemon, still there after stop (%v)", name(vid), err)
		}
	}
	if _, err := netsetup.Inspect(nl, name(207)); err != nil {
		t.Errorf("%s, there before the daemon, was removed: %v", name(207), err)
	}
}

// TestDaemonCaptureOnVLANSubinterface captures on a VLAN sub-interface, as
// a sie-update user might configure: refused, naming the parent, while its
// channel is known by VLAN id only (the sub-interface's frames carry no
// tag); accepted, and every payload stored, once the channel has its
// address.
func TestDaemonCaptureOnVLANSubinterface(t *testing.T) {
	l := vlanLab(t, 204)
	sub := netsetup.Name(l.SIE.Link, 204)
	nl := l.Appliance.Netlink()
	vl := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: sub, ParentIndex: l.SIE.Index}, VlanId: 204}
	if err := nl.LinkAdd(vl); err != nil {
		t.Fatal(err)
	}
	if err := nl.LinkSetUp(vl); err != nil {
		t.Fatal(err)
	}
	_, err := startDaemon(t, l.Appliance, daemonConfig(sub, t.TempDir(), "[[channel]]\nnumber = 204\n"))
	if err == nil || !strings.Contains(err.Error(), "capture on "+l.SIE.Link+" instead") {
		t.Fatalf("capture on %s with a VLAN-only channel: %v, want a refusal naming %s", sub, err, l.SIE.Link)
	}
	t.Logf("refused: %v", err)

	d, err := startDaemon(t, l.Appliance, daemonConfig(sub, t.TempDir(), fmt.Sprintf("[[channel]]\nnumber = 204\ndedupe = \"none\"\naddresses = [\"%s/%d\"]\n",
		lab.ChannelBroadcast(204), lab.ChannelPort)))
	if err != nil {
		t.Fatalf("start daemon on %s: %v", sub, err)
	}
	if f := d.ifaces[0].filter; f != "socket" {
		t.Errorf("filter on a VLAN interface: %s, want socket (native XDP is refused there)", f)
	}
	sent := feedPayloads(t, l, []int{204}, 100)
	waitCounters(t, "the feed captured on "+sub, direct(d), map[uint16]map[string]uint64{204: {"captured": sent[204], "stored": sent[204]}})
}

package lab

import (
	"github.com/siecap/siecap/internal/netprobe"

	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// state is what a lab's state file records.
type state struct {
	Prefix     string    `json:"prefix"`
	Names      Names     `json:"names"`
	Channels   []int     `json:"channels"`
	MTU        int       `json:"mtu"`
	UplinkRate uint64    `json:"uplink_rate_bps"`
	Created    time.Time `json:"created"`
	PID        int       `json:"pid"`
}

func stateFile(dir, prefix string) string { return filepath.Join(dir, "lab-"+prefix+".json") }

func dirOf(file string) string {
	if file == "" {
		return DefaultStateDir
	}
	return filepath.Dir(file)
}

func (l *Lab) state(rate uint64) state {
	return state{Prefix: l.Prefix, Names: l.Names, Channels: l.Channels, MTU: l.MTU,
		UplinkRate: rate, Created: time.Now().UTC(), PID: os.Getpid()}
}

func writeState(file string, s state) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

func readState(file string) (state, error) {
	var s state
	b, err := os.ReadFile(file)
	if err != nil {
		return s, fmt.Errorf("read lab state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode lab state %s: %w", file, err)
	}
	return s, nil
}

// Open attaches to the running lab with prefix, as recorded in its state
// file in stateDir (empty: DefaultStateDir). Close releases the handles and
// leaves the lab running.
func Open(prefix, stateDir string) (*Lab, error) {
	if err := netprobe.Check(); err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	file := stateFile(stateDir, prefix)
	s, err := readState(file)
	if err != nil {
		return nil, fmt.Errorf("open lab %s (is it up?): %w", prefix, err)
	}
	l := &Lab{Prefix: s.Prefix, Names: s.Names, Channels: s.Channels, MTU: s.MTU, StateFile: file}
	if err := l.attach(); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

func (l *Lab) attach() error {
	var err error
	n := l.Names
	if l.Switch.NS, err = openNamespace(n.SwitchNS); err != nil {
		return err
	}
	if l.Appliance, err = openNamespace(n.ApplianceNS); err != nil {
		return err
	}
	if l.Receiver.NS, err = openNamespace(n.ReceiverNS); err != nil {
		return err
	}
	l.SIE.NS, l.Uplink.NS = l.Appliance, l.Appliance
	l.Switch.Link, l.SIE.Link, l.Uplink.Link, l.Receiver.Link = n.SwitchLink, n.SIELink, n.UplinkLink, n.ReceiverLink
	for _, e := range []*End{&l.Switch, &l.SIE, &l.Uplink, &l.Receiver} {
		link, err := e.NS.Netlink().LinkByName(e.Link)
		if err != nil {
			return fmt.Errorf("find link %s: %w", e.Link, err)
		}
		e.Index, e.MAC = link.Attrs().Index, link.Attrs().HardwareAddr
	}
	if len(l.Channels) > 0 {
		l.Switch.Addr, l.SIE.Addr = channelHost(l.Channels[0], 1), channelHost(l.Channels[0], 2)
	}
	l.Uplink.Addr, l.Receiver.Addr = channelHost(0, 1), channelHost(0, 2)
	return nil
}

// Down removes the lab with prefix: the namespaces its state file in
// stateDir names and, found by name, any left by a run that crashed before
// writing or after losing it; then the state file. Deleting a namespace
// deletes the veth ends in it and with them their peers. It returns what
// it removed; a lab that does not exist is not an error.
func Down(prefix, stateDir string) ([]string, error) {
	if err := netprobe.Check(); err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	file := stateFile(stateDir, prefix)
	names := NamesFor(prefix).Namespaces()
	if s, err := readState(file); err == nil {
		names = append(names, s.Names.Namespaces()...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var removed []string
	var errs []error
	for _, n := range names {
		if !nsExists(n) {
			continue
		}
		if err := netns.DeleteNamed(n); err != nil {
			errs = append(errs, fmt.Errorf("delete netns %s: %w", n, err))
			continue
		}
		removed = append(removed, "netns "+n)
	}
	if len(errs) == 0 {
		if err := os.Remove(file); err == nil {
			removed = append(removed, "state "+file)
		} else if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove lab state: %w", err))
		}
	}
	return removed, errors.Join(errs...)
}

// LinkStatus is one link of a running lab.
type LinkStatus struct {
	Namespace, Name string
	Up              bool
	MTU             int
	Addrs           int // IPv4 addresses
	FirstAddr       netip.Prefix
	Qdisc           string
	Stats           LinkCounters
}

// LinkCounters are a link's kernel counters.
type LinkCounters struct {
	RxPackets, TxPackets, RxBytes, TxBytes, RxDropped, TxDropped uint64
}

// Status is what exists of the lab with a given prefix.
type Status struct {
	Prefix     string
	StateFile  string // empty when there is none
	Channels   []int
	Namespaces map[string]bool
	Links      []LinkStatus
}

// Exists reports whether anything of the lab exists.
func (s *Status) Exists() bool {
	if s.StateFile != "" {
		return true
	}
	for _, ok := range s.Namespaces {
		if ok {
			return true
		}
	}
	return false
}

// StatusOf reports what exists of the lab with prefix.
func StatusOf(prefix, stateDir string) (*Status, error) {
	if err := netprobe.Check(); err != nil {
		return nil, err
	}
	if stateDir == "" {
		stateDir = DefaultStateDir
	}
	st := &Status{Prefix: prefix, Namespaces: map[string]bool{}}
	names := NamesFor(prefix)
	file := stateFile(stateDir, prefix)
	if s, err := readState(file); err == nil {
		st.StateFile, st.Channels, names = file, s.Channels, s.Names
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	links := map[string][]string{
		names.SwitchNS:    {names.SwitchLink},
		names.ApplianceNS: {names.SIELink, names.UplinkLink},
		names.ReceiverNS:  {names.ReceiverLink},
	}
	for _, n := range names.Namespaces() {
		ns, err := openNamespace(n)
		st.Namespaces[n] = err == nil
		if err != nil {
			continue
		}
		for _, ln := range links[n] {
			if ls, err := linkStatus(ns, ln); err == nil {
				st.Links = append(st.Links, ls)
			}
		}
		ns.release()
	}
	return st, nil
}

func linkStatus(ns *Namespace, name string) (LinkStatus, error) {
	nl := ns.Netlink()
	l, err := nl.LinkByName(name)
	if err != nil {
		return LinkStatus{}, fmt.Errorf("find link %s: %w", name, err)
	}
	a := l.Attrs()
	ls := LinkStatus{Namespace: ns.Name, Name: name, Up: a.Flags&1 != 0, MTU: a.MTU}
	if s := a.Statistics; s != nil {
		ls.Stats = LinkCounters{RxPackets: s.RxPackets, TxPackets: s.TxPackets, RxBytes: s.RxBytes,
			TxBytes: s.TxBytes, RxDropped: s.RxDropped, TxDropped: s.TxDropped}
	}
	if addrs, err := nl.AddrList(l, netlink.FAMILY_V4); err == nil {
		ls.Addrs = len(addrs)
		if len(addrs) > 0 {
			ls.FirstAddr, _ = netip.ParsePrefix(addrs[0].IPNet.String())
		}
	}
	if qs, err := nl.QdiscList(l); err == nil {
		for _, q := range qs {
			if q.Attrs().Parent == netlink.HANDLE_ROOT {
				ls.Qdisc = q.Type()
				if t, ok := q.(*netlink.Tbf); ok {
					ls.Qdisc = fmt.Sprintf("tbf %d bit/s", t.Rate*8)
				}
			}
		}
	}
	return ls, nil
}

// LinkCountersOf reads the kernel counters of link name in ns.
func LinkCountersOf(ns *Namespace, name string) (LinkCounters, error) {
	ls, err := linkStatus(ns, name)
	return ls.Stats, err
}

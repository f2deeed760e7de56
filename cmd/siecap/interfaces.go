package main

import (
	"fmt"

	"github.com/siecap/siecap/internal/config"
	"github.com/siecap/siecap/internal/netsetup"
)

// The SIE interfaces' set-up (what sie-update does) and the checks of the
// interfaces the daemon captures on.

// setupConfig is the interface set-up the configuration asks for.
func setupConfig(c *config.Config) netsetup.Config {
	return netsetup.Config{
		Interfaces: c.Interfaces,
		Up:         c.Setup.LinkUp,
		MTU:        c.Setup.MTU,
		Promisc:    c.Setup.Promisc,
		VLANs:      setupVLANs(c),
	}
}

// setupVLANs are the VLAN sub-interfaces the configuration asks for: one
// per channel with a VLAN id, when setup.vlan_interfaces is on.
func setupVLANs(c *config.Config) []netsetup.VLAN {
	if !c.Setup.VLANInterfaces {
		return nil
	}
	var vs []netsetup.VLAN
	for _, ch := range c.Channels {
		if ch.VLAN != 0 {
			vs = append(vs, netsetup.VLAN{ID: ch.VLAN, Address: ch.InterfaceAddress})
		}
	}
	return vs
}

// setUpInterfaces applies the interface set-up; stop undoes it.
func (d *daemon) setUpInterfaces() error {
	s, err := netsetup.Apply(setupConfig(d.cfg), d.log)
	if err != nil {
		return fmt.Errorf("set up interfaces: %w", err)
	}
	d.setup = s
	return nil
}

// checkCaptureInterface refuses to capture on a VLAN sub-interface when
// that would lose its channel: the kernel hands a sub-interface's frames
// over without their VLAN tag, so only a channel's addresses can tell
// them apart there.
func (d *daemon) checkCaptureInterface(name string) error {
	l, err := d.setup.Inspect(name)
	if err != nil {
		return fmt.Errorf("check capture interface: %w", err)
	}
	if l.VLAN == 0 {
		return nil
	}
	for _, c := range d.cfg.Channels {
		if c.VLAN != l.VLAN {
			continue
		}
		if len(c.Addresses) == 0 {
			return fmt.Errorf("capture on %s: it is the VLAN %d sub-interface of %s, whose frames arrive without their VLAN tag, "+
				"and channel %d has no addresses to match them by; capture on %s instead (channels are told apart by VLAN id there) "+
				"or give channel %d its addresses", name, l.VLAN, l.Parent, c.Number, l.Parent, c.Number)
		}
		d.log.Info("capturing on a VLAN sub-interface: its frames are untagged, channels are matched by address",
			"interface", name, "vlan", l.VLAN, "parent", l.Parent, "channel", c.Number)
		return nil
	}
	d.log.Warn("capturing on a VLAN sub-interface that carries no configured channel's VLAN: channels are matched by address only",
		"interface", name, "vlan", l.VLAN, "parent", l.Parent)
	return nil
}

package main

import (
	"fmt"
	"strings"

	"github.com/siecap/siecap/internal/caps"
	"github.com/siecap/siecap/internal/config"
)

// privilege is a capability the configuration needs, and what for. Alt,
// when not zero, is a broader capability that does as well.
type privilege struct {
	cap, alt caps.Cap
	why      string
}

// privileges lists what the daemon needs to run c. Root holds them all;
// an unprivileged user needs them granted (the systemd unit's
// AmbientCapabilities=).
func privileges(c *config.Config) []privilege {
	need := []privilege{{cap: caps.NetRaw, why: "to open the AF_PACKET capture sockets"}}
	if c.Capture.Filter != config.FilterOff {
		need = append(need, privilege{cap: caps.BPF, alt: caps.SysAdmin, why: `to load the kernel filter; capture.filter = "off" runs without it`})
	}
	xdp := c.Capture.Filter == config.FilterAuto || c.Capture.Filter == config.FilterXDP
	setup := c.Setup.LinkUp || c.Setup.MTU != 0 || c.Setup.Promisc || c.Setup.VLANInterfaces
	switch {
	case xdp && setup:
		need = append(need, privilege{cap: caps.NetAdmin, why: "to attach XDP and to set the interfaces up"})
	case xdp:
		need = append(need, privilege{cap: caps.NetAdmin, why: "to attach XDP"})
	case setup:
		need = append(need, privilege{cap: caps.NetAdmin, why: "to set the interfaces up ([setup])"})
	}
	return need
}

// checkPrivileges names every capability the process lacks for c.
func checkPrivileges(c *config.Config) error {
	var missing []string
	for _, p := range privileges(c) {
		if !caps.Has(p.cap) && (p.alt == 0 || !caps.Has(p.alt)) {
			missing = append(missing, fmt.Sprintf("%s (%s)", p.cap, p.why))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("check privileges: missing %s; run as root or grant them (AmbientCapabilities= in the systemd unit)", strings.Join(missing, ", "))
}

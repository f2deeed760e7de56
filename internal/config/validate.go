package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siecap/siecap/nmsg"
)

// validate checks c as a whole, resolves the channels' aliases and sorts
// them. Channel key paths use their index in the file, so it runs before
// the sort.
func (p *parser) validate(c *Config) {
	p.resolveAddresses(c)
	defer slices.SortFunc(c.Channels, func(a, b Channel) int { return int(a.Number) - int(b.Number) })

	if len(c.Interfaces) == 0 {
		p.errorf("interfaces", "name at least one SIE interface")
	}
	seenIf := map[string]bool{}
	for i, name := range c.Interfaces {
		key := fmt.Sprintf("interfaces[%d]", i)
		if name == "" || len(name) > 15 || strings.ContainsAny(name, "/: \t") {
			p.errorf(key, "%q is not an interface name (1 to 15 bytes, no '/', ':' or blanks)", name)
		} else if seenIf[name] {
			p.errorf(key, "interface %s named twice", name)
		}
		seenIf[name] = true
	}
	p.validateCapture(&c.Capture)
	p.validateSpool(&c.Spool)
	p.validateControl(&c.Control)

	byNum := map[uint16]int{}
	byVLAN := map[uint16]int{}
	byAddr := map[netip.AddrPort]int{}
	for i := range c.Channels {
		ch := &c.Channels[i]
		at := p.channelKey(i)
		if j, dup := byNum[ch.Number]; dup {
			p.errorf(at+".number", "channel %d is also %s", ch.Number, p.channelKey(j))
		}
		byNum[ch.Number] = i
		if ch.VLAN != 0 {
			if j, dup := byVLAN[ch.VLAN]; dup {
				p.errorf(at+".vlan", "VLAN %d is also %s's", ch.VLAN, p.channelKey(j))
			}
			byVLAN[ch.VLAN] = i
		}
		for _, a := range ch.Addresses {
			if j, dup := byAddr[a]; dup && j != i {
				p.errorf(at+".addresses", "%s is also %s's", a, p.channelKey(j))
			}
			byAddr[a] = i
		}
		if ch.VLAN == 0 && len(ch.Addresses) == 0 {
			p.errorf(at, "channel %d has neither a VLAN id nor addresses", ch.Number)
		}
	}
	p.validateSetup(c)
}

// maxIfName is Linux's limit on interface names (IFNAMSIZ - 1).
const maxIfName = 15

// validateSetup checks the interface set-up against the interfaces and
// the channels.
func (p *parser) validateSetup(c *Config) {
	s := c.Setup
	if s.MTU != 0 && (s.MTU < 576 || s.MTU > 65535) {
		p.errorf("setup.mtu", "%d outside 576..65535 (or 0 to leave it alone)", s.MTU)
	}
	if s.VLANInterfaces {
		if p.badChannels == 0 && !slices.ContainsFunc(c.Channels, func(ch Channel) bool { return ch.VLAN != 0 }) {
			p.errorf("setup.vlan_interfaces", "no channel has a VLAN id, so there is no sub-interface to create")
		}
		for _, ifname := range c.Interfaces {
			for _, ch := range c.Channels {
				if name := ifname + "." + strconv.Itoa(int(ch.VLAN)); ch.VLAN != 0 && len(name) > maxIfName {
					p.errorf("setup.vlan_interfaces", "%s, VLAN %d's sub-interface on %s, is longer than Linux's %d bytes", name, ch.VLAN, ifname, maxIfName)
					break
				}
			}
		}
	}
	seen := map[netip.Addr]int{}
	for i := range c.Channels {
		ch := &c.Channels[i]
		a := ch.InterfaceAddress
		if !a.IsValid() {
			continue
		}
		at := p.channelKey(i) + ".interface_address"
		switch {
		case !s.VLANInterfaces:
			p.errorf(at, "needs setup.vlan_interfaces = true: it is the address of the channel's VLAN sub-interface")
		case ch.VLAN == 0:
			p.errorf(at, "channel %d has no VLAN id, so no VLAN sub-interface", ch.Number)
		case len(c.Interfaces) != 1:
			p.errorf(at, "the channel has a sub-interface on each of the %d interfaces: an address needs exactly one", len(c.Interfaces))
		}
		if j, dup := seen[a.Addr()]; dup {
			p.errorf(at, "%s is also %s's", a.Addr(), p.channelKey(j))
		}
		seen[a.Addr()] = i
	}
}

// channelKey is the key path of c.Channels[i] in the file.
func (p *parser) channelKey(i int) string {
	return "channel[" + strconv.Itoa(p.fileIndex[i]) + "]"
}

func (p *parser) validateCapture(c *Capture) {
	page := os.Getpagesize()
	switch {
	case c.Sockets < 1 || c.Sockets > 64:
		p.errorf("capture.sockets", "%d outside 1..64", c.Sockets)
	}
	if c.RingSize < 2 || c.RingSize&(c.RingSize-1) != 0 {
		p.errorf("capture.ring_size", "%d is not a power of two of at least 2", c.RingSize)
	}
	if c.BlockSize < 128<<10 || c.BlockSize&(c.BlockSize-1) != 0 || int64(c.BlockSize)%int64(page) != 0 {
		p.errorf("capture.block_size", "%v is not a power of two of at least 128KiB", c.BlockSize)
	}
	if c.BlockCount < 1 {
		p.errorf("capture.block_count", "%d below 1", c.BlockCount)
	} else if int64(c.BlockSize)*int64(c.BlockCount) > 1<<32-1 {
		p.errorf("capture.block_count", "a ring of %d blocks of %v exceeds 4GiB", c.BlockCount, c.BlockSize)
	}
	if c.BlockTimeout < time.Millisecond {
		p.errorf("capture.block_timeout", "%v below 1ms", c.BlockTimeout)
	}
}

func (p *parser) validateSpool(s *Spool) {
	if s.Dir == "" || !filepath.IsAbs(s.Dir) {
		p.errorf("spool.dir", "%q is not an absolute path", s.Dir)
	}
	if s.MaxBytes < 0 || (s.MaxBytes != 0 && s.MaxBytes < 2*s.SegmentBytes) {
		p.errorf("spool.max_bytes", "%v is less than two segments (%v each)", s.MaxBytes, s.SegmentBytes)
	}
	if s.MaxAge < 0 {
		p.errorf("spool.max_age", "negative duration %v", s.MaxAge)
	}
	if s.SegmentBytes < 1<<20 {
		p.errorf("spool.segment_bytes", "%v below 1MiB", s.SegmentBytes)
	}
	if s.SegmentAge < time.Second {
		p.errorf("spool.segment_age", "%v below 1s", s.SegmentAge)
	}
	if s.CommitInterval < time.Millisecond || s.CommitInterval > 10*time.Second {
		p.errorf("spool.commit_interval", "%v outside 1ms..10s", s.CommitInterval)
	}
	if s.CommitBytes < 4<<10 || s.CommitBytes > s.SegmentBytes {
		p.errorf("spool.commit_bytes", "%v outside 4KiB..segment_bytes", s.CommitBytes)
	}
}

func (p *parser) validateControl(c *Control) {
	if c.Socket == "" && c.TCP == "" {
		p.errorf("control", "no listener: set socket, tcp or both")
	}
	if c.Socket != "" && !filepath.IsAbs(c.Socket) {
		p.errorf("control.socket", "%q is not an absolute path", c.Socket)
	}
	if c.SocketMode&0o007 != 0 {
		p.errorf("control.socket_mode", "%v lets every local user in: the socket's mode is its access control", c.SocketMode)
	}
	if c.TCP != "" {
		if _, port, err := net.SplitHostPort(c.TCP); err != nil {
			p.errorf("control.tcp", "want host:port: %v", err)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			p.errorf("control.tcp", "port %q is not a number", port)
		}
		if c.TokenFile == "" && c.ClientCA == "" {
			p.errorf("control.tcp", "a TCP listener needs token_file, client_ca (mTLS) or both")
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		p.errorf("control.tls_cert", "tls_cert and tls_key go together")
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		p.errorf("control.client_ca", "mTLS needs tls_cert and tls_key")
	}
	if (c.TokenFile != "" || c.TLSCert != "") && c.TCP == "" {
		p.errorf("control.tcp", "token_file and TLS settings apply to the TCP listener: set tcp")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"control.read_timeout", c.ReadTimeout}, {"control.write_timeout", c.WriteTimeout}, {"control.idle_timeout", c.IdleTimeout}} {
		if d.v < 0 {
			p.errorf(d.key, "negative duration %v", d.v)
		}
	}
	if c.ReadTimeout == 0 {
		p.errorf("control.read_timeout", "0 lets a client hold a connection open forever")
	}
	if c.MaxBodyBytes < 1<<10 || c.MaxBodyBytes > 64<<20 {
		p.errorf("control.max_body_bytes", "%v outside 1KiB..64MiB", c.MaxBodyBytes)
	}
	if c.TailRate < 1 {
		p.errorf("control.tail_rate", "%d below 1", c.TailRate)
	}
	if c.TailBuffer < 1 {
		p.errorf("control.tail_buffer", "%d below 1", c.TailBuffer)
	}
	if c.TailClients < 1 {
		p.errorf("control.tail_clients", "%d below 1", c.TailClients)
	}
}

// chalias reads the channel alias file: file, or libnmsg's defaults.
func (p *parser) chalias(file string) (nmsg.Channels, error) {
	if file == "" {
		return nmsg.LoadChannels()
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open channel alias file: %w", err)
	}
	defer f.Close()
	ch, err := nmsg.ParseChannels(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return ch, nil
}

// aliasTable returns the operator or group alias table and the file it
// came from, loading it on first use: the file the configuration names, or
// what nmsg.LoadAliases reads (NMSG_OPALIAS_FILE, NMSG_GRALIAS_FILE, /etc).
func (p *parser) aliasTable(kind string) (*nmsg.AliasTable, string, error) {
	file, env, def := p.opalias, nmsg.EnvOpaliasFile, nmsg.DefaultOpaliasFile
	if kind == "group" {
		file, env, def = p.gralias, nmsg.EnvGraliasFile, nmsg.DefaultGraliasFile
	}
	if file == "" {
		if p.loaded == nil {
			a, err := nmsg.LoadAliases()
			if err != nil {
				return nil, "", fmt.Errorf("load alias files: %w", err)
			}
			p.loaded = a
		}
		if v := os.Getenv(env); v != "" {
			def = v
		}
		if kind == "group" {
			return p.loaded.Group, def, nil
		}
		return p.loaded.Operator, def, nil
	}
	if t, ok := p.aliases[file]; ok {
		return t, file, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, file, fmt.Errorf("open %s alias file: %w", kind, err)
	}
	defer f.Close()
	t, err := nmsg.ParseAliases(f)
	if err != nil {
		return nil, file, fmt.Errorf("%s: %w", file, err)
	}
	if p.aliases == nil {
		p.aliases = map[string]*nmsg.AliasTable{}
	}
	p.aliases[file] = t
	return t, file, nil
}

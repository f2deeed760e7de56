package config

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/BurntSushi/toml"
)

// fileChannel is a Channel as the file writes it.
type fileChannel struct {
	Number       uint16   `toml:"number"`
	Name         string   `toml:"name"`
	VLAN         uint16   `toml:"vlan"`
	Addresses    []string `toml:"addresses"`
	Dedupe       Dedupe   `toml:"dedupe"`
	DedupeWindow string   `toml:"dedupe_window"`
	Operator     uint32   `toml:"operator"`
	Group        uint32   `toml:"group"`
	Interface    string   `toml:"interface_address,omitempty"`
	Rules        struct {
		Action Action   `toml:"action"`
		Types  []string `toml:"types,omitempty"`
		Count  bool     `toml:"count_payloads,omitempty"`
	} `toml:"rules"`
}

// TOML prints the effective configuration as a file Load reads back to the
// same Config: every default is written out, channel aliases and operator
// and group names are replaced by what they resolved to.
func (c *Config) TOML() []byte {
	var b bytes.Buffer
	b.WriteString("# siecap effective configuration\n")
	e := toml.NewEncoder(&b)
	e.Indent = ""
	if err := e.Encode(c); err != nil {
		// Every field type of Config encodes; failing here is a bug.
		panic(fmt.Sprintf("encode configuration: %v", err))
	}
	chans := struct {
		Channel []fileChannel `toml:"channel"`
	}{}
	for _, ch := range c.Channels {
		fc := fileChannel{
			Number: ch.Number, Name: ch.Name, VLAN: ch.VLAN, Dedupe: ch.Dedupe,
			DedupeWindow: ch.Window.String(), Operator: ch.Operator, Group: ch.Group,
			Addresses: []string{},
		}
		for _, a := range ch.Addresses {
			fc.Addresses = append(fc.Addresses, a.Addr().String()+"/"+strconv.Itoa(int(a.Port())))
		}
		if ch.InterfaceAddress.IsValid() {
			fc.Interface = ch.InterfaceAddress.String()
		}
		fc.Rules.Action, fc.Rules.Count = ch.Rules.Action, ch.Rules.CountPayloads
		for _, t := range ch.Rules.Types {
			fc.Rules.Types = append(fc.Rules.Types, t.String())
		}
		chans.Channel = append(chans.Channel, fc)
	}
	if len(chans.Channel) > 0 {
		b.WriteByte('\n')
		if err := e.Encode(chans); err != nil {
			panic(fmt.Sprintf("encode channels: %v", err))
		}
	}
	return b.Bytes()
}

// String returns the effective configuration in TOML.
func (c *Config) String() string { return string(c.TOML()) }

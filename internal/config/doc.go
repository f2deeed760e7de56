// Package config reads the appliance's configuration: a TOML file
// (/etc/siecap/siecap.toml by default), SIECAP_* environment variables over
// the file, and command-line flags over both.
//
// Load turns those three layers into a validated, defaulted and
// deterministic Config (the spec); the daemon builds its running state from
// it. The same input always gives the same Config: channels are sorted by
// number, their addresses sorted and deduplicated, and names (message types,
// channel aliases, operators and groups) resolved to numbers. Config.TOML
// prints the effective configuration in a form Load reads back to the same
// Config.
//
// # Precedence and names
//
// A scalar setting has one key path: "log_level", "spool.dir",
// "capture.block_size", "control.tcp". The environment variable of a key
// path is SIECAP_ followed by the path in upper case with dots turned into
// underscores (SIECAP_LOG_LEVEL, SIECAP_SPOOL_DIR, SIECAP_CAPTURE_BLOCK_SIZE,
// SIECAP_CONTROL_TCP); lists (interfaces) are comma separated. Flags are
// passed to Load keyed by the same key paths. Channels ([[channel]] tables)
// and the alias file keys (chalias_file, opalias_file, gralias_file; libnmsg's
// NMSG_*_FILE variables already name those files) come from the file only.
// Keys() lists the keys that can be overridden. SIECAP_* variables that name
// no key are left alone (SIECAP_ADDR belongs to the CLI); an unknown key in
// the file, or one written in another case, is an error.
//
// # Errors
//
// Every problem is reported, not only the first, as an *Error naming the
// file, the line (when it came from the file) and the key path, e.g.
// "siecap.toml:14: channel[1].rules.types: unknown message type SIE/nope".
// Syntax errors carry the line BurntSushi/toml reports; semantic errors the
// line where the key is written, found by locating it in the source text.
//
// # Channels
//
// A channel is matched by its VLAN id or by destination address and port
// (or both). The VLAN id defaults to the channel number, as SIE's own tools
// assume; "vlan = 0" turns VLAN matching off for a channel that is matched
// by address only. Addresses are written in nmsgtool's form,
// "addr/port" or "addr/port0..portN", or taken from nmsgtool's channel alias
// file with "alias = \"ch204\"". Rules pass all, drop all, or allow or deny
// a list of message types written "vendor" (every type of the vendor) or
// "vendor:type", by name ("SIE:dnsdedupe") or number ("2:3").
// "count_payloads = true" in a channel's rules makes the kernel filter count
// every payload of the channel's containers, so that its payload counters
// are exact also where it passes or drops whole containers without reading
// them (it then walks every container).
//
// # Interface set-up
//
// [setup] says what the daemon does to the interfaces before capturing,
// as Farsight's sie-update does: bring them up (link_up), set their MTU
// (mtu, 9000 by default), set them promiscuous (promisc), and with
// vlan_interfaces one VLAN sub-interface "<interface>.<vlan>" per channel
// with a VLAN id, given the channel's interface_address if it has one.
package config

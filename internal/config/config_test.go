package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// base is the smallest valid file; snippets are appended to it.
const base = "interfaces = [\"eth1\"]\n"

func TestParseGood(t *testing.T) {
	dir := t.TempDir()
	chalias := filepath.Join(dir, "chalias")
	writeFile(t, chalias, "# SIE channels\nch204 10.32.204.255/8430..8431\nch207 10.32.207.255/8430\n")
	opalias := filepath.Join(dir, "opalias")
	writeFile(t, opalias, "1 FSI\n0x2 ISC\n")

	ap := netip.MustParseAddrPort
	tests := []struct {
		name  string
		src   string
		check func(t *testing.T, c *Config)
	}{
		{"defaults", base, func(t *testing.T, c *Config) {
			want := defaults()
			want.Interfaces = []string{"eth1"}
			if !reflect.DeepEqual(*c, want) {
				t.Errorf("got %+v, want %+v", *c, want)
			}
		}},
		{"vlan defaults to the channel number", base + "[[channel]]\nnumber = 204\n", func(t *testing.T, c *Config) {
			ch := c.Channels[0]
			if ch.VLAN != 204 || ch.Name != "ch204" || ch.Dedupe != DedupePayload || ch.Window != time.Minute || ch.Rules.Action != PassAll {
				t.Errorf("got %+v", ch)
			}
		}},
		{"explicit vlan", base + "[[channel]]\nnumber = 204\nvlan = 1204\n", func(t *testing.T, c *Config) {
			if c.Channels[0].VLAN != 1204 {
				t.Errorf("vlan %d", c.Channels[0].VLAN)
			}
		}},
		{"address only, ranges expanded, sorted, deduplicated", base +
			"[[channel]]\nnumber = 0\nvlan = 0\naddresses = [\"198.18.0.255/8431..8432\", \"10.0.0.1/1\", \"198.18.0.255/8431\"]\n",
			func(t *testing.T, c *Config) {
				want := []netip.AddrPort{ap("10.0.0.1:1"), ap("198.18.0.255:8431"), ap("198.18.0.255:8432")}
				if ch := c.Channels[0]; ch.VLAN != 0 || !reflect.DeepEqual(ch.Addresses, want) {
					t.Errorf("got %+v, want addresses %v", ch, want)
				}
			}},
		{"channels sorted by number", base + "[[channel]]\nnumber = 9\n[[channel]]\nnumber = 3\n", func(t *testing.T, c *Config) {
			if c.Channels[0].Number != 3 || c.Channels[1].Number != 9 {
				t.Errorf("order %d %d", c.Channels[0].Number, c.Channels[1].Number)
			}
		}},
		{"alias from the channel alias file", base + "chalias_file = \"" + chalias + "\"\n" +
			"[[channel]]\nnumber = 204\nalias = \"ch204\"\naddresses = [\"10.32.204.255/8431\", \"10.32.204.255/8437\"]\n",
			func(t *testing.T, c *Config) {
				want := []netip.AddrPort{ap("10.32.204.255:8430"), ap("10.32.204.255:8431"), ap("10.32.204.255:8437")}
				if got := c.Channels[0].Addresses; !reflect.DeepEqual(got, want) {
					t.Errorf("addresses %v, want %v", got, want)
				}
			}},
		{"operator by name, group by number", base + "opalias_file = \"" + opalias + "\"\n" +
			"[[channel]]\nnumber = 1\noperator = \"isc\"\ngroup = 7\n",
			func(t *testing.T, c *Config) {
				if ch := c.Channels[0]; ch.Operator != 2 || ch.Group != 7 {
					t.Errorf("operator %d group %d", ch.Operator, ch.Group)
				}
			}},
		{"rules by name and number, sorted, deduplicated", base +
			"[[channel]]\nnumber = 207\ndedupe = \"rrset\"\ndedupe_window = \"5m\"\n[channel.rules]\naction = \"allow\"\n" +
			"types = [\"SIE:dnsdedupe\", \"base\", \"2:3\", \"sie:DNSDEDUPE\", \"2:99\"]\n",
			func(t *testing.T, c *Config) {
				ch := c.Channels[0]
				want := Rules{Action: Allow, Types: []TypeRef{{Vendor: 1, AnyType: true}, {Vendor: 2, MsgType: 1}, {Vendor: 2, MsgType: 3}, {Vendor: 2, MsgType: 99}}}
				if !reflect.DeepEqual(ch.Rules, want) || ch.Dedupe != DedupeRRset || ch.Window != 5*time.Minute {
					t.Errorf("got %+v, want rules %+v", ch, want)
				}
			}},
		{"a drop rule counting payloads in the kernel", base + "[[channel]]\nnumber = 208\nrules = { action = \"drop\", count_payloads = true }\n",
			func(t *testing.T, c *Config) {
				if r := c.Channels[0].Rules; r.Action != DropAll || !r.CountPayloads {
					t.Errorf("rules %+v, want drop counting payloads", r)
				}
			}},
		{"sizes, durations, enums, mode", base + `log_level = "debug"
[capture]
block_size = "1 MiB"
block_count = 16
fanout = "lb"
filter = "socket"
block_timeout = "5ms"
[spool]
dir = "/srv/spool"
max_bytes = 549755813888
max_age = "18h"
commit_bytes = "4MB"
[control]
socket_mode = "0600"
tcp = "[::]:8443"
token_file = "/etc/siecap/token"
`, func(t *testing.T, c *Config) {
			if c.LogLevel != slog.LevelDebug || c.Capture.BlockSize != 1<<20 || c.Capture.BlockCount != 16 ||
				c.Capture.Fanout != FanoutLB || c.Capture.Filter != FilterSocket || c.Capture.BlockTimeout != 5*time.Millisecond ||
				c.Spool.MaxBytes != 512<<30 || c.Spool.MaxAge != 18*time.Hour || c.Spool.CommitBytes != 4e6 ||
				c.Control.SocketMode != 0o600 || c.Control.TCP != "[::]:8443" {
				t.Errorf("got %+v", c)
			}
		}},
		{"interface set-up", base + "[setup]\nlink_up = false\nmtu = 0\npromisc = true\nvlan_interfaces = true\n" +
			"[[channel]]\nnumber = 204\ninterface_address = \"10.32.204.10/24\"\n[[channel]]\nnumber = 207\n",
			func(t *testing.T, c *Config) {
				want := Setup{LinkUp: false, MTU: 0, Promisc: true, VLANInterfaces: true}
				if c.Setup != want || c.Channels[0].InterfaceAddress != netip.MustParsePrefix("10.32.204.10/24") ||
					c.Channels[1].InterfaceAddress.IsValid() {
					t.Errorf("setup %+v, channels %+v", c.Setup, c.Channels)
				}
			}},
		{"mTLS listener", base + "[control]\ntcp = \"127.0.0.1:8443\"\ntls_cert = \"/c\"\ntls_key = \"/k\"\nclient_ca = \"/ca\"\n", func(t *testing.T, c *Config) {
			if c.Control.ClientCA != "/ca" {
				t.Errorf("got %+v", c.Control)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("test.toml", []byte(tt.src), nil, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
			roundTrip(t, c)
		})
	}
}

// roundTrip checks that the printed configuration reads back to c.
func roundTrip(t *testing.T, c *Config) {
	t.Helper()
	c2, err := Parse("shown.toml", c.TOML(), nil, nil)
	if err != nil {
		t.Fatalf("parse the printed configuration: %v\n%s", err, c.TOML())
	}
	want := *c
	want.Channels = append([]Channel(nil), c.Channels...)
	for i := range want.Channels {
		want.Channels[i].Alias = "" // printed as the addresses it resolved to
	}
	if !reflect.DeepEqual(*c2, want) {
		t.Errorf("printed configuration reads back as\n%+v\nwant\n%+v", *c2, want)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line: substring" of each error, in order
	}{
		{"syntax", base + "[capture]\nsockets = = 2\n", []string{"3: "}},
		{"unknown key", base + "[capture]\nsockets = 2\nsokets = 3\n", []string{"4: capture.sokets: unknown key"}},
		{"key in another case", base + "[capture]\nSockets = 3\n", []string{"3: capture.Sockets: unknown key"}},
		{"table in another case", base + "[Spool]\ndir = \"/x\"\n", []string{"2: Spool: unknown key"}},
		{"unknown table", base + "\n[captur]\nsockets = 2\n", []string{"3: captur: unknown key"}},
		{"wrong type", base + "[capture]\nsockets = \"two\"\n", []string{"3: capture.sockets: incompatible types"}},
		{"bad enum", base + "[capture]\nfanout = \"random\"\n", []string{"3: ", "want hash, lb"}},
		{"bad size", base + "[spool]\nmax_bytes = \"lots\"\n", []string{"3: ", "parse size"}},
		{"no interfaces", "log_level = \"info\"\n", []string{"interfaces: name at least one"}},
		{"long interface name", "interfaces = [\"eth0\", \"a-very-long-name0\"]\n", []string{"1: interfaces[1]: "}},
		{"capture range", base + "[capture]\n\nsockets = 0\nblock_size = \"100KiB\"\n", []string{"4: capture.sockets: 0 outside", "5: capture.block_size"}},
		{"channel unknown key", base + "[[channel]]\nnumber = 1\n\n[[channel]]\nnumber = 2\nvlam = 3\n", []string{"7: channel[1].vlam: unknown key"}},
		{"channel number range", base + "[[channel]]\nnumber = 4096\n", []string{"3: channel[0].number: 4096 outside 0..4095"}},
		{"channel without number", base + "[[channel]]\nname = \"x\"\n", []string{"2: channel[0]: missing number"}},
		{"channel 0 needs addresses", base + "[[channel]]\nnumber = 0\n", []string{"3: channel[0].number: channel 0 has no default VLAN"}},
		{"vlan 0 needs addresses", base + "[[channel]]\nnumber = 5\nvlan = 0\n", []string{"2: channel[0]: channel 5 has neither"}},
		{"bad address in the second channel", base + "[[channel]]\nnumber = 1\naddresses = [\"10.0.0.1/1\"]\n[[channel]]\nnumber = 2\naddresses = [\n  \"10.0.0.2/2\",\n  \"10.0.0.3\",\n]\n",
			[]string{"7: channel[1].addresses[1]: ", "want addr/port"}},
		{"duplicate number", base + "[[channel]]\nnumber = 1\n[[channel]]\nnumber = 1\nvlan = 2\n", []string{"5: channel[1].number: channel 1 is also channel[0]"}},
		{"duplicate vlan", base + "[[channel]]\nnumber = 1\n[[channel]]\nnumber = 2\nvlan = 1\n", []string{"6: channel[1].vlan: VLAN 1 is also channel[0]'s"}},
		{"duplicate address", base + "[[channel]]\nnumber = 1\naddresses = [\"10.0.0.1/1..2\"]\n[[channel]]\nnumber = 2\naddresses = [\"10.0.0.1/2\"]\n",
			[]string{"7: channel[1].addresses: 10.0.0.1:2 is also channel[0]'s"}},
		{"unknown message type, table rules", base + "[[channel]]\nnumber = 1\n[[channel]]\nnumber = 2\n[channel.rules]\naction = \"deny\"\ntypes = [\"SIE:dnsdedupe\", \"SIE:nope\"]\n",
			[]string{"8: channel[1].rules.types[1]: ", "unknown message type"}},
		{"unknown vendor, inline rules", base + "[[channel]]\nnumber = 1\nrules = { action = \"allow\", types = [\"ACME\"] }\n",
			[]string{"4: channel[0].rules.types[0]: ", "unknown vendor"}},
		{"type number too large", base + "[[channel]]\nnumber = 1\nrules = { action = \"allow\", types = [\"2:300\"] }\n", []string{"4: ", "not below 256"}},
		{"allow without types", base + "[[channel]]\nnumber = 1\n[channel.rules]\naction = \"allow\"\n", []string{"5: channel[0].rules.action: allow needs a types list"}},
		{"deny with an empty list", base + "[[channel]]\nnumber = 1\nrules = { action = \"deny\", types = [] }\n", []string{"4: channel[0].rules.types: deny needs at least one type"}},
		{"drop with types", base + "[[channel]]\nnumber = 1\n[channel.rules]\naction = \"drop\"\ntypes = [\"SIE\"]\n", []string{"6: channel[0].rules.types: "}},
		{"bad action", base + "[[channel]]\nnumber = 1\n[channel.rules]\naction = \"reject\"\n", []string{"5: channel[0].rules.action: ", "want pass, drop, allow, deny"}},
		{"count_payloads not a boolean", base + "[[channel]]\nnumber = 1\nrules = { action = \"drop\", count_payloads = 1 }\n", []string{"4: channel[0].rules.count_payloads: want true or false"}},
		{"bad dedupe", base + "[[channel]]\nnumber = 1\ndedupe = \"rr\"\n", []string{"4: channel[0].dedupe: "}},
		{"bad window", base + "[[channel]]\nnumber = 1\ndedupe_window = \"-1s\"\n", []string{"4: channel[0].dedupe_window: "}},
		{"wrong type in a channel", base + "[[channel]]\nnumber = \"1\"\n", []string{"3: channel[0].number: want an integer, got a string"}},
		{"unknown alias", base + "chalias_file = \"/dev/null\"\n[[channel]]\nnumber = 1\nalias = \"ch1\"\n", []string{"5: channel[0].alias: "}},
		{"missing alias file", base + "chalias_file = \"/nonexistent/chalias\"\n[[channel]]\nnumber = 1\nalias = \"ch1\"\n", []string{"5: channel[0].alias: open channel alias file"}},
		{"unknown operator", base + "opalias_file = \"/dev/null\"\n[[channel]]\nnumber = 1\noperator = \"FSI\"\n", []string{"5: channel[0].operator: "}},
		{"tcp without auth", base + "[control]\ntcp = \"127.0.0.1:8443\"\n", []string{"3: control.tcp: a TCP listener needs"}},
		{"socket open to everyone", base + "[control]\nsocket_mode = \"0666\"\n", []string{"3: control.socket_mode: "}},
		{"no listener", base + "[control]\nsocket = \"\"\n", []string{"2: control: no listener"}},
		{"several errors, in line order", base + "[spool]\ndir = \"relative\"\n[capture]\nsockets = 100\n", []string{"3: spool.dir", "5: capture.sockets"}},
		{"mtu out of range", base + "[setup]\nmtu = 100\n", []string{"3: setup.mtu: 100 outside 576..65535"}},
		{"vlan interfaces without a VLAN", base + "[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 5\nvlan = 0\naddresses = [\"10.0.0.1/1\"]\n",
			[]string{"3: setup.vlan_interfaces: no channel has a VLAN id"}},
		{"vlan interface name too long", "interfaces = [\"enp129s0f1np1\"]\n[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 204\n",
			[]string{"3: setup.vlan_interfaces: enp129s0f1np1.204, VLAN 204's sub-interface on enp129s0f1np1, is longer than Linux's 15 bytes"}},
		{"interface address without vlan interfaces", base + "[[channel]]\nnumber = 204\ninterface_address = \"10.32.204.10/24\"\n",
			[]string{"4: channel[0].interface_address: needs setup.vlan_interfaces = true"}},
		{"interface address not a prefix", base + "[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 204\ninterface_address = \"10.32.204.10\"\n",
			[]string{"6: channel[0].interface_address: want an address with its prefix length"}},
		{"interface address on an address-only channel", base + "[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 1\n[[channel]]\nnumber = 2\nvlan = 0\n" +
			"addresses = [\"10.0.0.1/1\"]\ninterface_address = \"10.0.0.2/24\"\n",
			[]string{"10: channel[1].interface_address: channel 2 has no VLAN id"}},
		{"interface address with two interfaces", "interfaces = [\"eth1\", \"eth2\"]\n[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 204\ninterface_address = \"10.32.204.10/24\"\n",
			[]string{"6: channel[0].interface_address: the channel has a sub-interface on each of the 2 interfaces"}},
		{"interface address twice", base + "[setup]\nvlan_interfaces = true\n[[channel]]\nnumber = 1\ninterface_address = \"10.0.0.2/24\"\n" +
			"[[channel]]\nnumber = 2\ninterface_address = \"10.0.0.2/16\"\n",
			[]string{"9: channel[1].interface_address: 10.0.0.2 is also channel[0]'s"}},
		{"channel not an array of tables", base + "channel = 5\n", []string{"2: channel: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tt.src), nil, nil)
			if err == nil {
				t.Fatalf("Parse accepted\n%s", tt.src)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("error %T %v is not an Errors", err, err)
			}
			checkErrors(t, list, tt.want)
		})
	}
}

// checkErrors matches want[i] = "line: text" against the i-th error, or,
// for a bare substring, against the whole message.
func checkErrors(t *testing.T, list Errors, want []string) {
	t.Helper()
	msg := list.Error()
	i := 0
	for _, w := range want {
		if !strings.Contains(w, ": ") || w[0] < '0' || w[0] > '9' {
			if !strings.Contains(msg, w) {
				t.Errorf("errors %q lack %q", msg, w)
			}
			continue
		}
		if i >= len(list) {
			t.Errorf("errors %q: want another one: %q", msg, w)
			continue
		}
		line, text, _ := strings.Cut(w, ": ")
		got := list[i].Error()
		if !strings.HasPrefix(got, "bad.toml:"+line+": ") || !strings.Contains(got, text) {
			t.Errorf("error %d is %q, want line %s and %q", i, got, line, text)
		}
		i++
	}
	if i < len(list) && i > 0 {
		t.Errorf("more errors than expected: %q", msg)
	}
}

func TestOverrides(t *testing.T) {
	src := base + "log_level = \"warn\"\n[spool]\ndir = \"/from/file\"\n[capture]\nsockets = 3\n"
	tests := []struct {
		name  string
		env   []string
		flags map[string]string
		check func(c *Config) bool
	}{
		{"file", nil, nil, func(c *Config) bool { return c.Spool.Dir == "/from/file" && c.Capture.Sockets == 3 }},
		{"environment over file", []string{"SIECAP_SPOOL_DIR=/from/env", "SIECAP_CAPTURE_SOCKETS=4", "SIECAP_ADDR=ignored", "PATH=/bin"}, nil,
			func(c *Config) bool {
				return c.Spool.Dir == "/from/env" && c.Capture.Sockets == 4 && c.LogLevel == slog.LevelWarn
			}},
		{"flags over environment", []string{"SIECAP_SPOOL_DIR=/from/env"}, map[string]string{"spool.dir": "/from/flag"},
			func(c *Config) bool { return c.Spool.Dir == "/from/flag" }},
		{"every kind", []string{"SIECAP_INTERFACES=eth2, eth3", "SIECAP_CAPTURE_PROMISC=false", "SIECAP_CAPTURE_BLOCK_SIZE=8MiB",
			"SIECAP_SPOOL_MAX_AGE=2h", "SIECAP_CONTROL_SOCKET_MODE=0600", "SIECAP_CAPTURE_FILTER=xdp", "SIECAP_SPOOL_NODE_ID=7",
			"SIECAP_SETUP_PROMISC=true", "SIECAP_SETUP_LINK_UP=false"},
			map[string]string{"log_level": "error"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.Interfaces, []string{"eth2", "eth3"}) && !c.Capture.Promisc && c.Capture.BlockSize == 8<<20 &&
					c.Spool.MaxAge == 2*time.Hour && c.Control.SocketMode == 0o600 && c.Capture.Filter == FilterXDP &&
					c.Spool.NodeID == 7 && c.LogLevel == slog.LevelError && c.Setup.Promisc && !c.Setup.LinkUp
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("test.toml", []byte(src), tt.env, tt.flags)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}

	bad := []struct {
		name  string
		env   []string
		flags map[string]string
		want  string
	}{
		{"unparsable environment value", []string{"SIECAP_CAPTURE_SOCKETS=many"}, nil, "environment: SIECAP_CAPTURE_SOCKETS: parse integer"},
		{"invalid environment value", []string{"SIECAP_CAPTURE_SOCKETS=0"}, nil, "environment: SIECAP_CAPTURE_SOCKETS: 0 outside 1..64"},
		{"invalid flag value", nil, map[string]string{"spool.dir": "rel"}, "flags: spool.dir: \"rel\" is not an absolute path"},
		{"invalid list element from the environment", []string{"SIECAP_INTERFACES=eth1,eth1"}, nil, "environment: SIECAP_INTERFACES: interfaces[1]: interface eth1 named twice"},
		{"unknown flag key", nil, map[string]string{"spool.dri": "/x"}, "flags: spool.dri: unknown key"},
		{"alias files are file-only", nil, map[string]string{"chalias_file": "/x"}, "flags: chalias_file: unknown key"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.toml", []byte(src), tt.env, tt.flags)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	for _, k := range []string{"interfaces", "log_level", "spool.dir", "capture.block_size", "control.tcp", "setup.mtu"} {
		if !strings.Contains(strings.Join(keys, " "), k) {
			t.Errorf("Keys() lacks %s: %v", k, keys)
		}
	}
	seen := map[string]string{}
	for _, k := range keys {
		if other, dup := seen[EnvName(k)]; dup {
			t.Errorf("keys %s and %s share the variable %s", k, other, EnvName(k))
		}
		seen[EnvName(k)] = k
	}
	if got := EnvName("spool.max_bytes"); got != "SIECAP_SPOOL_MAX_BYTES" {
		t.Errorf("EnvName = %s", got)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if len(c.Interfaces) != 1 || len(c.Channels) != 4 {
		t.Fatalf("demo configuration: %+v", c)
	}
	var dropped, filtered int
	for _, ch := range c.Channels {
		n := int(ch.Number)
		want := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18 + byte(n>>8), byte(n), 255}), 8430)
		if int(ch.VLAN) != n || len(ch.Addresses) != 1 || ch.Addresses[0] != want {
			t.Errorf("channel %d: vlan %d addresses %v, want VLAN %d and %v", n, ch.VLAN, ch.Addresses, n, want)
		}
		switch ch.Rules.Action {
		case DropAll:
			dropped++
			if !ch.Rules.CountPayloads {
				t.Errorf("channel %d is dropped without counting its payloads", n)
			}
		case Deny:
			filtered++
			if len(ch.Rules.Types) != 1 || ch.Rules.Types[0].AnyType {
				t.Errorf("channel %d denies %v, want one message type", n, ch.Rules.Types)
			}
		}
	}
	if dropped != 1 || filtered != 1 {
		t.Errorf("%d channels dropped and %d filtered, want 1 and 1", dropped, filtered)
	}
	roundTrip(t, c)
	if !strings.Contains(string(DemoTOML()), "[[channel]]") {
		t.Error("DemoTOML has no channels")
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "siecap.toml")
	writeFile(t, path, base+"[spool]\ndir = \"/x\"\n[capture]\nsockets = 0\n")
	_, err := Load(path, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), path+":5: capture.sockets: ") {
		t.Errorf("Load: %v, want an error at %s:5", err, path)
	}
	if _, err := Load(path, []string{"SIECAP_CAPTURE_SOCKETS=2"}, nil); err != nil {
		t.Errorf("Load with the environment fixing it: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), nil, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want ErrNotExist", err)
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{"0": 0, "123": 123, "4KiB": 4096, "4 MiB": 4 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40, "5kB": 5000, "3GB": 3e9, "7B": 7} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v, want %d", in, got, err, want)
		}
		if back, err := ParseSize(got.String()); err != nil || back != got {
			t.Errorf("ParseSize(%q.String() = %q) = %d, %v", in, got.String(), back, err)
		}
	}
	for _, in := range []string{"", "-1", "1.5MiB", "MiB", "1 PiB", "99999999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestLocate(t *testing.T) {
	src := `a = 1 # x = 2
[t]
"quoted key" = "v = w"
d.e = [
  "[[x]]",
]
s = """
k = 1
"""
[[arr]]
k = 1
[arr.sub]
k = { p = 1, q = [1, 2] }
[[arr]]
k = 2
`
	want := map[string]int{"a": 1, "t": 2, "t.quoted key": 3, "t.d.e": 4, "t.s": 7, "arr[0]": 10, "arr[0].k": 11,
		"arr[0].sub": 12, "arr[0].sub.k": 13, "arr[0].sub.k.p": 13, "arr[0].sub.k.q": 13, "arr[1]": 14, "arr[1].k": 15}
	got := locate(src)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("locate = %v, want %v", got, want)
	}
	if n := lineOf(got, "arr[1].k.z[3]"); n != 15 {
		t.Errorf("lineOf(arr[1].k.z[3]) = %d, want 15", n)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

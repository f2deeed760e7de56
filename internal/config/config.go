package config

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/siecap/siecap/capture"
	"github.com/siecap/siecap/nmsg"
)

// DefaultPath is where the daemon looks for its configuration.
const DefaultPath = "/etc/siecap/siecap.toml"

// Defaults of the settings a file leaves out.
const (
	DefaultSocket       = "/run/siecap/siecap.sock"
	DefaultSocketMode   = FileMode(0o660)
	DefaultSpoolDir     = "/var/lib/siecap/spool"
	DefaultDedupeWindow = 60 * time.Second
	MaxChannel          = 4095
	MaxVLAN             = 4094
)

// Config is the appliance's effective configuration. The toml tags give
// the key of every field; Channels are the [[channel]] tables.
type Config struct {
	// Interfaces are the SIE links to capture on.
	Interfaces []string `toml:"interfaces"`
	// LogLevel is the slog level: debug, info, warn or error.
	LogLevel slog.Level `toml:"log_level"`
	// ChaliasFile, OpaliasFile and GraliasFile name nmsgtool's alias
	// files; empty means libnmsg's defaults (NMSG_CHALIAS_FILE,
	// /etc/nmsg.chalias, /etc/nmsgtool.chalias; NMSG_OPALIAS_FILE,
	// /etc/nmsg.opalias; NMSG_GRALIAS_FILE, /etc/nmsg.gralias). They are
	// read only when a channel names an alias, operator or group.
	ChaliasFile string `toml:"chalias_file"`
	OpaliasFile string `toml:"opalias_file"`
	GraliasFile string `toml:"gralias_file"`

	Setup   Setup   `toml:"setup"`
	Capture Capture `toml:"capture"`
	Spool   Spool   `toml:"spool"`
	Control Control `toml:"control"`

	// Channels, sorted by number.
	Channels []Channel `toml:"-"`
}

// Setup is what the daemon does to the SIE interfaces before capturing
// (what Farsight's sie-update does). On stop it reverses what it changed,
// and only that.
type Setup struct {
	// LinkUp brings every interface up.
	LinkUp bool `toml:"link_up"`
	// MTU set on every interface; 0 leaves it alone.
	MTU int `toml:"mtu"`
	// Promisc sets every interface's promiscuous flag (as "ip link set
	// promisc on" does), where capture.promisc makes the capture sockets
	// promiscuous for as long as they are open.
	Promisc bool `toml:"promisc"`
	// VLANInterfaces creates, on every interface, one 802.1Q VLAN
	// sub-interface per channel with a VLAN id, named "<interface>.<vlan>"
	// (an existing one is used as it is). The capture stays on the
	// interfaces themselves, where the VLAN id tells the channels apart.
	VLANInterfaces bool `toml:"vlan_interfaces"`
}

// Capture configures the AF_PACKET capture and the kernel pre-filter.
type Capture struct {
	Sockets      int           `toml:"sockets"`       // sockets (and reader goroutines) per interface
	RingSize     int           `toml:"ring_size"`     // batches per ring between readers and shards (power of two)
	BlockSize    Size          `toml:"block_size"`    // TPACKET_V3 block size (power of two)
	BlockCount   int           `toml:"block_count"`   // blocks per socket ring
	BlockTimeout time.Duration `toml:"block_timeout"` // a partly filled block is handed over after this long
	Fanout       Fanout        `toml:"fanout"`        // hash or lb
	Promisc      bool          `toml:"promisc"`       // promiscuous mode while capturing
	Filter       FilterMode    `toml:"filter"`        // xdp, socket, auto or off
	// DropUnconfigured drops NMSG on no configured channel in the kernel
	// (it is still counted by the discovery counters).
	DropUnconfigured bool `toml:"drop_unconfigured"`
}

// Spool configures the segment store.
type Spool struct {
	Dir            string        `toml:"dir"`
	NodeID         uint32        `toml:"node_id"`         // this blade's id, part of every segment id
	MaxBytes       Size          `toml:"max_bytes"`       // byte budget; 0 = none
	MaxAge         time.Duration `toml:"max_age"`         // sealed segments older are evicted; 0 = keep
	SegmentBytes   Size          `toml:"segment_bytes"`   // a segment is sealed at this size
	SegmentAge     time.Duration `toml:"segment_age"`     // ... or this long after it was created
	CommitInterval time.Duration `toml:"commit_interval"` // group commit: at most this long after an append
	CommitBytes    Size          `toml:"commit_bytes"`    // ... or once this many bytes are pending
}

// Control configures the control API's listeners.
type Control struct {
	// Socket is the unix socket path; empty disables it.
	Socket     string   `toml:"socket"`
	SocketMode FileMode `toml:"socket_mode"`
	// TCP is a host:port to listen on as well; empty disables it. It
	// requires a TokenFile, a client CA (mTLS), or both.
	TCP       string `toml:"tcp"`
	TokenFile string `toml:"token_file"` // bearer token, in a file readable by its owner only
	TLSCert   string `toml:"tls_cert"`
	TLSKey    string `toml:"tls_key"`
	ClientCA  string `toml:"client_ca"` // CA of the client certificates (mTLS)

	ReadTimeout  time.Duration `toml:"read_timeout"`
	WriteTimeout time.Duration `toml:"write_timeout"` // streams get it afresh for every chunk
	IdleTimeout  time.Duration `toml:"idle_timeout"`
	MaxBodyBytes Size          `toml:"max_body_bytes"`
	// TailRate bounds the payloads per second one tail client receives;
	// TailBuffer is its queue, beyond which payloads are dropped and
	// counted; TailClients bounds the clients at once.
	TailRate    int `toml:"tail_rate"`
	TailBuffer  int `toml:"tail_buffer"`
	TailClients int `toml:"tail_clients"` // tail clients at once
}

// Channel is one subscribed SIE channel.
type Channel struct {
	Number uint16 // 0..4095
	Name   string // a label, defaults to "ch<number>"
	// VLAN id the channel arrives on; 0 means the channel is matched by
	// address only.
	VLAN uint16
	// Alias names the channel in nmsgtool's channel alias file; its
	// addresses are merged into Addresses.
	Alias string
	// Addresses the channel's datagrams are sent to, sorted, no
	// duplicates.
	Addresses []netip.AddrPort
	Rules     Rules
	Dedupe    Dedupe
	Window    time.Duration // dedupe window
	// Operator and Group, when not zero, pass only payloads stamped with
	// them (nmsgtool --getoperator, --getgroup).
	Operator, Group uint32
	// InterfaceAddress, when valid, is given to the channel's VLAN
	// sub-interface (setup.vlan_interfaces), as sie-update gives each its
	// address, for tools that read the channel through a UDP socket.
	InterfaceAddress netip.Prefix
}

// Rules are a channel's payload type rules.
type Rules struct {
	Action Action
	// Types lists what Allow passes or Deny drops, sorted, no duplicates.
	Types []TypeRef
	// CountPayloads makes the kernel filter count every payload of the
	// channel's containers (bpf.Rule.CountPayloads), so that its payload
	// counters are exact also for a drop or pass channel, at the cost of
	// walking every container.
	CountPayloads bool
}

// Default returns the built-in demonstration configuration (demo.toml): the
// lab's SIE link, four channels, one dropped in the kernel and one with a
// message type filtered out.
func Default() *Config {
	c, err := Parse("demo.toml", demoTOML, nil, nil)
	if err != nil {
		panic(fmt.Sprintf("built-in configuration: %v", err))
	}
	return c
}

// DemoTOML returns the text of the built-in configuration.
func DemoTOML() []byte { return slices.Clone(demoTOML) }

//go:embed demo.toml
var demoTOML []byte

// defaults returns a Config with every default filled in.
func defaults() Config {
	return Config{
		LogLevel: slog.LevelInfo,
		Setup:    Setup{LinkUp: true, MTU: 9000},
		Capture: Capture{
			// capture's own defaults: 4 blocks of 4 MiB. At low rates a
			// block retires on its timeout nearly empty, and 4 of them
			// with a 50 ms timeout let a reader kept off the CPU for
			// 150 ms lose nothing.
			Sockets: capture.DefaultSockets, RingSize: 64, BlockSize: capture.DefaultBlockSize,
			BlockCount: capture.DefaultNumBlocks, BlockTimeout: capture.DefaultBlockTimeout, Promisc: true,
		},
		Spool: Spool{
			Dir: DefaultSpoolDir, NodeID: 1,
			SegmentBytes: 64 << 20, SegmentAge: 10 * time.Minute,
			CommitInterval: 100 * time.Millisecond, CommitBytes: 4 << 20,
		},
		Control: Control{
			Socket: DefaultSocket, SocketMode: DefaultSocketMode,
			ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
			MaxBodyBytes: 1 << 20, TailRate: 1000, TailBuffer: 1024, TailClients: 8,
		},
	}
}

// Load reads the file at path (DefaultPath when empty), then applies the
// environment (os.Environ form; only SIECAP_* variables are looked at) and
// flags (keyed by key path, e.g. "spool.dir"), and returns the validated
// effective configuration. Errors are an Errors list.
func Load(path string, env []string, flags map[string]string) (*Config, error) {
	if path == "" {
		path = DefaultPath
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, src, env, flags)
}

// Parse is Load on the text src of the file named name.
func Parse(name string, src []byte, env []string, flags map[string]string) (*Config, error) {
	p := &parser{name: name, src: string(src), lines: locate(string(src)), origin: map[string][2]string{}}
	// Problems of every layer are reported together; parse returns nil
	// only when the file could not be decoded at all.
	if c := p.parse(); c != nil {
		p.override(c, env, flags)
		p.validate(c)
		if len(p.errs) == 0 {
			return c, nil
		}
	}
	return nil, p.errs.sorted()
}

// parser collects the errors of one Parse.
type parser struct {
	name  string
	src   string
	lines map[string]int
	errs  Errors

	opalias, gralias string // alias files named by the configuration
	aliases          map[string]*nmsg.AliasTable
	loaded           *nmsg.Aliases // what nmsg.LoadAliases read
	// origin names where an overridden key's value came from:
	// {"environment", "SIECAP_SPOOL_DIR"} or {"flags", "spool.dir"}.
	origin map[string][2]string
	// fileIndex[i] is the index in the file of c.Channels[i] (channels
	// with errors are left out).
	fileIndex []int
	// badChannels counts the channels left out for their errors.
	badChannels int
}

// errorf records a problem with key (a key path, "" for the file).
func (p *parser) errorf(key string, format string, args ...any) {
	for k := key; k != ""; {
		if o, ok := p.origin[k]; ok {
			err := fmt.Errorf(format, args...)
			if k != key {
				err = fmt.Errorf("%s: %w", key, err)
			}
			p.errs = append(p.errs, &Error{File: o[0], Key: o[1], Err: err})
			return
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	p.errs = append(p.errs, &Error{File: p.name, Line: lineOf(p.lines, key), Key: key, Err: fmt.Errorf(format, args...)})
}

func (p *parser) parse() *Config {
	c := defaults()
	md, err := toml.Decode(p.src, &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			p.errs = append(p.errs, &Error{File: p.name, Line: pe.Position.Line, Key: pe.LastKey, Err: errors.New(msg)})
		} else if m := lastKeyError.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.errs = append(p.errs, &Error{File: p.name, Line: line, Key: m[2], Err: errors.New(m[3])})
		} else {
			p.errs = append(p.errs, &Error{File: p.name, Err: err})
		}
		return nil
	}
	// Unknown keys: what BurntSushi/toml left undecoded, and keys it
	// matched to a field in another case (it ignores case; the file must
	// not). Keys inside an unknown table are not reported again.
	known := knownKeys()
	var unknown []string
	for _, k := range md.Keys() {
		key := k.String()
		if k[0] == "channel" || known[key] ||
			slices.ContainsFunc(unknown, func(u string) bool { return strings.HasPrefix(key, u+".") }) {
			continue
		}
		unknown = append(unknown, key)
		p.errorf(key, "unknown key")
	}
	if md.IsDefined("channel") && md.Type("channel") != "ArrayHash" {
		p.errorf("channel", "want [[channel]] tables")
		return nil
	}
	p.opalias, p.gralias = c.OpaliasFile, c.GraliasFile
	var chans struct {
		Channel []map[string]any `toml:"channel"`
	}
	if _, err := toml.Decode(p.src, &chans); err != nil {
		p.errorf("channel", "%v", err)
		return nil
	}
	for i, m := range chans.Channel {
		if ch, ok := p.channel(i, m); ok {
			c.Channels = append(c.Channels, ch)
			p.fileIndex = append(p.fileIndex, i)
		} else {
			p.badChannels++
		}
	}
	return &c
}

// lastKeyError matches BurntSushi/toml's errors in decoding a value.
var lastKeyError = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Errors lists the problems of a configuration, ordered by line.
type Errors []*Error

func (e Errors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, err := range e {
		out[i] = err
	}
	return out
}

func (e Errors) sorted() Errors {
	slices.SortStableFunc(e, func(a, b *Error) int { return a.Line - b.Line })
	return e
}

// Error is one problem: where it is and what is wrong.
type Error struct {
	File string
	Line int    // 1-based; 0 when the key is not in the file
	Key  string // key path such as "channel[1].vlan", or an environment variable or flag
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

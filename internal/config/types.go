package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/siecap/siecap/nmsg/msgmod"
)

// Size is a number of bytes, written as an integer or with a unit:
// "64MiB", "4 KiB", "500GB" (KiB, MiB, GiB, TiB are powers of 1024; kB,
// MB, GB, TB powers of 1000).
type Size int64

var sizeUnits = []struct {
	name string
	mul  int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1},
}

// ParseSize parses a Size.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mul := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.name) {
			t, mul = strings.TrimSpace(strings.TrimSuffix(t, u.name)), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("parse size %q: want a non-negative integer with an optional unit (KiB, MiB, GiB, TiB, kB, MB, GB, TB)", s)
	}
	if n > (1<<63-1)/mul {
		return 0, fmt.Errorf("parse size %q: too large", s)
	}
	return Size(n * mul), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes the size in the largest binary unit that divides it.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Size) String() string {
	for _, u := range sizeUnits[:4] {
		if s != 0 && int64(s)%u.mul == 0 {
			return strconv.FormatInt(int64(s)/u.mul, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

// FileMode is a unix permission mode written in octal ("0660").
type FileMode uint32

// UnmarshalText implements encoding.TextUnmarshaler. An integer written in
// TOML as 0o660 arrives as 432 and is taken as is.
func (m *FileMode) UnmarshalText(b []byte) error {
	s := string(b)
	base := 8
	if !strings.HasPrefix(s, "0") {
		// A TOML integer (0o660 or 432) reaches here in decimal.
		base = 10
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), base, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("parse file mode %q: want octal permission bits such as \"0660\"", s)
	}
	*m = FileMode(v)
	return nil
}

// MarshalText writes the mode in octal with a leading 0.
func (m FileMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m FileMode) String() string { return fmt.Sprintf("%#04o", uint32(m)) }

// enum parses and prints one of a fixed set of lower-case names.
func parseEnum(what string, s string, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("parse %s %q: want %s", what, s, strings.Join(names, ", "))
}

// Fanout is how capture spreads packets over its sockets.
type Fanout uint8

// Fanout modes.
const (
	FanoutHash Fanout = iota // by flow, IP fragments reassembled first (the default)
	FanoutLB                 // round robin
)

var fanoutNames = []string{"hash", "lb"}

func (f Fanout) String() string { return fanoutNames[f] }

// MarshalText implements encoding.TextMarshaler.
func (f Fanout) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Fanout) UnmarshalText(b []byte) error {
	i, err := parseEnum("fanout", string(b), fanoutNames)
	*f = Fanout(i)
	return err
}

// FilterMode is where the kernel pre-filter runs.
type FilterMode uint8

// Filter modes.
const (
	FilterAuto   FilterMode = iota // XDP where the driver allows, else socket filters (the default)
	FilterXDP                      // XDP only; failing to attach is an error
	FilterSocket                   // socket filters only
	FilterOff                      // no kernel filter
)

var filterNames = []string{"auto", "xdp", "socket", "off"}

func (f FilterMode) String() string { return filterNames[f] }

// MarshalText implements encoding.TextMarshaler.
func (f FilterMode) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *FilterMode) UnmarshalText(b []byte) error {
	i, err := parseEnum("filter", string(b), filterNames)
	*f = FilterMode(i)
	return err
}

// Dedupe is a channel's dedupe mode.
type Dedupe uint8

// Dedupe modes.
const (
	DedupePayload Dedupe = iota // identical payloads within the window are stored once (the default)
	DedupeRRset                 // base/dnsqr responses become SIE/dnsdedupe insertions and expirations
	DedupeNone                  // every payload is stored
)

var dedupeNames = []string{"payload", "rrset", "none"}

func (d Dedupe) String() string { return dedupeNames[d] }

// MarshalText implements encoding.TextMarshaler.
func (d Dedupe) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Dedupe) UnmarshalText(b []byte) error {
	i, err := parseEnum("dedupe mode", string(b), dedupeNames)
	*d = Dedupe(i)
	return err
}

// Action is what a channel's rule does.
type Action uint8

// Rule actions.
const (
	PassAll Action = iota // every payload passes (the default)
	DropAll               // the channel is dropped, in the kernel where it runs
	Allow                 // only payloads of the listed types pass
	Deny                  // payloads of the listed types are dropped
)

var actionNames = []string{"pass", "drop", "allow", "deny"}

func (a Action) String() string { return actionNames[a] }

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	i, err := parseEnum("rule action", string(b), actionNames)
	*a = Action(i)
	return err
}

// MaxTypeNumber bounds the vendor ids and message types a rule can list:
// the kernel filter's type table holds numbers below it.
const MaxTypeNumber = 256

// TypeRef names NMSG payload types: one (vendor, message type) pair or,
// with AnyType, every type of the vendor.
type TypeRef struct {
	Vendor  uint32
	MsgType uint32
	AnyType bool
}

// ParseTypeRef parses "vendor" or "vendor:type", each part a name known to
// msgmod ("SIE", "dnsdedupe", case-insensitive) or a number. A number
// pair need not be known to msgmod; a name must be.
func ParseTypeRef(s string) (TypeRef, error) {
	vname, mname, pair := strings.Cut(strings.TrimSpace(s), ":")
	if vname == "" || (pair && mname == "") {
		return TypeRef{}, fmt.Errorf("parse message type %q: want vendor or vendor:type", s)
	}
	vid, ok := msgmod.VendorID(vname)
	if !ok {
		return TypeRef{}, fmt.Errorf("parse message type %q: unknown vendor %q", s, vname)
	}
	if vid >= MaxTypeNumber {
		return TypeRef{}, fmt.Errorf("parse message type %q: vendor id %d not below %d", s, vid, MaxTypeNumber)
	}
	if !pair {
		return TypeRef{Vendor: vid, AnyType: true}, nil
	}
	if n, err := strconv.ParseUint(mname, 0, 32); err == nil {
		if n >= MaxTypeNumber {
			return TypeRef{}, fmt.Errorf("parse message type %q: message type %d not below %d", s, n, MaxTypeNumber)
		}
		return TypeRef{Vendor: vid, MsgType: uint32(n)}, nil
	}
	m, err := msgmod.LookupName(vname, mname)
	if err != nil {
		return TypeRef{}, fmt.Errorf("parse message type %q: %w", s, err)
	}
	return TypeRef{Vendor: m.Vid, MsgType: m.Msgtype}, nil
}

// String writes the reference by name where msgmod knows it, else by
// number: "SIE:dnsdedupe", "SIE", "2:99".
func (t TypeRef) String() string {
	v := msgmod.VendorName(t.Vendor)
	if v == "" {
		v = strconv.FormatUint(uint64(t.Vendor), 10)
	}
	if t.AnyType {
		return v
	}
	if m := msgmod.Lookup(t.Vendor, t.MsgType); m != nil {
		return v + ":" + m.MName
	}
	return v + ":" + strconv.FormatUint(uint64(t.MsgType), 10)
}

// Less orders references by vendor, then whole vendors first, then type.
func (t TypeRef) Less(u TypeRef) bool {
	if t.Vendor != u.Vendor {
		return t.Vendor < u.Vendor
	}
	if t.AnyType != u.AnyType {
		return t.AnyType
	}
	return t.MsgType < u.MsgType
}

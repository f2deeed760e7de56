package bpf

import (
	"errors"
	"fmt"
	"net/netip"
)

// Action is what a channel's rule does with NMSG containers.
type Action uint8

// Channel rule actions; the values are the C enum sc_action.
const (
	PassAll Action = 0 // pass every container
	DropAll Action = 1 // drop every container
	Allow   Action = 2 // pass containers holding a listed type
	Deny    Action = 3 // drop containers holding only listed types
)

func (a Action) String() string {
	switch a {
	case PassAll:
		return "pass-all"
	case DropAll:
		return "drop-all"
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Type names NMSG payload types: one (vendor, message type) pair, or, with
// AnyType, every type of the vendor.
type Type struct {
	Vendor  uint8
	MsgType uint8
	AnyType bool
}

// Rule is a channel's rule.
type Rule struct {
	Action Action
	// Types lists the payload types an Allow rule passes or a Deny rule
	// drops. A container is dropped only when every payload in it was read
	// and every one is denied; a payload whose vendor or message type is
	// 256 or more is never listed.
	Types []Type
	// DropNotNMSG drops IP traffic on the channel that is not NMSG
	// (non-IP traffic such as ARP always passes).
	DropNotNMSG bool
	// CountPayloads makes the kernel count every payload of every
	// container it decides on the channel, so that its payload counters
	// are exact: it walks each flags-0 container to its end (counting
	// the top-level payload fields) also under PassAll and DropAll, and
	// after an Allow or Deny list's decision. A DropAll channel then drops
	// only containers whose payloads it counted: ZLIB or FRAGMENT,
	// malformed and unwalkable containers pass to user space (Opaque,
	// Malformed, Partial), as on a list channel. It costs the walk (about
	// a microsecond per 8 KB container, see docs/benchmarks.md), which
	// is why it is off by default.
	CountPayloads bool
}

// Channel is one subscribed SIE channel: the VLAN ids and destination
// address/port pairs its traffic arrives on, and its rule.
type Channel struct {
	ID    uint32 // channel number; names the counters, 0 is reserved
	VLANs []uint16
	Addrs []netip.AddrPort
	Rule  Rule
}

// Config is the whole rule set; it replaces the previous one atomically.
type Config struct {
	Channels []Channel
	// DropUnconfigured drops NMSG traffic on no configured channel
	// (traffic that is not NMSG always passes there).
	DropUnconfigured bool
}

// Verdict reasons; the values are the C enum sc_verdict and index the
// counters.
type Reason uint8

const (
	ReasonPass        Reason = 0 // NMSG passed by the channel's rule
	ReasonDrop        Reason = 1 // NMSG dropped by the channel's rule
	ReasonOpaque      Reason = 2 // ZLIB/FRAGMENT container, IP fragment or IPv6 extension header: passed
	ReasonPartial     Reason = 3 // not every payload could be read: passed
	ReasonMalformed   Reason = 4 // NMSG magic but a bad header or protobuf: passed
	ReasonNotNMSG     Reason = 5 // not NMSG: passed
	ReasonDropDefault Reason = 6 // dropped by DropUnconfigured or DropNotNMSG
	NumReasons               = 7
)

var reasonNames = [NumReasons]string{"pass", "drop", "opaque", "partial", "malformed", "not-nmsg", "drop-default"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Drops reports whether frames with this reason are dropped.
func (r Reason) Drops() bool { return r == ReasonDrop || r == ReasonDropDefault }

// Kernel limits (include/shared.h).
const (
	maxSlots  = 512
	maxKeys   = 1023
	maxFields = 1024
	window    = 24
)

// Flags of a kernel rule (SC_F_*).
const (
	flagDropNotNMSG      = 0x01
	flagDropUnconfigured = 0x02
	flagCountPayloads    = 0x04
)

// compiledRule is a channel's rule in the kernel's form.
type compiledRule struct {
	id     uint32
	entry  uint16 // entry of the kernel's channel table
	action Action
	flags  uint8
	vidAll [4]uint64
	pairs  [1024]uint64
}

func (r *compiledRule) denies(vid, mt uint64) bool {
	listed := false
	if vid < 256 {
		if r.vidAll[vid>>6]&(1<<(vid&63)) != 0 {
			listed = true
		} else if mt < 256 {
			bit := vid<<8 | mt
			listed = r.pairs[bit>>6]>>(bit&63)&1 != 0
		}
	}
	if r.action == Allow {
		return !listed
	}
	return listed
}

type addrKey struct {
	family uint8
	port   uint16
	addr   [16]byte
}

func makeAddrKey(ap netip.AddrPort) addrKey {
	k := addrKey{port: ap.Port(), family: 6}
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		k.family = 4
		a4 := a.Unmap().As4()
		copy(k.addr[:], a4[:])
	} else {
		k.addr = a.As16()
	}
	return k
}

// Ruleset is a validated Config in the form the kernel uses. It is
// immutable and safe for concurrent use.
type Ruleset struct {
	cfg              Config
	vlans            map[uint16]*compiledRule
	addrs            map[addrKey]*compiledRule
	rules            []*compiledRule // in channel order
	table            addrTable
	dropUnconfigured bool
}

// ErrConfig wraps every validation error of Compile.
var ErrConfig = errors.New("invalid filter config")

// Compile validates cfg and builds its Ruleset.
func Compile(cfg Config) (*Ruleset, error) {
	rs := &Ruleset{
		cfg:              cfg,
		vlans:            map[uint16]*compiledRule{},
		addrs:            map[addrKey]*compiledRule{},
		dropUnconfigured: cfg.DropUnconfigured,
	}
	ids := map[uint32]bool{}
	keys := 0
	if len(cfg.Channels) > maxSlots-1 {
		return nil, fmt.Errorf("%w: %d channels, at most %d", ErrConfig, len(cfg.Channels), maxSlots-1)
	}
	for _, ch := range cfg.Channels {
		if ch.ID == 0 {
			return nil, fmt.Errorf("%w: channel id 0 is reserved", ErrConfig)
		}
		if ids[ch.ID] {
			return nil, fmt.Errorf("%w: channel %d listed twice", ErrConfig, ch.ID)
		}
		ids[ch.ID] = true
		if ch.Rule.Action > Deny {
			return nil, fmt.Errorf("%w: channel %d: unknown action %d", ErrConfig, ch.ID, ch.Rule.Action)
		}
		r := &compiledRule{id: ch.ID, entry: uint16(tableRule + len(rs.rules)), action: ch.Rule.Action}
		rs.rules = append(rs.rules, r)
		if ch.Rule.DropNotNMSG {
			r.flags |= flagDropNotNMSG
		}
		if ch.Rule.CountPayloads {
			r.flags |= flagCountPayloads
		}
		for _, t := range ch.Rule.Types {
			if t.AnyType {
				r.vidAll[t.Vendor>>6] |= 1 << (t.Vendor & 63)
				continue
			}
			bit := uint32(t.Vendor)<<8 | uint32(t.MsgType)
			r.pairs[bit>>6] |= 1 << (bit & 63)
		}
		for _, v := range ch.VLANs {
			if v == 0 || v > 4094 {
				return nil, fmt.Errorf("%w: channel %d: vlan id %d outside 1..4094", ErrConfig, ch.ID, v)
			}
			if _, dup := rs.vlans[v]; dup {
				return nil, fmt.Errorf("%w: vlan %d on two channels", ErrConfig, v)
			}
			rs.vlans[v] = r
			keys++
		}
		for _, ap := range ch.Addrs {
			if !ap.IsValid() {
				return nil, fmt.Errorf("%w: channel %d: invalid address", ErrConfig, ch.ID)
			}
			k := makeAddrKey(ap)
			if _, dup := rs.addrs[k]; dup {
				return nil, fmt.Errorf("%w: address %s on two channels", ErrConfig, ap)
			}
			rs.addrs[k] = r
			keys++
		}
	}
	if keys > maxKeys {
		return nil, fmt.Errorf("%w: %d vlan and address keys, at most %d", ErrConfig, keys, maxKeys)
	}
	var err error
	if rs.table, err = buildAddrTable(rs.addrs); err != nil {
		return nil, err
	}
	return rs, nil
}

// Config returns the Config the Ruleset was compiled from.
func (rs *Ruleset) Config() Config { return rs.cfg }

package ctl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/siecap/siecap/nmsg/msgmod"
)

// MaxChannel is the highest channel number.
const MaxChannel = 4095

// Rule actions of a ChannelRule.
const (
	ActionPass  = "pass"
	ActionDrop  = "drop"
	ActionAllow = "allow"
	ActionDeny  = "deny"
)

// Validate checks the rule set's form: channels unique and in range,
// known actions, types listed exactly for allow and deny, each type a
// vendor or vendor:type msgmod knows (numbers below 256 are taken as
// they are). It returns an *InvalidError.
func (rs RuleSet) Validate() error {
	seen := map[uint16]int{}
	for i, r := range rs.Channels {
		at := "channels[" + strconv.Itoa(i) + "]"
		if r.Channel > MaxChannel {
			return &InvalidError{at + ".channel", fmt.Sprintf("%d outside 0..%d", r.Channel, MaxChannel)}
		}
		if j, dup := seen[r.Channel]; dup {
			return &InvalidError{at + ".channel", fmt.Sprintf("channel %d is also channels[%d]", r.Channel, j)}
		}
		seen[r.Channel] = i
		switch r.Action {
		case ActionPass, ActionDrop:
			if len(r.Types) > 0 {
				return &InvalidError{at + ".types", "a " + r.Action + " rule takes no types"}
			}
		case ActionAllow, ActionDeny:
			if len(r.Types) == 0 {
				return &InvalidError{at + ".types", "an " + r.Action + " rule needs types"}
			}
		default:
			return &InvalidError{at + ".action", fmt.Sprintf("%q: want pass, drop, allow or deny", r.Action)}
		}
		for j, t := range r.Types {
			if err := checkType(t); err != nil {
				return &InvalidError{fmt.Sprintf("%s.types[%d]", at, j), err.Error()}
			}
		}
	}
	return nil
}

// checkType checks "vendor" or "vendor:type".
func checkType(s string) error {
	vname, mname, pair := strings.Cut(s, ":")
	vid, ok := msgmod.VendorID(vname)
	if vname == "" || !ok {
		return fmt.Errorf("unknown vendor in %q", s)
	}
	if vid > 255 {
		return fmt.Errorf("vendor id %d in %q not below 256", vid, s)
	}
	if !pair {
		return nil
	}
	if n, err := strconv.ParseUint(mname, 0, 32); err == nil {
		if n > 255 {
			return fmt.Errorf("message type %d in %q not below 256", n, s)
		}
		return nil
	}
	if _, err := msgmod.LookupName(vname, mname); err != nil {
		return fmt.Errorf("unknown message type %q", s)
	}
	return nil
}

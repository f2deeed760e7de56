package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/siecap/siecap/nmsg"
)

// channelKeys are the keys a [[channel]] table may hold.
var channelKeys = []string{"number", "name", "vlan", "alias", "addresses", "rules", "dedupe", "dedupe_window", "operator", "group", "interface_address"}

// channel decodes the i-th [[channel]] table; ok is false when it had an
// error (recorded).
func (p *parser) channel(i int, m map[string]any) (Channel, bool) {
	at := "channel[" + strconv.Itoa(i) + "]"
	nerr := len(p.errs)
	keys := sortedKeys(m)
	for _, k := range keys {
		if !slices.Contains(channelKeys, k) {
			p.errorf(at+"."+k, "unknown key")
		}
	}
	var ch Channel
	num, ok := p.int(m, at, "number", 0, MaxChannel)
	if !ok {
		if _, present := m["number"]; !present {
			p.errorf(at, "missing number")
		}
	}
	ch.Number = uint16(num)
	ch.Name = p.str(m, at, "name")
	if ch.Name == "" {
		ch.Name = "ch" + strconv.Itoa(num)
	}
	if _, set := m["vlan"]; set {
		v, _ := p.int(m, at, "vlan", 0, MaxVLAN)
		ch.VLAN = uint16(v)
	} else if num >= 1 && num <= MaxVLAN {
		ch.VLAN = uint16(num)
	} else if ok {
		p.errorf(at+".number", "channel %d has no default VLAN id (1..%d): set vlan, or vlan = 0 and addresses", num, MaxVLAN)
	}
	ch.Alias = p.str(m, at, "alias")
	for j, spec := range p.strs(m, at, "addresses") {
		eps, err := nmsg.ParseEndpoints(spec)
		if err != nil {
			p.errorf(fmt.Sprintf("%s.addresses[%d]", at, j), "%v", err)
			continue
		}
		ch.Addresses = append(ch.Addresses, eps...)
	}
	if s := p.str(m, at, "dedupe"); s != "" {
		if err := ch.Dedupe.UnmarshalText([]byte(s)); err != nil {
			p.errorf(at+".dedupe", "%v", err)
		}
	}
	ch.Window = DefaultDedupeWindow
	if s := p.str(m, at, "dedupe_window"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			p.errorf(at+".dedupe_window", "want a positive duration such as \"60s\", got %q", s)
		}
		ch.Window = d
	}
	if s := p.str(m, at, "interface_address"); s != "" {
		a, err := netip.ParsePrefix(s)
		if err != nil {
			p.errorf(at+".interface_address", "want an address with its prefix length such as \"10.32.204.10/24\", got %q", s)
		}
		ch.InterfaceAddress = a
	}
	ch.Operator = p.alias(m, at, "operator")
	ch.Group = p.alias(m, at, "group")
	if r, set := m["rules"]; set {
		rm, isMap := r.(map[string]any)
		if !isMap {
			p.errorf(at+".rules", "want a table ([channel.rules] or rules = { ... })")
		} else {
			ch.Rules = p.rules(rm, at+".rules")
		}
	}
	return ch, len(p.errs) == nerr
}

func (p *parser) rules(m map[string]any, at string) Rules {
	var r Rules
	nerr := len(p.errs)
	for _, k := range sortedKeys(m) {
		if k != "action" && k != "types" && k != "count_payloads" {
			p.errorf(at+"."+k, "unknown key")
		}
	}
	if v, set := m["count_payloads"]; set {
		b, isBool := v.(bool)
		if !isBool {
			p.errorf(at+".count_payloads", "want true or false")
		}
		r.CountPayloads = b
	}
	if s := p.str(m, at, "action"); s != "" {
		if err := r.Action.UnmarshalText([]byte(s)); err != nil {
			p.errorf(at+".action", "%v", err)
		}
	}
	for j, s := range p.strs(m, at, "types") {
		t, err := ParseTypeRef(s)
		if err != nil {
			p.errorf(fmt.Sprintf("%s.types[%d]", at, j), "%v", err)
			continue
		}
		r.Types = append(r.Types, t)
	}
	slices.SortFunc(r.Types, func(a, b TypeRef) int {
		switch {
		case a == b:
			return 0
		case a.Less(b):
			return -1
		}
		return 1
	})
	r.Types = slices.Compact(r.Types)
	_, hasTypes := m["types"]
	switch {
	case (r.Action == Allow || r.Action == Deny) && len(r.Types) == 0 && !hasTypes:
		p.errorf(at+".action", "%s needs a types list", r.Action)
	case (r.Action == Allow || r.Action == Deny) && len(r.Types) == 0 && len(p.errs) == nerr:
		p.errorf(at+".types", "%s needs at least one type (use pass or drop)", r.Action)
	case (r.Action == PassAll || r.Action == DropAll) && hasTypes:
		p.errorf(at+".types", "a %s rule takes no types (use allow or deny)", r.Action)
	}
	return r
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// str returns the string at key, "" when absent.
func (p *parser) str(m map[string]any, at, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		p.errorf(at+"."+key, "want a string, got %s", typeName(v))
	}
	return s
}

// int returns the integer at key, checked against [lo, hi].
func (p *parser) int(m map[string]any, at, key string, lo, hi int64) (int, bool) {
	v, ok := m[key]
	if !ok {
		return 0, false
	}
	n, isInt := v.(int64)
	if !isInt {
		p.errorf(at+"."+key, "want an integer, got %s", typeName(v))
		return 0, false
	}
	if n < lo || n > hi {
		p.errorf(at+"."+key, "%d outside %d..%d", n, lo, hi)
		return 0, false
	}
	return int(n), true
}

// strs returns the array of strings at key.
func (p *parser) strs(m map[string]any, at, key string) []string {
	v, ok := m[key]
	if !ok {
		return nil
	}
	a, isArr := v.([]any)
	if !isArr {
		p.errorf(at+"."+key, "want an array of strings, got %s", typeName(v))
		return nil
	}
	out := make([]string, 0, len(a))
	for j, e := range a {
		s, isStr := e.(string)
		if !isStr {
			p.errorf(fmt.Sprintf("%s.%s[%d]", at, key, j), "want a string, got %s", typeName(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

// alias returns an operator or group given by number or by name; names
// are resolved through the alias files, loaded on first use.
func (p *parser) alias(m map[string]any, at, key string) uint32 {
	v, ok := m[key]
	if !ok {
		return 0
	}
	switch v := v.(type) {
	case int64:
		if v < 0 || v > 1<<32-1 {
			p.errorf(at+"."+key, "%d outside 0..%d", v, uint32(1<<32-1))
			return 0
		}
		return uint32(v)
	case string:
		if n, err := strconv.ParseUint(v, 0, 32); err == nil {
			return uint32(n)
		}
		tab, file, err := p.aliasTable(key)
		if err != nil {
			p.errorf(at+"."+key, "%v", err)
			return 0
		}
		n, found := tab.Lookup(v)
		if !found {
			p.errorf(at+"."+key, "%s %q is not in %s", key, v, file)
		}
		return n
	}
	p.errorf(at+"."+key, "want a name or a number, got %s", typeName(v))
	return 0
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// resolveAddresses merges the channel alias file's endpoints into every
// channel that names an alias, then sorts and deduplicates the addresses.
func (p *parser) resolveAddresses(c *Config) {
	var tab nmsg.Channels
	for i := range c.Channels {
		ch := &c.Channels[i]
		at := p.channelKey(i)
		if ch.Alias != "" {
			if tab == nil {
				var err error
				if tab, err = p.chalias(c.ChaliasFile); err != nil {
					p.errorf(at+".alias", "%v", err)
					return
				}
			}
			eps, ok := tab[ch.Alias]
			if !ok {
				p.errorf(at+".alias", "channel alias %q is not in the channel alias file", ch.Alias)
			}
			ch.Addresses = append(ch.Addresses, eps...)
		}
		slices.SortFunc(ch.Addresses, func(a, b netip.AddrPort) int { return a.Compare(b) })
		ch.Addresses = slices.Compact(ch.Addresses)
	}
}

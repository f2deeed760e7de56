package msgmod

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/siecap/siecap/nmsg"
)

// ErrJSONInput is wrapped by every error of JSONReader.ParseLine.
var ErrJSONInput = errors.New("bad JSON input")

// JSONReader converts nmsgtool's JSON lines (the -j input format, the same
// shape nmsgtool -J prints) into payloads whose message bytes are what
// nmsgtool writes for them: fields in ascending tag order, strings stored
// with a trailing NUL, virtual fields ignored.
type JSONReader struct {
	// Aliases resolves operator and group names; nil accepts numbers only.
	Aliases *nmsg.Aliases
}

// encMsg is a message under construction from JSON input: the values of
// each field, in module order.
type encMsg struct {
	mod  *Module
	vals [][]val
}

func (e *encMsg) one(fi int) (val, bool) {
	if fi < 0 || len(e.vals[fi]) == 0 {
		return val{}, false
	}
	return e.vals[fi][len(e.vals[fi])-1], true
}

// ParseLine converts one JSON line to a payload. The error names the key
// or field that is wrong.
func (r *JSONReader) ParseLine(line []byte) (nmsg.Payload, error) {
	var pl nmsg.Payload
	root, err := parseJSON(line)
	if err != nil {
		return pl, fmt.Errorf("%w: %w", ErrJSONInput, err)
	}
	if root.kind != jObj {
		return pl, fmt.Errorf("%w: line is a JSON %s, not an object", ErrJSONInput, root.kind)
	}
	str := func(key string) (string, error) {
		v, ok := root.get(key)
		if !ok {
			return "", fmt.Errorf("%w: no %q", ErrJSONInput, key)
		}
		if v.kind != jStr {
			return "", fmt.Errorf("%w: %q is a %s, not a string", ErrJSONInput, key, v.kind)
		}
		return string(v.s), nil
	}
	ts, err := str("time")
	if err != nil {
		return pl, err
	}
	if pl.TimeSec, pl.TimeNsec, err = parseJSONTime(ts); err != nil {
		return pl, err
	}
	vname, err := str("vname")
	if err != nil {
		return pl, err
	}
	mname, err := str("mname")
	if err != nil {
		return pl, err
	}
	var mod *Module
	if mname == "(unknown)" {
		vid, ok1 := root.get("vid")
		mt, ok2 := root.get("msgtype")
		if !ok1 || !ok2 {
			return pl, fmt.Errorf("%w: mname \"(unknown)\" without vid and msgtype", ErrJSONInput)
		}
		v1, err1 := jsonUint(vid, math.MaxUint32)
		v2, err2 := jsonUint(mt, math.MaxUint32)
		if err1 != nil || err2 != nil {
			return pl, fmt.Errorf("%w: bad vid or msgtype", ErrJSONInput)
		}
		pl.Vid, pl.Msgtype = uint32(v1), uint32(v2)
	} else {
		mod, err = LookupName(vname, mname)
		if err != nil {
			return pl, fmt.Errorf("%w: %w", ErrJSONInput, err)
		}
		pl.Vid, pl.Msgtype = mod.Vid, mod.Msgtype
	}
	if v, ok := root.get("source"); ok {
		if v.kind != jStr {
			return pl, fmt.Errorf("%w: \"source\" is a %s, not a hex string", ErrJSONInput, v.kind)
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(string(v.s), "0x"), 16, 32)
		if err != nil {
			return pl, fmt.Errorf("%w: source %q: %w", ErrJSONInput, v.s, err)
		}
		pl.Source = uint32(n)
	}
	if pl.Operator, err = r.alias(&root, "operator", r.opTable()); err != nil {
		return pl, err
	}
	if pl.Group, err = r.alias(&root, "group", r.grTable()); err != nil {
		return pl, err
	}
	mv, ok := root.get("message")
	if !ok {
		return pl, fmt.Errorf("%w: no \"message\"", ErrJSONInput)
	}
	if mv.kind != jObj {
		return pl, fmt.Errorf("%w: \"message\" is a %s, not an object", ErrJSONInput, mv.kind)
	}
	if mod == nil {
		if b64, ok := mv.get("b64"); ok && b64.kind == jStr {
			pl.Message, err = base64.StdEncoding.DecodeString(string(b64.s))
			if err != nil {
				return pl, fmt.Errorf("%w: message b64: %w", ErrJSONInput, err)
			}
			pl.HasMessage = true
		}
		return pl, nil
	}
	e := &encMsg{mod: mod, vals: make([][]val, len(mod.Fields))}
	for fi := range mod.Fields {
		f := &mod.Fields[fi]
		if f.Tag == 0 || f.Hidden {
			continue
		}
		fv, ok := mv.get(f.Name)
		if !ok {
			continue
		}
		if fv.kind == jNull {
			// nmsgtool prints an empty (or absent required) bytes or IP
			// field as null: read it back as empty.
			if !f.Repeated && f.parse == nil && (f.Type == ftBytes || f.Type == ftIP) {
				e.vals[fi] = append(e.vals[fi], val{b: []byte{}, null: true})
			}
			continue
		}
		if f.Repeated {
			if fv.kind != jArr {
				return pl, fmt.Errorf("%w: field %s is a %s, not an array", ErrJSONInput, f.Name, fv.kind)
			}
			for i := range fv.arr {
				if fv.arr[i].kind == jNull {
					continue
				}
				v, err := e.convert(f, &fv.arr[i])
				if err != nil {
					return pl, fmt.Errorf("%w: field %s[%d]: %w", ErrJSONInput, f.Name, i, err)
				}
				e.vals[fi] = append(e.vals[fi], v)
			}
			continue
		}
		v, err := e.convert(f, fv)
		if err != nil {
			return pl, fmt.Errorf("%w: field %s: %w", ErrJSONInput, f.Name, err)
		}
		e.vals[fi] = append(e.vals[fi], v)
	}
	if mod.Vid == 1 && mod.Msgtype == 13 {
		nested, ok, err := dnstapNestedFromJSON(mv)
		if err != nil {
			return pl, fmt.Errorf("%w: %w", ErrJSONInput, err)
		}
		if ok {
			e.vals[dtMessage] = []val{{b: nested}}
		}
	}
	pl.Message = e.encode(nil)
	pl.HasMessage = true
	return pl, nil
}

func (r *JSONReader) opTable() *nmsg.AliasTable {
	if r.Aliases == nil {
		return nil
	}
	return r.Aliases.Operator
}

func (r *JSONReader) grTable() *nmsg.AliasTable {
	if r.Aliases == nil {
		return nil
	}
	return r.Aliases.Group
}

func (r *JSONReader) alias(root *jval, key string, t *nmsg.AliasTable) (uint32, error) {
	v, ok := root.get(key)
	if !ok {
		return 0, nil
	}
	switch v.kind {
	case jNum:
		n, err := jsonUint(v, math.MaxUint32)
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %w", ErrJSONInput, key, err)
		}
		return uint32(n), nil
	case jStr:
		if n, ok := t.Lookup(string(v.s)); ok {
			return n, nil
		}
		if n, err := strconv.ParseUint(string(v.s), 0, 32); err == nil {
			return uint32(n), nil
		}
		return 0, fmt.Errorf("%w: %s %q: no such alias", ErrJSONInput, key, v.s)
	}
	return 0, fmt.Errorf("%w: %s is a %s", ErrJSONInput, key, v.kind)
}

// parseJSONTime reads "YYYY-MM-DD HH:MM:SS[.n]" (UTC); as in nmsgtool the
// digits after the dot are a count of nanoseconds (".5" is 5 ns).
func parseJSONTime(s string) (int64, uint32, error) {
	date, frac, hasFrac := strings.Cut(s, ".")
	t, err := time.Parse(time.DateTime, date)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: time %q: %w", ErrJSONInput, s, err)
	}
	var ns uint64
	if hasFrac {
		ns, err = strconv.ParseUint(frac, 10, 32)
		if err != nil || ns >= 1e9 {
			return 0, 0, fmt.Errorf("%w: time %q: bad nanoseconds", ErrJSONInput, s)
		}
	}
	return t.Unix(), uint32(ns), nil
}

// jsonUint reads an unsigned integer given as a number or a string (a
// uint64 above 2^63-1 must be a string for nmsgtool; both work here).
func jsonUint(v *jval, max uint64) (uint64, error) {
	if v.kind != jNum && v.kind != jStr {
		return 0, fmt.Errorf("a %s is not an integer", v.kind)
	}
	if v.kind == jNum && v.float {
		return 0, fmt.Errorf("%s is not an integer", v.s)
	}
	n, err := strconv.ParseUint(string(v.s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer %q: %w", v.s, err)
	}
	if n > max {
		return 0, fmt.Errorf("integer %s out of range", v.s)
	}
	return n, nil
}

// jsonInt reads a signed integer; a value above the int64 range is taken
// as the uint64 two's complement nmsgtool prints negative numbers as.
func jsonInt(v *jval, min, max int64) (int64, error) {
	if v.kind != jNum && v.kind != jStr {
		return 0, fmt.Errorf("a %s is not an integer", v.kind)
	}
	if v.kind == jNum && v.float {
		return 0, fmt.Errorf("%s is not an integer", v.s)
	}
	n, err := strconv.ParseInt(string(v.s), 10, 64)
	if err != nil {
		if u, uerr := strconv.ParseUint(string(v.s), 10, 64); uerr == nil {
			n, err = int64(u), nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("integer %q: %w", v.s, err)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("integer %s out of range", v.s)
	}
	return n, nil
}

// convert is libnmsg's _nmsg_msgmod_json_to_payload_load for one value.
func (e *encMsg) convert(f *Field, v *jval) (val, error) {
	if f.parse != nil {
		if v.kind != jStr {
			return val{}, fmt.Errorf("a %s, not a string", v.kind)
		}
		return f.parse(e, f, string(v.s))
	}
	switch f.Type {
	case ftBool:
		switch v.kind {
		case jBool:
			return boolVal(v.b), nil
		case jNum:
			n, err := jsonInt(v, math.MinInt64, math.MaxInt64)
			return boolVal(n != 0), err
		case jStr:
			switch {
			case strings.EqualFold(string(v.s), "true"):
				return boolVal(true), nil
			case strings.EqualFold(string(v.s), "false"):
				return boolVal(false), nil
			}
			return val{}, fmt.Errorf("%q is not a boolean", v.s)
		}
		return val{}, fmt.Errorf("a %s is not a boolean", v.kind)
	case ftBytes:
		if v.kind == jObj {
			// the encode module prints its payload as {"val":...,"b64":"..."}
			if b, ok := v.get("b64"); ok {
				v = b
			}
		}
		if v.kind != jStr {
			return val{}, fmt.Errorf("a %s, not a base64 string", v.kind)
		}
		b, err := base64.StdEncoding.DecodeString(string(v.s))
		if err != nil {
			return val{}, fmt.Errorf("base64: %w", err)
		}
		return val{b: b, null: len(b) == 0}, nil
	case ftEnum:
		switch v.kind {
		case jStr:
			if n, ok := f.Enum.lookup(string(v.s)); ok {
				return val{u: uint64(n)}, nil
			}
			return val{}, fmt.Errorf("%q is not a value of the enum", v.s)
		case jNum:
			// nmsgtool takes a number only below the enum's value
			// count (so packet's IP = 1 is refused); any value the
			// enum defines is taken here.
			n, err := jsonUint(v, math.MaxUint32)
			if err != nil {
				return val{}, err
			}
			if _, ok := f.Enum.name(uint32(n)); !ok {
				return val{}, fmt.Errorf("%d is not a value of the enum", n)
			}
			return val{u: n}, nil
		}
		return val{}, fmt.Errorf("a %s is not an enum value", v.kind)
	case ftString, ftMlstring:
		if v.kind != jStr {
			return val{}, fmt.Errorf("a %s, not a string", v.kind)
		}
		// nmsgtool stores strlen(s)+1 bytes: the string up to its first
		// NUL, and a NUL.
		s := cutNUL(v.s)
		b := make([]byte, len(s)+1)
		copy(b, s)
		return val{b: b}, nil
	case ftIP:
		if v.kind != jStr {
			return val{}, fmt.Errorf("a %s, not an IP address", v.kind)
		}
		a, err := netip.ParseAddr(string(v.s))
		if err != nil || a.Zone() != "" {
			return val{}, fmt.Errorf("%q is not an IP address", v.s)
		}
		if a.Is4() {
			b := a.As4()
			return val{b: b[:]}, nil
		}
		b := a.As16()
		return val{b: b[:]}, nil
	case ftUint16:
		n, err := jsonUint(v, math.MaxUint16)
		return val{u: n}, err
	case ftUint32:
		n, err := jsonUint(v, math.MaxUint32)
		return val{u: n}, err
	case ftUint64:
		n, err := jsonUint(v, math.MaxUint64)
		return val{u: n}, err
	case ftInt16:
		n, err := jsonInt(v, math.MinInt16, math.MaxInt16)
		return val{u: uint64(n)}, err
	case ftInt32:
		n, err := jsonInt(v, math.MinInt32, math.MaxInt32)
		return val{u: uint64(n)}, err
	case ftInt64:
		n, err := jsonInt(v, math.MinInt64, math.MaxInt64)
		return val{u: uint64(n)}, err
	case ftDouble:
		// nmsgtool rejects an integer literal for a double; it is
		// accepted here.
		if v.kind != jNum {
			return val{}, fmt.Errorf("a %s, not a number", v.kind)
		}
		d, err := strconv.ParseFloat(string(v.s), 64)
		if err != nil {
			return val{}, fmt.Errorf("number %s: %w", v.s, err)
		}
		return val{u: math.Float64bits(d)}, nil
	}
	return val{}, errors.New("unsupported field type")
}

func boolVal(b bool) val {
	if b {
		return val{u: 1}
	}
	return val{}
}

// encode serializes the message as protobuf-c packs it: fields in
// ascending tag order, required fields always (zero values when unset).
func (e *encMsg) encode(dst []byte) []byte {
	order := e.mod.tagOrder()
	for _, fi := range order {
		f := &e.mod.Fields[fi]
		vals := e.vals[fi]
		if len(vals) == 0 {
			if !f.Required {
				continue
			}
			vals = []val{f.zero()}
		}
		if !f.Repeated {
			vals = vals[len(vals)-1:]
		}
		for _, v := range vals {
			dst = appendField(dst, f, v)
		}
	}
	return dst
}

func appendField(dst []byte, f *Field, v val) []byte {
	switch f.PB {
	case pbUvarint, pbVarint:
		dst = protowire.AppendTag(dst, f.Tag, protowire.VarintType)
		if f.PB == pbUvarint && f.Type != ftUint64 {
			return protowire.AppendVarint(dst, uint64(uint32(v.u)))
		}
		return protowire.AppendVarint(dst, v.u)
	case pbFixed32, pbSfixed32:
		dst = protowire.AppendTag(dst, f.Tag, protowire.Fixed32Type)
		return protowire.AppendFixed32(dst, uint32(v.u))
	case pbFixed64:
		dst = protowire.AppendTag(dst, f.Tag, protowire.Fixed64Type)
		return protowire.AppendFixed64(dst, v.u)
	case pbBytes:
		dst = protowire.AppendTag(dst, f.Tag, protowire.BytesType)
		return protowire.AppendBytes(dst, v.b)
	}
	return dst
}

// tagOrder returns the indexes of the module's protobuf fields sorted by
// tag.
func (m *Module) tagOrder() []int {
	var order []int
	for i := range m.Fields {
		if m.Fields[i].Tag != 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return m.Fields[order[a]].Tag < m.Fields[order[b]].Tag })
	return order
}

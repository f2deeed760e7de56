package msgmod

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// ftype is libnmsg's field type (nmsg_msgmod_field_type): it decides how a
// value prints.
type ftype uint8

const (
	ftEnum ftype = iota
	ftBytes
	ftString
	ftMlstring
	ftIP
	ftUint16
	ftUint32
	ftUint64
	ftInt16
	ftInt32
	ftInt64
	ftDouble
	ftBool
)

// pbtype is the protobuf encoding of a field on the wire.
type pbtype uint8

const (
	pbNone     pbtype = iota // virtual field: no protobuf field
	pbUvarint                // uint32, uint64, enum, bool
	pbVarint                 // int32, int64 (two's complement varint)
	pbFixed32                // fixed32
	pbSfixed32               // sfixed32
	pbFixed64                // fixed64, double
	pbBytes                  // bytes, string
)

// Enum is a protobuf enum: names by value, in declaration order.
type Enum struct {
	Names  []string
	Values []uint32
}

// name returns the name of v, if it has one.
func (e *Enum) name(v uint32) (string, bool) {
	for i, x := range e.Values {
		if x == v {
			return e.Names[i], true
		}
	}
	return "", false
}

// lookup returns the value named s (case-insensitive), as libnmsg's JSON
// reader matches enum names.
func (e *Enum) lookup(s string) (uint32, bool) {
	for i, n := range e.Names {
		if strings.EqualFold(n, s) {
			return e.Values[i], true
		}
	}
	return 0, false
}

func enumSeq(names ...string) *Enum {
	e := &Enum{Names: names, Values: make([]uint32, len(names))}
	for i := range names {
		e.Values[i] = uint32(i)
	}
	return e
}

// val is one field value: u holds integers (sign-extended to 64 bits for
// signed types), bools and the bits of doubles; b holds bytes and strings.
type val struct {
	u uint64
	b []byte
	// null marks a bytes value that libnmsg holds as a NULL pointer
	// (absent required field, or empty on the wire).
	null bool
}

// Field is one field of a module in libnmsg's order.
type Field struct {
	Name string
	Tag  protowire.Number // 0 for a virtual field
	Type ftype
	PB   pbtype

	Repeated  bool
	Required  bool
	NoPrint   bool // not printed in presentation form
	FormatRaw bool // the formatter's output is JSON, written as is
	// Hidden: decoded for getters but not one of libnmsg's fields, so
	// never printed nor read from JSON.
	Hidden bool
	// kind names the formatter of the DNS fields the printers handle
	// without calling print or format (fkOther: call them).
	kind fkind
	// wt is the wire type of PB; jsonKey is `,"name":` (set by register;
	// the first field printed leaves out the comma). These come first,
	// with the flags, as the printers read them for every field.
	wt      protowire.Type
	jsonKey string
	// keyWord holds jsonKey when it fits, for a fixed-size copy; presKey
	// is "name: " and presWord holds it.
	keyWord  keyWord
	presKey  string
	presWord keyWord
	Enum     *Enum

	// print writes the whole presentation line(s) of one value.
	print func(m *msg, f *Field, v val, dst []byte) []byte
	// format writes the text of one value (presentation and JSON); ok
	// false is libnmsg's formatter failure.
	format func(m *msg, f *Field, v val, dst []byte) ([]byte, bool)
	// get returns computed value number i. Presentation uses it for every
	// field that has it; JSON only for virtual fields.
	get func(m *msg, i int) (val, bool)
	// parse converts a JSON input string (fields with a libnmsg parser).
	parse func(m *encMsg, f *Field, s string) (val, error)
}

// fkind names a field formatter the printers inline on their hot path;
// print and format stay set and are what it does.
type fkind uint8

const (
	fkOther     fkind = iota
	fkTime            // timeFormat
	fkName            // namePrint, nameFormat
	fkType            // typePrint, typeFormat
	fkSIEClass        // sieClassPrint, sieClassFormat
	fkBaseClass       // baseClassPrint, baseClassFormat
	fkRdata           // rdataPrint, rdataFormat
)

// Module is the message module of one (vendor id, message type).
type Module struct {
	Vid, Msgtype uint32
	VName, MName string
	Fields       []Field
	// byTag maps a protobuf tag to its field index + 1.
	byTag map[protowire.Number]int
	// fixedTag maps small tags (< 64) to field index + 1, and dec holds
	// how decode reads them, for the hot path.
	fixedTag [64]int8
	dec      [64]decSlot
	// rrtypeFi and rrclassFi index the fields rdata formatters read
	// (-1 if the module has none).
	rrtypeFi, rrclassFi int
	// jsonNames is `","vname":"V","mname":"M"` and presNames
	// `vid:type V M`, the fixed parts of the header lines.
	jsonNames, presNames string
}

func (m *Module) fieldByTag(t protowire.Number) int {
	if t > 0 && t < 64 {
		return int(m.fixedTag[t]) - 1
	}
	if i, ok := m.byTag[t]; ok {
		return i - 1
	}
	return -1
}

// FieldNames returns the names of the module's fields in libnmsg's order.
func (m *Module) FieldNames() []string {
	s := make([]string, len(m.Fields))
	for i := range m.Fields {
		s[i] = m.Fields[i].Name
	}
	return s
}

var (
	modules = map[uint64]*Module{}
	// moduleTable holds the modules of small vendor ids and message types
	// (all of them), so that the printers find one without hashing.
	moduleTable [8][32]*Module
	vendors     = map[uint32]string{
		1: "base", 2: "SIE", 3: "GTISC", 4: "Defintel", 5: "Univie",
		6: "Unveillance", 7: "WISC",
	}
)

func register(m *Module) {
	if len(m.Fields) > maxFields {
		panic(fmt.Sprintf("msgmod: module %s has %d fields, more than %d", m.MName, len(m.Fields), maxFields))
	}
	m.byTag = map[protowire.Number]int{}
	m.rrtypeFi, m.rrclassFi = -1, -1
	for i := range m.Fields {
		switch m.Fields[i].Name {
		case "rrtype":
			m.rrtypeFi = i
		case "rrclass":
			m.rrclassFi = i
		}
	}
	for i := range m.Fields {
		f := &m.Fields[i]
		f.wt = wireTypeOf(f.PB)
		f.jsonKey = `,"` + f.Name + `":`
		f.keyWord = makeKeyWord(f.jsonKey)
		f.presKey = f.Name + ": "
		f.presWord = makeKeyWord(f.presKey)
		t := f.Tag
		if t == 0 {
			continue
		}
		m.byTag[t] = i + 1
		if t < 64 {
			m.fixedTag[t] = int8(i + 1)
			m.dec[t] = decSlotFor(i, f)
		}
	}
	vname := VendorName(m.Vid)
	if vname == "" {
		vname = "(unknown)"
	}
	j := append([]byte(`","vname":`), appendJSONString(nil, []byte(vname))...)
	j = append(j, `,"mname":`...)
	m.jsonNames = string(appendJSONString(j, []byte(m.MName)))
	pn := strconv.AppendInt(nil, int64(int32(m.Vid)), 10)
	pn = append(pn, ':')
	pn = strconv.AppendInt(pn, int64(int32(m.Msgtype)), 10)
	pn = append(pn, ' ')
	if vn := VendorName(m.Vid); vn != "" {
		pn = append(pn, vn...)
	} else {
		pn = append(pn, "(null)"...)
	}
	m.presNames = string(append(append(pn, ' '), m.MName...))
	modules[uint64(m.Vid)<<32|uint64(m.Msgtype)] = m
	if m.Vid < uint32(len(moduleTable)) && m.Msgtype < uint32(len(moduleTable[0])) {
		moduleTable[m.Vid][m.Msgtype] = m
	}
}

// Lookup returns the module of (vid, msgtype), or nil if none is known.
func Lookup(vid, msgtype uint32) *Module {
	if vid < uint32(len(moduleTable)) && msgtype < uint32(len(moduleTable[0])) {
		return moduleTable[vid][msgtype]
	}
	return modules[uint64(vid)<<32|uint64(msgtype)]
}

// Modules returns every known module, ordered by vendor id and message
// type.
func Modules() []*Module {
	out := make([]*Module, 0, len(modules))
	for _, m := range modules {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Vid != out[j].Vid {
			return out[i].Vid < out[j].Vid
		}
		return out[i].Msgtype < out[j].Msgtype
	})
	return out
}

// VendorName returns the vendor's name ("base", "SIE", ...) or "" if the
// vendor id is unknown.
func VendorName(vid uint32) string { return vendors[vid] }

// VendorID returns the id of a vendor name (case-insensitive; "ISC" is an
// alias of base) or of a decimal number.
func VendorID(name string) (uint32, bool) {
	if strings.EqualFold(name, "ISC") {
		return 1, true
	}
	for id, n := range vendors {
		if strings.EqualFold(n, name) {
			return id, true
		}
	}
	if n, err := strconv.ParseUint(name, 0, 32); err == nil {
		return uint32(n), true
	}
	return 0, false
}

// LookupName returns the module of a vendor and message type given by name
// (case-insensitive) or number, as nmsgtool's -V/-T options take them.
func LookupName(vname, mname string) (*Module, error) {
	vid, ok := VendorID(vname)
	if !ok {
		return nil, fmt.Errorf("look up vendor %q: unknown vendor", vname)
	}
	if n, err := strconv.ParseUint(mname, 0, 32); err == nil {
		if m := Lookup(vid, uint32(n)); m != nil {
			return m, nil
		}
		return nil, fmt.Errorf("look up message type %s/%s: unknown message type", vname, mname)
	}
	for _, m := range modules {
		if m.Vid == vid && strings.EqualFold(m.MName, mname) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("look up message type %s/%s: unknown message type", vname, mname)
}

func numT(t int32) protowire.Number { return protowire.Number(t) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

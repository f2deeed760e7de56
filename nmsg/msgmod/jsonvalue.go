package msgmod

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// A small JSON parser for nmsgtool's JSON input. encoding/json would
// replace invalid UTF-8 in strings by U+FFFD, but nmsgtool stores the raw
// bytes of its input, so this one keeps them.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

type jval struct {
	kind jkind
	s    []byte // string contents, or the literal of a number
	b    bool
	arr  []jval
	keys []string
	vals []jval
	// float: the number literal has a fraction or an exponent.
	float bool
}

func (v *jval) get(key string) (*jval, bool) {
	for i, k := range v.keys {
		if k == key {
			return &v.vals[i], true
		}
	}
	return nil, false
}

func (k jkind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

type jparser struct {
	b     []byte
	i     int
	depth int
}

var errJSONSyntax = errors.New("JSON syntax error")

func parseJSON(b []byte) (jval, error) {
	p := jparser{b: b}
	v, err := p.value()
	if err != nil {
		return v, err
	}
	p.ws()
	if p.i != len(p.b) {
		return v, fmt.Errorf("%w at offset %d: trailing data", errJSONSyntax, p.i)
	}
	return v, nil
}

func (p *jparser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errJSONSyntax, p.i, what)
}

func (p *jparser) value() (jval, error) {
	p.ws()
	if p.i >= len(p.b) {
		return jval{}, p.fail("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, err := p.str()
		return jval{kind: jStr, s: s}, err
	case c == 't':
		return p.lit("true", jval{kind: jBool, b: true})
	case c == 'f':
		return p.lit("false", jval{kind: jBool})
	case c == 'n':
		return p.lit("null", jval{kind: jNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.num()
	}
	return jval{}, p.fail("unexpected character")
}

func (p *jparser) lit(s string, v jval) (jval, error) {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return jval{}, p.fail("bad literal")
	}
	p.i += len(s)
	return v, nil
}

func (p *jparser) num() (jval, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return jval{}, p.fail("bad number")
	}
	v := jval{kind: jNum}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		v.float = true
		if digits() == 0 {
			return jval{}, p.fail("bad number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		v.float = true
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return jval{}, p.fail("bad number")
		}
	}
	v.s = p.b[start:p.i]
	return v, nil
}

func (p *jparser) str() ([]byte, error) {
	p.i++ // opening quote
	var out []byte
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			if out == nil {
				out = p.b[start:p.i:p.i]
			} else {
				out = append(out, p.b[start:p.i]...)
			}
			p.i++
			if out == nil {
				out = []byte{}
			}
			return out, nil
		case c == '\\':
			out = append(out, p.b[start:p.i]...)
			if out == nil {
				out = []byte{}
			}
			p.i++
			if p.i >= len(p.b) {
				return nil, p.fail("unterminated escape")
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return nil, p.fail("bad \\u escape")
				}
				if r >= 0xd800 && r < 0xdc00 && p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if r2, ok := p.hex4(); ok && r2 >= 0xdc00 && r2 < 0xe000 {
						r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					} else {
						p.i = save
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return nil, p.fail("bad escape")
			}
			start = p.i
		case c < 0x20:
			return nil, p.fail("control character in string")
		default:
			p.i++
		}
	}
	return nil, p.fail("unterminated string")
}

func (p *jparser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *jparser) array() (jval, error) {
	if p.depth++; p.depth > 64 {
		return jval{}, p.fail("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.i++
	v := jval{kind: jArr}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		e, err := p.value()
		if err != nil {
			return v, err
		}
		v.arr = append(v.arr, e)
		p.ws()
		if p.i >= len(p.b) {
			return v, p.fail("unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return v, nil
		default:
			return v, p.fail("expected , or ]")
		}
	}
}

func (p *jparser) object() (jval, error) {
	if p.depth++; p.depth > 64 {
		return jval{}, p.fail("nested too deeply")
	}
	defer func() { p.depth-- }()
	p.i++
	v := jval{kind: jObj}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return v, p.fail("expected key")
		}
		k, err := p.str()
		if err != nil {
			return v, err
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return v, p.fail("expected :")
		}
		p.i++
		e, err := p.value()
		if err != nil {
			return v, err
		}
		v.keys = append(v.keys, string(k))
		v.vals = append(v.vals, e)
		p.ws()
		if p.i >= len(p.b) {
			return v, p.fail("unterminated object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return v, nil
		default:
			return v, p.fail("expected , or }")
		}
	}
}

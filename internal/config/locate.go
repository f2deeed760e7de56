package config

import (
	"strconv"
	"strings"
)

// locate maps the key paths written in a TOML text to the line (1-based)
// where each is first written. Elements of arrays of tables are indexed:
// "channel[1].rules.types". It understands what configuration files use:
// [table] and [[array]] headers, bare, quoted and dotted keys, and inline
// tables on one line; values spanning lines (arrays, multi-line strings)
// are skipped over. It never fails: a key it cannot place has no line.
func locate(src string) map[string]int {
	lines := map[string]int{}
	count := map[string]int{} // array-of-tables path -> elements so far
	prefix := ""
	inString := "" // the delimiter of an open multi-line string
	depth := 0     // open brackets of a multi-line array
	for i, raw := range strings.Split(src, "\n") {
		n := i + 1
		s := raw
		if inString != "" {
			if strings.Contains(s, inString) {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDepth(s)
			continue
		}
		s = strings.TrimSpace(stripComment(s))
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "[[") {
			parts := splitKey(strings.TrimSuffix(strings.TrimPrefix(s, "[["), "]]"))
			base := indexPath(parts, count)
			count[base]++
			prefix = base + "[" + strconv.Itoa(count[base]-1) + "]"
			setLine(lines, prefix, n)
			continue
		}
		if strings.HasPrefix(s, "[") {
			parts := splitKey(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
			prefix = indexPath(parts, count)
			setLine(lines, prefix, n)
			continue
		}
		key, val, ok := cutAssign(s)
		if !ok {
			continue
		}
		path := join(prefix, strings.Join(splitKey(key), "."))
		setLine(lines, path, n)
		val = strings.TrimSpace(val)
		switch {
		case strings.HasPrefix(val, `"""`) && strings.Count(val, `"""`) == 1:
			inString = `"""`
		case strings.HasPrefix(val, "'''") && strings.Count(val, "'''") == 1:
			inString = "'''"
		case strings.HasPrefix(val, "["):
			depth = bracketDepth(val)
		case strings.HasPrefix(val, "{"):
			inline(lines, path, val, n)
		}
	}
	return lines
}

// inline records the keys of a one-line inline table.
func inline(lines map[string]int, path, val string, n int) {
	val = strings.TrimSuffix(strings.TrimPrefix(val, "{"), "}")
	for _, part := range splitTop(val) {
		if k, _, ok := cutAssign(strings.TrimSpace(part)); ok {
			setLine(lines, join(path, strings.Join(splitKey(k), ".")), n)
		}
	}
}

// splitTop splits s at commas outside brackets and strings.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func setLine(lines map[string]int, path string, n int) {
	if _, ok := lines[path]; !ok {
		lines[path] = n
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// indexPath joins header parts, indexing the ones that name arrays of
// tables with their current element.
func indexPath(parts []string, count map[string]int) string {
	path := ""
	for i, p := range parts {
		path = join(path, p)
		// The last part of a [[...]] header is counted by the caller.
		if c := count[path]; c > 0 && i < len(parts)-1 {
			path += "[" + strconv.Itoa(c-1) + "]"
		}
	}
	return path
}

// cutAssign splits "key = value" at the first '=' outside quotes.
func cutAssign(s string) (key, val string, ok bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return strings.TrimSpace(s[:i]), s[i+1:], true
		}
	}
	return "", "", false
}

// splitKey splits a dotted key, unquoting its parts.
func splitKey(k string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, strings.TrimSpace(cur.String()))
}

// stripComment removes a '#' comment outside strings.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

// bracketDepth is the change in '[' nesting over s, outside strings and
// comments.
func bracketDepth(s string) int {
	s = stripComment(s)
	d := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			d++
		case c == ']':
			d--
		}
	}
	return d
}

// lineOf returns the line of key, or of its nearest written parent, or 0.
func lineOf(lines map[string]int, key string) int {
	for key != "" {
		if n, ok := lines[key]; ok {
			return n
		}
		i := strings.LastIndexAny(key, ".[")
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

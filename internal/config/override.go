package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts the name of every environment variable Load reads.
const EnvPrefix = "SIECAP_"

// fileOnly are keys that only the file sets: the alias files are read
// while the file is decoded, and libnmsg's own NMSG_* variables already
// name them.
var fileOnly = []string{"chalias_file", "opalias_file", "gralias_file"}

// Keys returns the key paths that environment variables and flags can
// set, in the order of the Config's fields.
func Keys() []string {
	var keys []string
	walkScalars(reflect.ValueOf(&Config{}).Elem(), "", func(path string, _ reflect.Value) {
		keys = append(keys, path)
	})
	return keys
}

// EnvName returns the environment variable of a key path:
// "spool.dir" → "SIECAP_SPOOL_DIR".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// knownKeys returns every key path of the file outside [[channel]]:
// tables and their keys.
func knownKeys() map[string]bool {
	known := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		known[tag] = true
		if f := t.Field(i).Type; f.Kind() == reflect.Struct && !reflect.PointerTo(f).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
			for j := range f.NumField() {
				if sub := f.Field(j).Tag.Get("toml"); sub != "" && sub != "-" {
					known[tag+"."+sub] = true
				}
			}
		}
	}
	return known
}

// walkScalars calls fn for every settable scalar field of v (a Config)
// and of its tables, with its key path.
func walkScalars(v reflect.Value, prefix string, fn func(path string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		path := join(prefix, tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && !isText(f) {
			walkScalars(f, path, fn)
			continue
		}
		if !slices.Contains(fileOnly, path) {
			fn(path, f)
		}
	}
}

func isText(f reflect.Value) bool {
	_, ok := f.Addr().Interface().(encoding.TextUnmarshaler)
	return ok
}

// override applies the environment, then the flags.
func (p *parser) override(c *Config, env []string, flags map[string]string) {
	fields := map[string]reflect.Value{}
	walkScalars(reflect.ValueOf(c).Elem(), "", func(path string, f reflect.Value) { fields[path] = f })
	byEnv := map[string]string{}
	for path := range fields {
		byEnv[EnvName(path)] = path
	}
	for _, kv := range env {
		name, val, _ := strings.Cut(kv, "=")
		path, ok := byEnv[name]
		if !ok {
			continue // not a configuration variable (SIECAP_ADDR is the CLI's)
		}
		p.origin[path] = [2]string{"environment", name}
		if err := setText(fields[path], val); err != nil {
			p.errs = append(p.errs, &Error{File: "environment", Key: name, Err: err})
		}
	}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f, ok := fields[k]
		if !ok {
			p.errs = append(p.errs, &Error{File: "flags", Key: k, Err: fmt.Errorf("unknown key")})
			continue
		}
		p.origin[k] = [2]string{"flags", k}
		if err := setText(f, flags[k]); err != nil {
			p.errs = append(p.errs, &Error{File: "flags", Key: k, Err: err})
		}
	}
}

// setText parses s into the field f.
func setText(f reflect.Value, s string) error {
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(s))
	}
	if f.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("parse duration %q: %w", s, err)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("parse boolean %q: want true or false", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("parse integer %q: %w", s, err)
		}
		f.SetInt(n)
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("parse integer %q: %w", s, err)
		}
		f.SetUint(n)
	case reflect.Slice:
		var list []string
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		f.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("cannot set a %s", f.Type())
	}
	return nil
}

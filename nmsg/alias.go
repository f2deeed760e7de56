package nmsg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Default locations of nmsgtool's alias files and the environment variables
// that override them (libnmsg nmsg/alias.c, nmsg/chalias.c).
const (
	DefaultOpaliasFile  = "/etc/nmsg.opalias"
	DefaultGraliasFile  = "/etc/nmsg.gralias"
	EnvOpaliasFile      = "NMSG_OPALIAS_FILE"
	EnvGraliasFile      = "NMSG_GRALIAS_FILE"
	EnvChaliasFile      = "NMSG_CHALIAS_FILE"
	DefaultChaliasFile  = "/etc/nmsg.chalias"
	DefaultChaliasFile2 = "/etc/nmsgtool.chalias"
)

// AliasTable maps 32-bit operator or group numbers to names and back. Name
// lookups are case-insensitive, as in libnmsg.
type AliasTable struct {
	byNum  map[uint32]string
	byName map[string]uint32
}

// Name returns the name of n, if it has one.
func (t *AliasTable) Name(n uint32) (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.byNum[n]
	return s, ok
}

// Lookup returns the number named name (case-insensitive), if any.
func (t *AliasTable) Lookup(name string) (uint32, bool) {
	if t == nil {
		return 0, false
	}
	n, ok := t.byName[strings.ToLower(name)]
	return n, ok
}

// Len returns the number of aliases in t.
func (t *AliasTable) Len() int {
	if t == nil {
		return 0
	}
	return len(t.byNum)
}

// ParseAliases reads an alias file in libnmsg's format: one "number name"
// pair per line, whitespace separated, the number in C's base
// auto-detection (0x… hex, leading 0 octal). Unlike libnmsg, blank lines and
// lines starting with '#' are skipped instead of ending the file; any other
// malformed line is an error naming the line.
func ParseAliases(r io.Reader) (*AliasTable, error) {
	t := &AliasTable{byNum: map[uint32]string{}, byName: map[string]uint32{}}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 2 {
			return nil, fmt.Errorf("parse alias line %d: want \"number name\", got %q", line, s)
		}
		n, err := strconv.ParseUint(f[0], 0, 32)
		if err != nil {
			return nil, fmt.Errorf("parse alias line %d: %w", line, err)
		}
		t.byNum[uint32(n)] = f[1]
		t.byName[strings.ToLower(f[1])] = uint32(n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read alias file: %w", err)
	}
	return t, nil
}

// Aliases holds the operator and group alias tables.
type Aliases struct {
	Operator *AliasTable
	Group    *AliasTable
}

// LoadAliases reads the operator and group alias files from the paths named
// by NMSG_OPALIAS_FILE and NMSG_GRALIAS_FILE, or from /etc. A missing file
// gives an empty table; an unreadable or malformed one is an error (libnmsg
// would silently stop loading).
func LoadAliases() (*Aliases, error) {
	op, err := loadAliasFile(envOr(EnvOpaliasFile, DefaultOpaliasFile))
	if err != nil {
		return nil, err
	}
	gr, err := loadAliasFile(envOr(EnvGraliasFile, DefaultGraliasFile))
	if err != nil {
		return nil, err
	}
	return &Aliases{Operator: op, Group: gr}, nil
}

func loadAliasFile(path string) (*AliasTable, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &AliasTable{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open alias file: %w", err)
	}
	defer f.Close()
	t, err := ParseAliases(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

package nmsg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// MaxPortRange is the largest port range one channel alias spec may name
// (nmsgtool's limit for -l addr/port0..portN).
const MaxPortRange = 20

// Channels maps nmsgtool channel aliases ("ch204") to the UDP endpoints
// their NMSG is broadcast to.
type Channels map[string][]netip.AddrPort

// ParseChannels reads a channel alias file in nmsgtool's format: a channel
// name, then one or more addr/port or addr/port0..portN specs; lines naming
// the same channel are merged. Blank lines and '#' comments are skipped;
// a malformed line is an error naming the line.
func ParseChannels(r io.Reader) (Channels, error) {
	ch := Channels{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) < 2 {
			return nil, fmt.Errorf("parse channel alias line %d: want a name and addr/port specs, got %q", line, s)
		}
		for _, spec := range f[1:] {
			eps, err := ParseEndpoints(spec)
			if err != nil {
				return nil, fmt.Errorf("parse channel alias line %d: %w", line, err)
			}
			ch[f[0]] = append(ch[f[0]], eps...)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read channel alias file: %w", err)
	}
	return ch, nil
}

// ParseEndpoints parses "addr/port" or "addr/port0..portN".
func ParseEndpoints(spec string) ([]netip.AddrPort, error) {
	a, ports, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, fmt.Errorf("parse endpoint %q: want addr/port", spec)
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return nil, fmt.Errorf("parse endpoint %q: %w", spec, err)
	}
	lo, hi, isRange := strings.Cut(ports, "..")
	p0, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("parse endpoint %q: port: %w", spec, err)
	}
	p1 := p0
	if isRange {
		if p1, err = strconv.ParseUint(hi, 10, 16); err != nil {
			return nil, fmt.Errorf("parse endpoint %q: port: %w", spec, err)
		}
		if p1 < p0 || p1-p0 > MaxPortRange {
			return nil, fmt.Errorf("parse endpoint %q: port range must be ascending and span at most %d", spec, MaxPortRange)
		}
	}
	out := make([]netip.AddrPort, 0, p1-p0+1)
	for p := p0; p <= p1; p++ {
		out = append(out, netip.AddrPortFrom(addr, uint16(p)))
	}
	return out, nil
}

// LoadChannels reads the channel alias file libnmsg would read:
// NMSG_CHALIAS_FILE, else /etc/nmsg.chalias, else /etc/nmsgtool.chalias.
// No file gives an empty map.
func LoadChannels() (Channels, error) {
	paths := []string{DefaultChaliasFile, DefaultChaliasFile2}
	if env := os.Getenv(EnvChaliasFile); env != "" {
		paths = []string{env}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open channel alias file: %w", err)
		}
		defer f.Close()
		ch, err := ParseChannels(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return ch, nil
	}
	return Channels{}, nil
}

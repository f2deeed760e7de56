package capture_test

import (
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/capture"
)

func TestConfigNormalize(t *testing.T) {
	def, err := capture.Config{Interface: "eth0"}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if def.Sockets != 2 || def.RingBytes() != 16<<20 || def.Fanout != capture.FanoutHashDefrag ||
		def.BlockTimeout != capture.DefaultBlockTimeout || def.PollTimeout != capture.DefaultPollTimeout ||
		def.StatsInterval != capture.DefaultStatsInterval {
		t.Fatalf("defaults = %+v", def)
	}
	for _, c := range []struct {
		name string
		cfg  capture.Config
		err  string // substring; empty means valid
	}{
		{"no interface", capture.Config{}, "no interface"},
		{"explicit", capture.Config{Interface: "eth0", Sockets: 4, BlockSize: 1 << 20, NumBlocks: 32, Fanout: capture.FanoutLoadBalance}, ""},
		{"too many sockets", capture.Config{Interface: "eth0", Sockets: capture.MaxSockets + 1}, "sockets"},
		{"negative sockets", capture.Config{Interface: "eth0", Sockets: -1}, "sockets"},
		{"block not power of two", capture.Config{Interface: "eth0", BlockSize: 3 << 20}, "block size"},
		{"block too small", capture.Config{Interface: "eth0", BlockSize: 64 << 10}, "block size"},
		{"negative blocks", capture.Config{Interface: "eth0", NumBlocks: -2}, "number of blocks"},
		{"ring too large", capture.Config{Interface: "eth0", BlockSize: 1 << 30, NumBlocks: 8}, "exceeds"},
		{"block timeout", capture.Config{Interface: "eth0", BlockTimeout: time.Microsecond}, "block timeout"},
		{"poll timeout", capture.Config{Interface: "eth0", PollTimeout: -time.Second}, "poll timeout"},
		{"stats interval", capture.Config{Interface: "eth0", StatsInterval: -time.Second}, "stats interval"},
		{"fanout", capture.Config{Interface: "eth0", Fanout: 7}, "fanout"},
	} {
		_, err := c.cfg.Normalize()
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.err)
		}
	}
}

func TestCounter(t *testing.T) {
	var c capture.Counter
	data := make([]byte, 100)
	c.HandlePacket(&capture.Packet{Data: data, Length: 100})
	c.HandlePacket(&capture.Packet{Data: data[:60], Length: 9000, VLAN: 7, HasVLAN: true})
	c.HandlePacket(&capture.Packet{Data: data, Length: 100, VLAN: 4094, HasVLAN: true})
	st := c.Stats()
	if st != (capture.CounterStats{Packets: 3, Bytes: 260, WireBytes: 9200, Truncated: 1, Tagged: 2}) {
		t.Fatalf("stats = %+v", st)
	}
	if c.VLAN(7) != 1 || c.VLAN(4094) != 1 || c.VLAN(0) != 0 {
		t.Fatalf("per-VLAN counts wrong: 7=%d 4094=%d 0=%d", c.VLAN(7), c.VLAN(4094), c.VLAN(0))
	}
}

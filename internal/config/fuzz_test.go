package config

import (
	"reflect"
	"testing"
)

// FuzzParse feeds configuration text to Parse: never a panic, and a
// configuration it accepts prints as text that reads back to itself.
func FuzzParse(f *testing.F) {
	f.Add([]byte(demoTOML))
	f.Add([]byte("interfaces = [\"eth1\"]\n[[channel]]\nnumber = 204\nrules = { action = \"deny\", types = [\"SIE:newdomain\"] }\n"))
	f.Add([]byte("interfaces = [\"eth1\"]\n[[channel]]\nnumber = 0\nvlan = 0\naddresses = [\"10.0.0.1/8430..8437\"]\n[channel.rules]\naction = \"allow\"\ntypes = [\"base\"]\n"))
	f.Add([]byte("a.\"b.c\" = '''\nx\n'''\n[[t.u]]\n[t.u.v]\nw = { x = [1, [2]] }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		locate(string(src))
		c, err := Parse("fuzz.toml", src, nil, nil)
		if err != nil {
			return
		}
		for i := range c.Channels {
			c.Channels[i].Alias = ""
		}
		c2, err := Parse("shown.toml", c.TOML(), nil, nil)
		if err != nil {
			t.Fatalf("printed configuration does not parse: %v\n%s", err, c.TOML())
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("printed configuration reads back differently:\n%+v\n%+v", c, c2)
		}
	})
}

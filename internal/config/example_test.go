package config_test

import (
	"fmt"

	"github.com/siecap/siecap/internal/config"
)

func ExampleParse() {
	src := []byte(`interfaces = ["eth1"]

[spool]
dir = "/srv/siecap/spool"

[[channel]]
number = 204
rules = { action = "deny", types = ["SIE:newdomain"] }

[[channel]]
number = 0
vlan = 0
addresses = ["10.32.0.255/8430..8431"]
`)
	env := []string{"SIECAP_SPOOL_DIR=/var/lib/siecap/spool"}
	flags := map[string]string{"capture.sockets": "4"}
	c, err := config.Parse("siecap.toml", src, env, flags)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Spool.Dir, c.Capture.Sockets)
	for _, ch := range c.Channels {
		fmt.Println(ch.Number, ch.VLAN, ch.Addresses, ch.Rules.Action, ch.Rules.Types)
	}

	_, err = config.Parse("siecap.toml", []byte("interfaces = [\"eth1\"]\n[[channel]]\nnumber = 4096\n"), nil, nil)
	fmt.Println(err)
	// Output:
	// /var/lib/siecap/spool 4
	// 0 0 [10.32.0.255:8430 10.32.0.255:8431] pass []
	// 204 204 [] deny [SIE:newdomain]
	// siecap.toml:3: channel[0].number: 4096 outside 0..4095
}

package kerneltests

import "github.com/siecap/siecap/lab/synth"

func mustMixK(s string) synth.Mix {
	m, err := synth.ParseMix(s)
	if err != nil {
		panic(err)
	}
	return m
}

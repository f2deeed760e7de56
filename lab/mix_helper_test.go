package lab_test

import "github.com/siecap/siecap/lab/synth"

func mustMix(s string) synth.Mix {
	m, err := synth.ParseMix(s)
	if err != nil {
		panic(err)
	}
	return m
}

package main

import (
	"bytes"
	"io"

	"github.com/siecap/siecap/lab/synth"
	"github.com/siecap/siecap/nmsg"
)

// sampleName stands for the bundled sample among dump's inputs.
const sampleName = "<sample>"

// sampleStart is the payload time of the sample's first payload.
const sampleStart = 1764115200 // 2025-11-26 00:00:00 UTC

// sampleReader returns the bundled sample: a dozen SIE/dnsdedupe payloads
// made from a fixed seed, in one NMSG container with payload CRCs.
func sampleReader() io.Reader {
	var out bytes.Buffer
	w := nmsg.NewWriter(&out, nmsg.WriterOptions{})
	g := synth.NewDedupe(204, sampleStart)
	g.Rate = 4
	var p nmsg.Payload
	var buf []byte
	for range 12 {
		buf = g.Next(&p, buf[:0])
		_ = w.Write(&p) // writing to a bytes.Buffer cannot fail
	}
	_ = w.Flush()
	return &out
}

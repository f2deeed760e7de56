package spool_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/siecap/siecap/spool"
)

// A pipeline shard appends compressed records and counts them as stored
// once durable; an exporter iterates them back by time range.
func Example() {
	dir, err := os.MkdirTemp("", "spool-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := spool.Open(dir, spool.Options{Node: 1})
	if err != nil {
		log.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var last spool.Ticket
	for i := 0; i < 3; i++ {
		containers := []byte(fmt.Sprintf("NMSG containers of batch %d", i))
		last, err = s.Append(204, spool.Record{
			First:    t0.Add(time.Duration(i) * time.Minute),
			Last:     t0.Add(time.Duration(i)*time.Minute + 59*time.Second),
			Payloads: 10,
			Data:     enc.EncodeAll(containers, nil),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	// stored = durable: wait for the last ticket (or poll DurableLSN)
	if err := s.WaitDurable(context.Background(), last); err != nil {
		log.Fatal(err)
	}

	dec, _ := spool.NewDecoder(0)
	it := s.Records(204, t0.Add(time.Minute), t0.Add(3*time.Minute))
	for it.Next() {
		b, err := dec.Decode(it.Record())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", it.Record().First.Format(time.TimeOnly), b)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
	it.Close()
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	r, err := spool.OpenReader(dir) // offline: `spool ls`
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	segs, _ := r.Segments()
	for _, g := range segs {
		fmt.Println(g.ID, g.State, g.Records, "records")
	}
	// Output:
	// 12:01:00: NMSG containers of batch 1
	// 12:02:00: NMSG containers of batch 2
	// 00000001-000000cc-0000000000000001 sealed 3 records
}

package kerneltests

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/siecap/siecap/bpf"
)

// TestHotUpdateIsAtomic classifies one frame continuously while the rule
// set flips between two sets that place it on different keys: X has its
// VLAN on channel 10 (drop all), Y has no VLAN key but its address on
// channel 11 (pass all). A frame that saw half of each (both keys gone, or
// neither swapped) would land on no channel. Every run must land on 10 or
// 11, the counters must account for every run, and the verdict each run
// returned must match the counters.
func TestHotUpdateIsAtomic(t *testing.T) {
	forEachBuild(t, func(t *testing.T, b bpf.Build) {
		dst := netip.MustParseAddrPort("198.18.5.255:8430")
		x := bpf.Config{Channels: []bpf.Channel{{ID: 10, VLANs: []uint16{100}, Rule: bpf.Rule{Action: bpf.DropAll}}}}
		y := bpf.Config{Channels: []bpf.Channel{{ID: 11, Addrs: []netip.AddrPort{dst}, Rule: bpf.Rule{Action: bpf.PassAll}}}}
		h := newHarness(t, b, x)
		rsX, err := bpf.Compile(x)
		if err != nil {
			t.Fatal(err)
		}
		rsY, err := bpf.Compile(y)
		if err != nil {
			t.Fatal(err)
		}
		frame := frameSpec{tags: vlan(100), dst: dst, payload: container(0, false, false, payload{vid: 2, msgtype: 1})}.build()
		before, err := h.f.Counters()
		if err != nil {
			t.Fatal(err)
		}
		const flips = 150
		var (
			stop        atomic.Bool
			runs, drops [2]int
			wg          sync.WaitGroup
			runErr      [2]error
		)
		for w := range 2 { // two runners: both CPUs
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					for _, p := range []struct {
						run func() (bool, error)
					}{
						{func() (bool, error) { return run(h.f.XDPProgram(), true, frame) }},
						{func() (bool, error) { return run(h.f.SocketProgram(), false, frame) }},
					} {
						d, err := p.run()
						if err != nil {
							runErr[w] = err
							return
						}
						runs[w]++
						if d {
							drops[w]++
						}
					}
				}
			}()
		}
		for i := range flips {
			rs := rsY
			if i%2 == 1 {
				rs = rsX
			}
			if err := h.f.Update(rs); err != nil {
				stop.Store(true)
				wg.Wait()
				t.Fatal(err)
			}
		}
		stop.Store(true)
		wg.Wait()
		for _, err := range runErr {
			if err != nil {
				t.Fatal(err)
			}
		}
		after, err := h.f.Counters()
		if err != nil {
			t.Fatal(err)
		}
		total, dropped := runs[0]+runs[1], drops[0]+drops[1]
		delta := func(id uint32, r bpf.Reason) uint64 { return after[id][r].Packets - before[id][r].Packets }
		var all uint64
		for id := range after {
			for r := range bpf.NumReasons {
				all += delta(id, bpf.Reason(r))
			}
		}
		t.Logf("%d runs over %d updates: %d dropped on channel 10, %d passed on channel 11", total, flips, dropped, total-dropped)
		if all != uint64(total) {
			t.Errorf("counters hold %d packets, %d runs", all, total)
		}
		if got := delta(10, bpf.ReasonDrop); got != uint64(dropped) {
			t.Errorf("channel 10 drop counter %d, %d runs dropped", got, dropped)
		}
		if got := delta(11, bpf.ReasonPass); got != uint64(total-dropped) {
			t.Errorf("channel 11 pass counter %d, %d runs passed", got, total-dropped)
		}
		if dropped == 0 || dropped == total {
			t.Errorf("the runs saw only one rule set (%d of %d dropped): no overlap with updates", dropped, total)
		}
	})
}

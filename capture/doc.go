// Package capture reads frames from a network interface through AF_PACKET
// TPACKET_V3 memory-mapped rings (gopacket's afpacket, which builds without
// cgo) and hands each one, in place, to a Handler.
//
// # Sockets, fanout and readers
//
// Start opens Config.Sockets sockets on one interface (default 2, each with a
// 16 MiB ring of 4 blocks of 4 MiB) and joins them into one fanout group.
// The kernel wakes a reader once per retired block, and a wakeup (the
// runtime's poller, its threads, a system call) costs far more than reading
// a packet: on the benchmark machine a goroutine woken through the poller
// costs about 40 µs of CPU, a thread woken from a read the runtime does not
// see about 13 µs. With 8 KB frames 4 blocks of 4 MiB take a quarter to a third less
// CPU per packet than 8 of 2 MiB (docs/benchmarks.md). Fewer, larger
// blocks leave less slack: with the reader holding one block, the kernel
// fills the other three, 12 MiB or about 6 ms of a socket taking 16 Gbit/s,
// before it drops. At low rates blocks retire on their timeout nearly
// empty, so the timeout is 50 ms: a reader may stall for 3 timeouts
// (150 ms) before the ring is full. For one flow too fat for a socket, or a
// host whose readers are often kept off the CPU for longer, raise
// NumBlocks.
//
// The default fanout mode hashes each flow to one socket and sets the
// DEFRAG flag: every datagram of one sender reaches the same socket, in order, with
// IP fragments already reassembled by the kernel, so fragment reassembly and
// sequence-loss counting downstream stay exact and need no locks. The
// load-balancing mode spreads packets round-robin over the sockets (for a
// single channel too fat for one core); a sender's datagrams may then be seen
// out of order across sockets and Status reports SequenceLossApproximate.
//
// Each socket has one reader goroutine that runs to completion: it reads a
// frame in place, fills a Packet (data, timestamp, lengths, VLAN id from the
// kernel's auxdata, since the kernel strips the 802.1Q tag before AF_PACKET
// sees it) and calls its Handler. The handler for each socket is created by
// the newHandler function given to Start and is only ever called from that
// socket's reader, so per-socket state needs no locks.
//
// # Ownership of packet data
//
// Packet.Data points into the kernel's ring. It is valid only during
// HandlePacket: when the call returns, the reader moves on and the kernel may
// overwrite those bytes. A handler must not retain Data, any slice of it, or
// the *Packet itself; it copies out whatever must outlive the call (payloads
// into pooled batches, or whole datagrams). Reading in place is what keeps the
// reader at a fraction of a microsecond per packet.
//
// # Kernel filter
//
// When Config.Filter is set, its eBPF socket-filter program is attached to
// every socket (SO_ATTACH_BPF) before the socket joins the fanout group. This
// package does not know the program: the caller passes anything with an FD
// method (for example a *ebpf.Program). Frames that reached a socket between
// its bind and the attach are delivered unfiltered; consumers filter again.
//
// # Statistics
//
// The kernel's socket counters (packets, drops, queue freezes) reset each time
// they are read. Capture reads them when Stats is called, every
// Config.StatsInterval in the background (so the kernel's 32-bit counters
// cannot wrap unseen), and once more at Close, and accumulates them per socket
// and for the interface in 64-bit counters. The kernel's packet count includes
// the packets it dropped. The readers count the packets and bytes they handed
// to handlers, and read errors.
//
// # Shutdown
//
// A socket's ring must not be unmapped or closed while its reader walks it,
// so Close never does that. A reader that finds its ring empty parks in the
// Go runtime's network poller on a duplicate of the socket's descriptor
// until the kernel retires a block or Config.PollTimeout passes (then it
// calls the handler's Idle method), and checks a stop flag between blocks.
// Close sets the flag, wakes every parked reader, waits for every reader to
// return, reads the final statistics, and only then unmaps the rings and
// closes the sockets. Parking a goroutine instead of blocking a thread in
// poll(2) is what keeps an idle or lightly loaded reader cheap: a blocking
// system call makes the runtime hand the processor to another thread and
// back.
//
// # Reading the ring
//
// gopacket opens the sockets and sets up their rings; the readers walk the
// ring's blocks themselves, in a second mapping of it (see blockRing):
// gopacket's read path takes a lock and makes an atomic addition per packet,
// allocates per VLAN-tagged frame, and makes a system call at the end of
// every burst. The reader's hot path does not allocate and makes no system
// call while the ring has blocks ready.
package capture

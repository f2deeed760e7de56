// Package lab builds the small network topologies that siecap's kernel and
// capture tests run in: named network namespaces with a unique prefix, a veth
// pair between two of them with addresses from 198.18.0.0/15 (the range
// reserved for benchmarking), and a tc egress program that moves frames'
// VLAN tag into skb metadata the way a NIC with VLAN offload delivers it.
//
// Everything a lab creates is removed by Close, which is safe to pass to
// testing.T.Cleanup and safe to call more than once. Code that must run inside
// a namespace (attaching programs, opening sockets) runs through
// Namespace.Do, which locks the goroutine to its OS thread for the duration.
// File descriptors opened inside Do (sockets, BPF links) stay bound to that
// namespace after Do returns.
//
// The lab is the outside world: it imports no appliance package.
package lab

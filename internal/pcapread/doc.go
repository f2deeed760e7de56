// Package pcapread reads UDP datagrams out of pcap and pcapng captures:
// Ethernet (with up to two VLAN tags), Linux cooked or raw IP link types,
// IPv4 and IPv6, with IP fragments reassembled (gopacket's ip4defrag and
// ip6defrag). It feeds captured NMSG traffic to the codec as if it had come
// off the wire, with each datagram's sender so fragments and sequence
// numbers are tracked per sender.
package pcapread

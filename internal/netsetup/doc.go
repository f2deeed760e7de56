// Package netsetup prepares the SIE interfaces before capture, natively
// through netlink, the way Farsight's sie-update does with ip(8): each
// parent link up at MTU 9000, promiscuous when asked, and one 802.1Q VLAN
// sub-interface per channel when asked, named "<parent>.<vlan id>" (with
// an optional address and IPv6 address generation off, as sie-update
// leaves them).
//
// Apply records every change it makes and Undo reverses exactly those, in
// reverse order: a link found up stays up, an MTU found right is left, a
// sub-interface that already existed (under any name) is adopted and never
// deleted. Sync adds and removes sub-interfaces as the channels change.
//
// A Setup holds a netlink socket of the network namespace Apply ran in, so
// Undo may run on any thread. Everything needs CAP_NET_ADMIN; a kernel
// without 802.1Q support (CONFIG_VLAN_8021Q off, or module 8021q missing)
// makes sub-interface creation fail with ErrNoVLAN.
package netsetup

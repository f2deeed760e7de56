// Package netprobe tells whether the kernel's networking answers at all.
// After a kernel oops in network code, a dead kernel worker can hold RTNL
// forever, and every netlink request then blocks in uninterruptible sleep:
// the lab and the tests that build network namespaces check first and fail
// (or skip) at once with ErrNetworkingStuck instead of hanging.
package netprobe

package caps

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Cap is a capability number from linux/capability.h.
type Cap int

// The capabilities siecap and its tests deal with.
const (
	NetAdmin Cap = unix.CAP_NET_ADMIN
	NetRaw   Cap = unix.CAP_NET_RAW
	SysAdmin Cap = unix.CAP_SYS_ADMIN
	Perfmon  Cap = unix.CAP_PERFMON
	BPF      Cap = unix.CAP_BPF
)

var names = map[Cap]string{
	NetAdmin: "CAP_NET_ADMIN",
	NetRaw:   "CAP_NET_RAW",
	SysAdmin: "CAP_SYS_ADMIN",
	Perfmon:  "CAP_PERFMON",
	BPF:      "CAP_BPF",
}

// String returns the capability's name, e.g. "CAP_NET_RAW".
func (c Cap) String() string {
	if n, ok := names[c]; ok {
		return n
	}
	return fmt.Sprintf("capability %d", int(c))
}

// Effective returns the process's effective capability set as a bit mask
// (bit c for capability c).
func Effective() (uint64, error) {
	_, data, err := capget()
	if err != nil {
		return 0, err
	}
	return uint64(data[1].Effective)<<32 | uint64(data[0].Effective), nil
}

// capget reads the calling thread's capability sets (version 3: two
// 32-bit words per set).
func capget() (unix.CapUserHeader, [2]unix.CapUserData, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return hdr, data, fmt.Errorf("read capabilities: %w", err)
	}
	return hdr, data, nil
}

// Has reports whether c is in the process's effective set.
func Has(c Cap) bool {
	set, err := Effective()
	return err == nil && set&(1<<uint(c)) != 0
}

// DropThread removes cs from the calling thread's effective set; the
// permitted set keeps them, so RaiseThread can restore them. Linux keeps
// credentials per thread: the caller must hold its OS thread
// (runtime.LockOSThread) for as long as the change is to apply, and it
// changes nothing for the process's other threads.
func DropThread(cs ...Cap) error {
	return setThread(cs, false)
}

// RaiseThread puts cs back into the calling thread's effective set.
func RaiseThread(cs ...Cap) error {
	return setThread(cs, true)
}

func setThread(cs []Cap, on bool) error {
	hdr, data, err := capget()
	if err != nil {
		return err
	}
	for _, c := range cs {
		w, bit := &data[c/32].Effective, uint32(1)<<(uint(c)%32)
		if on {
			*w |= bit
		} else {
			*w &^= bit
		}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	return nil
}

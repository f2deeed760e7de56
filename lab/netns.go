package lab

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/siecap/siecap/internal/netprobe"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Namespace is a named network namespace created by NewNamespace.
type Namespace struct {
	Name   string
	handle netns.NsHandle
	nl     *netlink.Handle
	once   sync.Once
	err    error
}

// UniquePrefix returns a short random prefix ("sc" and six hex digits) for
// naming the namespaces and links of one test run, so that parallel runs do
// not collide. It fits in interface names together with a short suffix.
func UniquePrefix() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random: %v", err))
	}
	return "sc" + hex.EncodeToString(b[:])
}

// NewNamespace creates the named network namespace name and brings its
// loopback up. The calling goroutine's namespace is unchanged.
func NewNamespace(name string) (*Namespace, error) {
	if err := netprobe.Check(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("get current netns: %w", err)
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	// NewNamed switched this thread into the new namespace: switch back
	// before anything else, even on error.
	if serr := netns.Set(orig); serr != nil {
		// The thread is in an unknown namespace: do not let the runtime
		// reuse it (it exits when the goroutine ends while locked).
		runtime.LockOSThread()
		return nil, fmt.Errorf("restore netns: %w", serr)
	}
	if err != nil {
		return nil, fmt.Errorf("create netns %s: %w", name, err)
	}
	ns := &Namespace{Name: name, handle: h}
	ns.nl, err = netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("open netlink in %s: %w", name, err)
	}
	lo, err := ns.nl.LinkByName("lo")
	if err == nil {
		err = ns.nl.LinkSetUp(lo)
	}
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("bring lo up in %s: %w", name, err)
	}
	return ns, nil
}

// Netlink returns a netlink handle that operates inside the namespace.
func (ns *Namespace) Netlink() *netlink.Handle { return ns.nl }

// Handle returns the namespace's file handle (valid until Close).
func (ns *Namespace) Handle() netns.NsHandle { return ns.handle }

// Do runs fn on a thread switched into the namespace and switches back.
func (ns *Namespace) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns %s: %w", ns.Name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("leave netns %s: %w", ns.Name, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Close deletes the namespace; links inside it go with it.
func (ns *Namespace) Close() error {
	ns.once.Do(func() {
		if ns.nl != nil {
			ns.nl.Close()
		}
		ns.handle.Close()
		if err := netns.DeleteNamed(ns.Name); err != nil {
			ns.err = fmt.Errorf("delete netns %s: %w", ns.Name, err)
		}
	})
	return ns.err
}

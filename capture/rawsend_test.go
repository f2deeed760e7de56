//go:build linux

package capture_test

import (
	"fmt"
	"net"

	"github.com/siecap/siecap/lab"
	"golang.org/x/sys/unix"
)

// rawSender writes whole Ethernet frames (for example inline-VLAN-tagged
// ones) out of one end of a lab pair through an AF_PACKET socket opened in
// that end's namespace.
type rawSender struct {
	fd int
	to unix.SockaddrLinklayer
}

func newRawSender(e *lab.End, dst net.HardwareAddr) (*rawSender, error) {
	var s *rawSender
	err := e.NS.Do(func() (err error) {
		s, err = openRawSender(e.Index, dst)
		return err
	})
	return s, err
}

// openRawSender opens the socket in the calling thread's namespace.
func openRawSender(ifindex int, dst net.HardwareAddr) (*rawSender, error) {
	// Protocol 0: the socket sends but receives nothing.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open packet socket: %w", err)
	}
	s := &rawSender{fd: fd, to: unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6}}
	copy(s.to.Addr[:], dst)
	return s, nil
}

func (s *rawSender) send(frame []byte) error {
	if err := unix.Sendto(s.fd, frame, 0, &s.to); err != nil {
		return fmt.Errorf("send frame: %w", err)
	}
	return nil
}

func (s *rawSender) Close() error { return unix.Close(s.fd) }

//go:build !linux

package capture

import (
	"errors"
	"fmt"
)

// ErrNotSupported is returned by Start on systems without AF_PACKET.
var ErrNotSupported = errors.New("AF_PACKET capture is only supported on Linux")

// Capture is a running capture on one interface.
type Capture struct{}

// Start returns ErrNotSupported on this system.
func Start(cfg Config, newHandler func(socket int) Handler) (*Capture, error) {
	return nil, fmt.Errorf("start capture on %s: %w", cfg.Interface, ErrNotSupported)
}

// Stats returns nothing on this system.
func (c *Capture) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// Status returns nothing on this system.
func (c *Capture) Status() Status { return Status{} }

// Close does nothing on this system.
func (c *Capture) Close() error { return nil }

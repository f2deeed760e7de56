package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Notify sends state (newline-separated "KEY=value" assignments) to
// systemd. It returns false, nil when the daemon was not started by
// systemd with Type=notify.
func Notify(state string) (bool, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return false, nil
	}
	if strings.HasPrefix(path, "@") {
		path = "\x00" + path[1:] // abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("dial notify socket: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("write notify socket: %w", err)
	}
	return true, nil
}

// Ready reports READY=1 with a status line.
func Ready(status string) (bool, error) { return Notify("READY=1\nSTATUS=" + status) }

// Status reports a status line.
func Status(status string) (bool, error) { return Notify("STATUS=" + status) }

// Reloading reports RELOADING=1 with the CLOCK_MONOTONIC time systemd
// wants beside it; Ready ends the reload.
func Reloading() (bool, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return false, fmt.Errorf("read monotonic clock: %w", err)
	}
	return Notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000))
}

// Stopping reports STOPPING=1.
func Stopping() (bool, error) { return Notify("STOPPING=1") }

package sdnotify_test

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/sdnotify"
)

// listen stands for systemd's notification socket and returns a function
// that reads the next notification.
func listen(t *testing.T) func() string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return func() string {
		t.Helper()
		buf := make([]byte, 256)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
}

func TestNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := sdnotify.Ready("up"); sent || err != nil {
		t.Fatalf("without systemd: sent %v, %v", sent, err)
	}
	next := listen(t)
	if sent, err := sdnotify.Ready("capturing 4 channels"); !sent || err != nil {
		t.Fatalf("sent %v, %v", sent, err)
	}
	if got := next(); got != "READY=1\nSTATUS=capturing 4 channels" {
		t.Fatalf("got %q", got)
	}
}

func TestReloading(t *testing.T) {
	next := listen(t)
	if sent, err := sdnotify.Reloading(); !sent || err != nil {
		t.Fatalf("sent %v, %v", sent, err)
	}
	got := next()
	state, usec, ok := strings.Cut(got, "\nMONOTONIC_USEC=")
	if v, err := strconv.ParseUint(usec, 10, 64); state != "RELOADING=1" || !ok || err != nil || v == 0 {
		t.Fatalf("got %q, want RELOADING=1 and a MONOTONIC_USEC", got)
	}
}

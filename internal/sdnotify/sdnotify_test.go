package sdnotify_test

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/siecap/siecap/internal/sdnotify"
)

func TestNotify(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := sdnotify.Ready("up"); sent || err != nil {
		t.Fatalf("without systemd: sent %v, %v", sent, err)
	}
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	if sent, err := sdnotify.Ready("capturing 4 channels"); !sent || err != nil {
		t.Fatalf("sent %v, %v", sent, err)
	}
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "READY=1\nSTATUS=capturing 4 channels" {
		t.Fatalf("got %q", got)
	}
}

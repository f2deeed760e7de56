package ctl

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/siecap/siecap/internal/testutil"
)

// dialEnv makes the test binary a client that only dials a unix socket:
// exit 0 connected, 3 permission denied, 4 another error.
const dialEnv = "SIECAP_CTL_TEST_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(dialEnv); path != "" {
		c, err := net.Dial("unix", path)
		switch {
		case err == nil:
			c.Close()
			os.Exit(0)
		case errors.Is(err, os.ErrPermission):
			os.Exit(3)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	os.Exit(m.Run())
}

// TestUnixSocketOtherUser checks that the socket's mode is the access
// control: a user outside the socket's group cannot connect, one in it
// can.
func TestUnixSocketOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SETUID, CAP_CHOWN) to run a client as another user")
	}
	const nobody = 65534
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A copy of the test binary that the other user can run.
	bin := testutil.CopyTestBinary(t, dir, "dial")
	sock := filepath.Join(dir, "run", "siecap.sock")
	s := startServer(t, newFakeDaemon().backend(), Options{Socket: sock})
	if err := os.Chmod(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	dial := func() int {
		cmd := exec.Command(bin)
		cmd.Env = []string{dialEnv + "=" + s.opts.Socket}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ee.ExitCode() == 4 {
				t.Logf("client: %s", out)
			}
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("run the client: %v", err)
		}
		return 0
	}
	if code := dial(); code != 3 {
		t.Errorf("another user connected to a 0660 root:root socket (exit %d, want 3: permission denied)", code)
	}
	if err := os.Chown(sock, 0, nobody); err != nil {
		t.Fatal(err)
	}
	if code := dial(); code != 0 {
		t.Errorf("a member of the socket's group could not connect (exit %d)", code)
	}
}

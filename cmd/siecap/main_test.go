package main

import (
	"os"
	"testing"
)

// asMainEnv makes the test binary the siecap command itself, so that tests
// can run the daemon as a process of its own (as another user, under
// signals) without a separately built binary; the kernel matrix has no Go
// toolchain to build one.
const asMainEnv = "SIECAP_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

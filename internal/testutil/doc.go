// Package testutil holds the skip rules shared by siecap's privileged tests:
// a test skips only when a named privilege or kernel feature is missing, and
// fails on any other error. It also copies the test binary for tests that
// run it as another user, and issues certificates for TLS tests.
package testutil

// Package testvectors locates the NMSG reference vectors (files made by the
// C nmsgtool) for tests. They live in ../shared/vectors relative to the
// project root, beside a checkout, and are not part of the repository: a
// test that needs them skips, naming the missing directory, when they are
// absent.
package testvectors

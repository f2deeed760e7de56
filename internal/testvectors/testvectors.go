package testvectors

import (
	"os"
	"path/filepath"
	"testing"
)

// SkipReason is the reason tests give when the vectors are absent.
const SkipReason = "../shared/vectors not present"

// Root returns the project root (the directory holding go.mod), found by
// walking up from the working directory, or "" when there is none.
func Root() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the vectors directory, or "" when it is absent.
func Dir() string {
	root := Root()
	if root == "" {
		return ""
	}
	dir := filepath.Join(root, "..", "shared", "vectors")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// Require returns the vectors directory or skips t.
func Require(tb testing.TB) string {
	tb.Helper()
	dir := Dir()
	if dir == "" {
		tb.Skip(SkipReason)
	}
	return dir
}

// Path returns the path of a file below the vectors directory, or skips tb.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{Require(tb)}, elem...)...)
}

// Read returns the contents of a vector file, or skips tb when the vectors
// are absent; a missing file inside present vectors fails tb.
func Read(tb testing.TB, elem ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, elem...))
	if err != nil {
		tb.Fatalf("read vector: %v", err)
	}
	return b
}

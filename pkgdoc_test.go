package siecap_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs checks that every Go package of the project has a doc.go
// that opens with a package comment, so each package states its purpose,
// lifetimes and hot-path rules in one place.
func TestPackageDocs(t *testing.T) {
	dirs := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk tree: %v", err)
	}
	for dir := range dirs {
		if dir == "." {
			continue
		}
		doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
		if err != nil {
			t.Errorf("package %s has no doc.go", dir)
			continue
		}
		if !strings.Contains(string(doc), "\n// Package ") && !strings.HasPrefix(string(doc), "// Package ") &&
			!strings.Contains(string(doc), "// Command ") {
			t.Errorf("%s/doc.go has no package comment", dir)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManPages generates the man pages and checks that every command has
// one, with its name and synopsis, and that shell completion scripts come
// out for bash, zsh and fish.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if _, errs, code := siecap(t, nil, "man", "--dir", dir); code != 0 {
		t.Fatalf("man: exit %d: %s", code, errs)
	}
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c.HasParent() {
			return
		}
		n++
		page := filepath.Join(dir, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("no page for %q: %v", c.CommandPath(), err)
			return
		}
		if s := string(b); !strings.Contains(s, `.TH "SIECAP" "1"`) || !strings.Contains(s, ".SH NAME") || !strings.Contains(s, ".SH SYNOPSIS") {
			t.Errorf("%s: not a man page with NAME and SYNOPSIS:\n%.300s", page, s)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCommand()
	root.InitDefaultCompletionCmd() // as Execute does
	walk(root)
	if pages, _ := filepath.Glob(filepath.Join(dir, "*.1")); len(pages) != n || n < 20 {
		t.Errorf("%d pages for %d commands", len(pages), n)
	}
	for shell, want := range map[string]string{"bash": "__start_siecap", "zsh": "#compdef siecap", "fish": "complete -c siecap"} {
		out, errs, code := siecap(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %q missing (%s)", shell, code, want, errs)
		}
	}
	// Flags with a fixed set of values complete to them.
	out, _, _ := siecap(t, nil, "__complete", "channels", "--format", "")
	if !strings.Contains(out, "table") || !strings.Contains(out, "json") {
		t.Errorf("completion of --format: %q", out)
	}
}

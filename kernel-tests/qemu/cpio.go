package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// cpioWriter writes a "newc" cpio archive, the format the kernel unpacks
// into the initramfs.
type cpioWriter struct {
	w   io.Writer
	ino int
	err error
}

func (c *cpioWriter) header(name string, mode uint32, size int) {
	if c.err != nil {
		return
	}
	c.ino++
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	_, c.err = io.WriteString(c.w, hdr+name+"\x00")
	c.pad(110 + len(name) + 1)
}

func (c *cpioWriter) pad(n int) {
	if c.err == nil && n%4 != 0 {
		_, c.err = c.w.Write(make([]byte, 4-n%4))
	}
}

func (c *cpioWriter) dir(name string) { c.header(name, 0o040755, 0) }

func (c *cpioWriter) file(name string, mode uint32, data []byte) {
	c.header(name, 0o100000|mode, len(data))
	if c.err == nil {
		_, c.err = c.w.Write(data)
	}
	c.pad(len(data))
}

func (c *cpioWriter) close() error {
	c.header("TRAILER!!!", 0, 0)
	return c.err
}

// writeInitramfs writes the gzip'd initramfs to path.
func writeInitramfs(path, busybox, testBin string, mods []module, args string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create initramfs: %w", err)
	}
	defer f.Close()
	z := gzip.NewWriter(f)
	c := &cpioWriter{w: z}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return fmt.Errorf("read busybox: %w", err)
	}
	tb, err := os.ReadFile(testBin)
	if err != nil {
		return fmt.Errorf("read test binary: %w", err)
	}
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "run", "var", "var/run", "var/run/netns", "modules"} {
		c.dir(d)
	}
	c.file("bin/busybox", 0o755, bb)
	c.file("init", 0o755, []byte(initScript))
	c.file("kernel-tests.test", 0o755, tb)
	c.file("test.args", 0o644, []byte(args))
	var order string
	for _, m := range mods {
		data, err := readModule(m.path)
		if err != nil {
			return fmt.Errorf("read module %s: %w", m.path, err)
		}
		c.file("modules/"+m.name+".ko", 0o644, data)
		order += m.name + ".ko\n"
	}
	c.file("modules.order", 0o644, []byte(order))
	if err := c.close(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	return f.Close()
}

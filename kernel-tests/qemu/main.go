package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// modulesWanted are the modules the kernel tests need when built as modules.
var modulesWanted = []string{"veth", "8021q", "sch_ingress", "cls_bpf", "sch_tbf"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "qemu:", err)
		os.Exit(1)
	}
}

func run() error {
	cacheDefault, _ := os.UserCacheDir()
	var (
		kernels = flag.String("kernels", "", "comma-separated linux-image packages (default: Debian 12's 6.1 and 6.12, from linux-image-amd64 and linux-image-6.12-amd64)")
		cache   = flag.String("cache", filepath.Join(cacheDefault, "siecap-qemu"), "cache directory for packages and unpacked kernels")
		runRe   = flag.String("run", "", "only run tests matching this regexp")
		timeout = flag.Duration("timeout", 20*time.Minute, "time limit per kernel")
		pkg     = flag.String("pkg", "./kernel-tests/", "package holding the kernel tests")
	)
	flag.Parse()
	if err := os.MkdirAll(*cache, 0o755); err != nil {
		return fmt.Errorf("create cache: %w", err)
	}
	names := strings.Split(*kernels, ",")
	if *kernels == "" {
		var err error
		if names, err = defaultKernels(); err != nil {
			return err
		}
	}
	work, err := os.MkdirTemp("", "siecap-qemu-")
	if err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	defer os.RemoveAll(work)
	testBin := filepath.Join(work, "kernel-tests.test")
	build := exec.Command("go", "test", "-c", "-trimpath", "-o", testBin, *pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build test binary: %w", err)
	}
	busybox, err := fetch(*cache, "busybox-static", "bin/busybox")
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range names {
		fmt.Printf("=== kernel %s\n", name)
		code, err := runKernel(*cache, work, name, busybox, testBin, *runRe, *timeout)
		switch {
		case err != nil:
			fmt.Printf("=== kernel %s: %v\n", name, err)
			failed = append(failed, name)
		case code != 0:
			fmt.Printf("=== kernel %s: tests exited with %d\n", name, code)
			failed = append(failed, name)
		default:
			fmt.Printf("=== kernel %s: ok\n", name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed on %s", strings.Join(failed, ", "))
	}
	return nil
}

// defaultKernels resolves Debian 12's current 6.1 and 6.12 image packages.
func defaultKernels() ([]string, error) {
	var out []string
	for _, meta := range []string{"linux-image-amd64", "linux-image-6.12-amd64"} {
		b, err := exec.Command("apt-cache", "depends", meta).Output()
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", meta, err)
		}
		m := regexp.MustCompile(`Depends: (linux-image-[0-9][^\s]*-amd64)`).FindSubmatch(b)
		if m == nil {
			return nil, fmt.Errorf("resolve %s: no versioned image in apt-cache output", meta)
		}
		out = append(out, string(m[1]))
	}
	return out, nil
}

// fetch downloads and unpacks the Debian package pkg into the cache (once)
// and returns the path of file inside it.
func fetch(cache, pkg, file string) (string, error) {
	dir := filepath.Join(cache, "pkg", pkg)
	want := filepath.Join(dir, file)
	if file == "" {
		want = dir
	}
	if _, err := os.Stat(filepath.Join(dir, ".unpacked")); err == nil {
		return want, nil
	}
	debs := filepath.Join(cache, "deb")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	dl := exec.Command("apt-get", "download", pkg)
	dl.Dir = debs
	if out, err := dl.CombinedOutput(); err != nil {
		return "", fmt.Errorf("download %s: %w: %s", pkg, err, out)
	}
	matches, _ := filepath.Glob(filepath.Join(debs, pkg+"_*.deb"))
	if len(matches) == 0 {
		return "", fmt.Errorf("download %s: no .deb in %s", pkg, debs)
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.Command("dpkg-deb", "-x", matches[len(matches)-1], dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("unpack %s: %w: %s", pkg, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, ".unpacked"), nil, 0o644); err != nil {
		return "", err
	}
	return want, nil
}

const initScript = `#!/bin/busybox sh
/bin/busybox mkdir -p /bin /proc /sys /dev /tmp /run /var/run/netns
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 none /sys/fs/cgroup
mount -t debugfs none /sys/kernel/debug
mount -t tracefs none /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp
for m in $(cat /modules.order); do insmod /modules/$m || echo "insmod $m failed"; done
ulimit -l unlimited
ip link set lo up
echo "SIECAP-KERNEL=$(uname -r)"
cd /tmp
/kernel-tests.test -test.v -test.count=1 -test.short -test.timeout=15m $(cat /test.args)
echo "SIECAP-EXIT=$?"
poweroff -f
`

func runKernel(cache, work, pkg, busybox, testBin, runRe string, timeout time.Duration) (int, error) {
	root, err := fetch(cache, pkg, "")
	if err != nil {
		return -1, err
	}
	vmlinuz, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	if len(vmlinuz) != 1 {
		return -1, fmt.Errorf("find vmlinuz in %s: %d matches", root, len(vmlinuz))
	}
	version := strings.TrimPrefix(filepath.Base(vmlinuz[0]), "vmlinuz-")
	mods, err := resolveModules(filepath.Join(root, "lib", "modules", version), modulesWanted)
	if err != nil {
		return -1, err
	}
	var args []string
	if runRe != "" {
		args = append(args, "-test.run", runRe)
	}
	initrd := filepath.Join(work, "initrd-"+version+".gz")
	if err := writeInitramfs(initrd, busybox, testBin, mods, strings.Join(args, " ")); err != nil {
		return -1, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1G",
		"-smp", "2", "-nographic", "-no-reboot", "-nic", "none", "-kernel", vmlinuz[0], "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 quiet")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return -1, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start qemu: %w", err)
	}
	code := -1
	marker := regexp.MustCompile(`SIECAP-EXIT=(\d+)`)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		fmt.Printf("[%s] %s\n", version, line)
		if m := marker.FindStringSubmatch(line); m != nil {
			fmt.Sscan(m[1], &code)
		}
	}
	werr := cmd.Wait()
	if code < 0 {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("no exit marker within %s", timeout)
		}
		return -1, fmt.Errorf("no exit marker (qemu: %v)", werr)
	}
	return code, nil
}

type module struct {
	name string
	path string
}

// resolveModules returns the wanted modules present in dir and their
// dependencies, dependencies first. Modules built into the kernel are
// simply absent.
func resolveModules(dir string, wanted []string) ([]module, error) {
	byName := map[string]string{}
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
			if strings.HasSuffix(base, ext) {
				name := strings.ReplaceAll(strings.TrimSuffix(base, ext), "-", "_")
				byName[name] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list modules: %w", err)
	}
	var out []module
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		name = strings.ReplaceAll(name, "-", "_")
		if seen[name] {
			return nil
		}
		seen[name] = true
		p, ok := byName[name]
		if !ok {
			return nil // built in
		}
		data, err := readModule(p)
		if err != nil {
			return err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		for _, d := range deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		out = append(out, module{name: name, path: p})
		return nil
	}
	for _, w := range wanted {
		if err := visit(w); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readModule returns a module's ELF bytes, decompressing with the system's
// xz or zstd when needed.
func readModule(p string) ([]byte, error) {
	switch {
	case strings.HasSuffix(p, ".xz"):
		return exec.Command("xz", "-dc", p).Output()
	case strings.HasSuffix(p, ".zst"):
		return exec.Command("zstd", "-dc", p).Output()
	case strings.HasSuffix(p, ".gz"):
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(z)
	}
	return os.ReadFile(p)
}

// moduleDepends reads "depends=" from a module's .modinfo section.
func moduleDepends(data []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	s := f.Section(".modinfo")
	if s == nil {
		return nil, errors.New("no .modinfo section")
	}
	info, err := s.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}

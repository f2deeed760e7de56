// Command qemu runs siecap's kernel tests inside Debian's own kernels
// (Debian 12's 6.1 and 6.12 by default) booted under qemu with software
// emulation: `make test-kernels`, or
//
//	go run ./kernel-tests/qemu [-kernels pkg,pkg] [-run regexp] [-cache dir]
//
// For each kernel it downloads the linux-image package with apt-get
// download (cached), unpacks it, picks the modules the tests need (veth,
// 8021q, sch_ingress, cls_bpf, sch_tbf and their dependencies, read from each
// module's .modinfo), and builds a throw-away gzip'd cpio initramfs holding
// static busybox (from busybox-static), those modules, the statically built
// test binary (CGO_ENABLED=0 go test -c ./kernel-tests/) and an /init
// script. /init mounts the pseudo file systems, loads the modules, runs the
// tests (with -test.short), prints the exit code as a marker line and
// powers off. The driver reads the console, echoes it, and fails unless
// every kernel's tests passed.
//
// It needs qemu-system-x86, dpkg-deb, apt-get and xz (for compressed
// modules); it runs as any user that may write the cache directory.
package main

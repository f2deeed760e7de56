//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package deflate

import "unsafe"

// The match finder's inner loop compares bytes at computed offsets into
// the input. Go's bounds checks (and the slice headers built for them)
// were half of its instructions, so these loads take a base pointer and an
// offset. Every offset is in range by construction: candidates lie before
// the current position, which is at least four bytes (eight for load64)
// from the end of the input, as the callers check; the round-trip and
// fuzz tests exercise the edges. They read little-endian: here, natively.

func load32(p unsafe.Pointer, i int) uint32 { return *(*uint32)(unsafe.Add(p, i)) }

func load64(p unsafe.Pointer, i int) uint64 { return *(*uint64)(unsafe.Add(p, i)) }

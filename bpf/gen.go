package bpf

// The objects are built with Debian 12's clang-14 so that every machine
// produces the same bytes; `make generate` runs this. The hardened build
// (see doc.go) is compiled for -mcpu=v2, without 32-bit subregisters, so
// that every spill is 8 bytes wide: without CAP_PERFMON the verifier of
// Linux 6.1 refuses a narrower store over a spilled register.
//go:generate go tool bpf2go -tags linux -cc clang-14 -strip llvm-strip-14 -target bpfel -type sc_rule -type sc_dir -type sc_addr_slot -type sc_counters -type sc_disc_key -type sc_disc_val filter filter.c -- -O2 -mcpu=v3 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu
//go:generate go tool bpf2go -tags linux -cc clang-14 -strip llvm-strip-14 -target bpfel filterHardened filter.c -- -DSC_HARDENED -O2 -mcpu=v2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu

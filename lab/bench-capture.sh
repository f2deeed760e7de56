#!/bin/sh
# bench-capture: 10-second capture runs in the lab (8000- and 1400-byte
# datagrams, with and without the kernel filter dropping half the
# channels), 3 runs each. The last line is the median (by pps) of the
# 8000-byte runs without the filter:
#   capture: <pps> pps, <Gbit/s> Gbit/s, drops <n>, <us> us/pkt
# Needs root (network namespaces, AF_PACKET, BPF). SIECAP_BENCH_SECONDS
# overrides the run length.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/bench.out
# The feed comes from siecap gen in its own process.
go build -o "$tmp/siecap" ./cmd/siecap
SIECAP_BIN=$tmp/siecap go test -count 3 -run '^$' -bench '^BenchmarkLabCapture$' -benchtime 1x -timeout 30m ./kernel-tests/ | tee "$out"
if grep -q '^FAIL' "$out"; then exit 1; fi
awk '
/^BenchmarkLabCapture\/size=8000\/filter=none/ {
	for (i = 1; i < NF; i++) {
		if ($(i+1) == "pps") pps = $i
		if ($(i+1) == "Gbit/s") gbit = $i
		if ($(i+1) == "drops") drops = $i
		if ($(i+1) == "us/pkt") us = $i
	}
	n++; P[n] = pps; G[n] = gbit; D[n] = drops; U[n] = us
}
END {
	if (n == 0) { print "bench-capture: no 8000-byte run without the filter" > "/dev/stderr"; exit 1 }
	# median by pps: sort the indices
	for (i = 1; i <= n; i++) idx[i] = i
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (P[idx[j]] + 0 < P[idx[i]] + 0) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
	m = idx[int((n + 1) / 2)]
	printf "capture: %d pps, %.2f Gbit/s, drops %d, %.3f us/pkt\n", P[m], G[m], D[m], U[m]
}' "$out"

#!/usr/bin/env bash
# Measures siecap ingest (decode, dedupe, repack, zstd, spool with fsync) on
# the files of `make bench-data`, in payloads per CPU-second (user+sys,
# median of RUNS runs) and peak memory; compares the spool's size with
# `siecap dump -z -w` of the whole input; and measures rrset dedupe on a
# dnsqr input made by repeating the dnsqr vector (when the vectors are
# present).
set -euo pipefail
BIN=${BIN:-bin/siecap}
BENCH_DIR=${BENCH_DIR:?set BENCH_DIR}
RUNS=${RUNS:-3}
plain="$BENCH_DIR/dedupe-2m.nmsg"
vectors=${VECTORS:-../shared/vectors}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

measure() { # label, payload count, then the siecap arguments (spool is $tmp/spool; the input last)
	local label=$1 n=$2; shift 2
	local cpus=() rss=()
	for _ in $(seq "$RUNS"); do
		# Read the input into the page cache first: a file not read for a
		# while may have left it, and copying it back in is not the
		# pipeline's work (it was 17% of one run's CPU samples here).
		cat "${@: -1}" >/dev/null
		rm -rf "$tmp/spool"
		/usr/bin/time -o "$tmp/time" -f '%U %S %M' "$BIN" "$@" >"$tmp/out" 2>/dev/null
		read -r u s m <"$tmp/time"
		cpus+=("$(python3 -c "print($u+$s)")")
		rss+=("$m")
	done
	tail -n1 "$tmp/out"
	python3 - "$label" "$n" "${cpus[*]}" "${rss[*]}" <<'PY'
import sys, statistics
label, n, cpus, rss = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3].split()], [int(x) for x in sys.argv[4].split()]
med = statistics.median(cpus)
print(f"{label:<30} {n/med/1e6:6.2f} M payloads/CPU-s  (median CPU {med:.3f} s of {len(cpus)} runs {[round(c, 2) for c in cpus]}; peak RSS {max(rss)/1024:.1f} MB)")
PY
}

measure "ingest --dedupe payload" 2000000 ingest --spool "$tmp/spool" --channel 204 "$plain"
stored=$(du -sb "$tmp/spool" | cut -f1)
"$BIN" dump -z -w "$tmp/z.nmsg" "$plain"
echo "stored bytes: spool $stored, dump -z -w $(stat -c %s "$tmp/z.nmsg")"
measure "ingest --dedupe none" 2000000 ingest --spool "$tmp/spool" --channel 204 --dedupe none "$plain"

if [ -f "$vectors/nmsgtool/dnsqr-pcap.nmsg" ]; then
	python3 -c "import sys; d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(d*20000)" \
		"$vectors/nmsgtool/dnsqr-pcap.nmsg" "$tmp/dnsqr.nmsg"
	measure "ingest --dedupe rrset (dnsqr)" 100000 ingest --spool "$tmp/spool" --channel 202 --dedupe rrset "$tmp/dnsqr.nmsg"
fi

#!/usr/bin/env bash
# Measures siecap dump on the benchmark files of `make bench-data`, in
# payloads per CPU-second (user+sys, median of RUNS runs) and peak memory,
# and compares the size of its zlib output with C zlib at level 6 (python3's
# zlib module) on the same containers.
set -euo pipefail
BIN=${BIN:-bin/siecap}
BENCH_DIR=${BENCH_DIR:?set BENCH_DIR}
RUNS=${RUNS:-5}
N=${N:-2000000}
plain="$BENCH_DIR/dedupe-2m.nmsg"
zlib="$BENCH_DIR/dedupe-2m-zlib.nmsg"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

measure() { # label, then the siecap arguments (the input last)
	local label=$1; shift
	local cpus=() rss=()
	for _ in $(seq "$RUNS"); do
		cat "${@: -1}" >/dev/null # into the page cache: reading it back is not the codec's work
		/usr/bin/time -o "$tmp/time" -f '%U %S %M' "$BIN" "$@" >/dev/null 2>&1
		read -r u s m <"$tmp/time"
		cpus+=("$(python3 -c "print($u+$s)")")
		rss+=("$m")
	done
	python3 - "$label" "$N" "${cpus[*]}" "${rss[*]}" <<'PY'
import sys, statistics
label, n, cpus, rss = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3].split()], [int(x) for x in sys.argv[4].split()]
med = statistics.median(cpus)
print(f"{label:<34} {n/med/1e6:6.2f} M payloads/CPU-s  (median CPU {med:.3f} s of {len(cpus)} runs; peak RSS {max(rss)/1024:.1f} MB)")
PY
}

measure "dump -w /dev/null"           dump -w /dev/null "$plain"
measure "dump -J > /dev/null"         dump -J "$plain"
measure "dump -z -w /dev/null"        dump -z -w /dev/null "$plain"
measure "dump -w /dev/null (zlib in)" dump -w /dev/null "$zlib"

"$BIN" dump -z -w "$tmp/z.nmsg" "$plain"
python3 - "$plain" "$tmp/z.nmsg" <<'PY'
import sys, struct, zlib
def containers(path):
    b = open(path, 'rb').read()
    i = 0
    while i < len(b):
        n = struct.unpack('>I', b[i+6:i+10])[0]
        yield b[i+4], b[i+10:i+10+n]
        i += 10 + n
# Re-frame exactly as siecap does (same containers), then deflate each body
# with C zlib at level 6: siecap's -z output is compared with that.
ours = sum(10 + len(body) for _, body in containers(sys.argv[2]))
bodies = []
for flags, body in containers(sys.argv[2]):
    ulen = struct.unpack('>I', body[:4])[0]
    raw = zlib.decompress(body[4:])
    assert len(raw) == ulen
    bodies.append(raw)
c = sum(10 + 4 + len(zlib.compress(raw, 6)) for raw in bodies)
print(f"zlib output: siecap {ours} bytes, C zlib level 6 on the same containers {c} bytes: {100*(ours-c)/c:+.2f}%")
PY

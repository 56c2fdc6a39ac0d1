#!/usr/bin/env bash
# Throughput of `pyslim check` over the CPython standard library, side by side with
# `ruff check --no-cache --isolated --select C419` on the same tree (ruff's closest
# rule: unnecessary list comprehension in any/all). Runs are interleaved; prints wall
# time and peak RSS of every run and the medians.
#
#   bash tests/bench/stdlib_vs_ruff.sh [RUNS]     (default 5; needs python3 and PyPI)
#
# ruff is installed, pinned, into a throwaway venv under target/.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
venv=target/bench-ruff-venv
if [ ! -x "$venv/bin/ruff" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet ruff==0.17.6
fi
cargo build --release --quiet
pyslim=target/release/pyslim
files=$(find "$stdlib" -name '*.py' -not -path '*/site-packages/*' | wc -l)
lines=$(find "$stdlib" -name '*.py' -not -path '*/site-packages/*' -print0 | xargs -0 cat | wc -l)
echo "tree: $stdlib ($files files, $lines lines; site-packages excluded by both tools)"
echo "pyslim $($pyslim --version | cut -d' ' -f2), $("$venv/bin/ruff" --version), $(nproc) cores"

measure() { # label, command...: prints "label seconds peak_kib"
    local label=$1; shift
    local stats
    stats=$(mktemp)
    /usr/bin/time -o "$stats" -f '%e %M' "$@" >/dev/null 2>&1 || true
    echo "$label $(tail -1 "$stats")"
    rm -f "$stats"
}

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for _ in $(seq "$runs"); do
    measure pyslim-all "$pyslim" check "$stdlib" >>"$results"
    measure pyslim-generator "$pyslim" check --select generator "$stdlib" >>"$results"
    measure ruff-C419 "$venv/bin/ruff" check --no-cache --isolated --select C419 "$stdlib" >>"$results"
done
printf '%-18s %12s %14s   runs (s)\n' tool "median s" "median MiB"
for label in pyslim-all pyslim-generator ruff-C419; do
    grep "^$label " "$results" | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin]
secs = [float(r[1]) for r in rows]
mib = [int(r[2]) / 1024 for r in rows]
print(f"{rows[0][0]:<18} {statistics.median(secs):12.2f} {statistics.median(mib):14.1f}   " + " ".join(f"{s:.2f}" for s in secs))
'
done

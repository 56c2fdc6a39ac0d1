#!/usr/bin/env bash
# Throughput of `pyslim check` over the CPython standard library, side by side with
# `ruff check --no-cache --isolated --select C419` on the same tree (ruff's closest
# rule: unnecessary list comprehension in any/all), then how the cost grows with the
# tree: the same check on four copies of the standard library. Runs are interleaved
# (the machine may be shared: compare medians of one run, never numbers across runs);
# prints wall time and peak RSS of every run and the medians, and the CPU time (user
# plus system) each used: on a shared machine wall time moves with the neighbours'
# load, CPU time much less. Beside them it measures the floor under `pyslim check`:
# `tests/bench/parse_floor.rs` finds, reads and parses every file with pyslim's parser and
# allocator and analyses nothing, so what the analyses cost is `pyslim-all` minus
# `parse-floor`; `parse-and-bind` adds one walk per file that binds and looks up every
# name in hash sets, the least any name analysis costs (what one semantic pass per file
# could at best come down to). `ruff-floor` is ruff's own floor, measured the same way:
# `--select W291` (trailing whitespace) is a rule on physical lines that reads no AST,
# so its run is ruff's discovery, read, parse and what ruff builds for every file,
# with next to no rule work: what C419 costs is `ruff-C419` minus `ruff-floor`.
#
#   bash tests/bench/stdlib_vs_ruff.sh [RUNS]     (default 5; needs python3 and PyPI)
#
# Environment:
#   PYSLIM_BEFORE=path   also measure this pyslim binary (e.g. one built at an older
#                        commit), interleaved with the current one
#   PER_TRANSFORM=1      also measure `--select X` for every transform, and all of
#                        them but slots together (`pyslim-all-but-slots`)
#   SCALING=0            skip the four-copies tree
#
# ruff is installed, pinned, into a throwaway venv under target/. The pyslim measured is
# the one `cargo build --release` makes here (under $CARGO_TARGET_DIR when it is set).
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
cargo build --release --quiet --example parse_floor
pyslim=${CARGO_TARGET_DIR:-target}/release/pyslim
floor=${CARGO_TARGET_DIR:-target}/release/examples/parse_floor
before=${PYSLIM_BEFORE:-}
files=$(find "$stdlib" -name '*.py' -not -path '*/site-packages/*' | wc -l)
lines=$(find "$stdlib" -name '*.py' -not -path '*/site-packages/*' -print0 | xargs -0 cat | wc -l)
echo "tree: $stdlib ($files files, $lines lines; site-packages excluded by both tools)"
echo "pyslim $($pyslim --version | cut -d' ' -f2), $("$venv/bin/ruff" --version), $(nproc) cores"

work=$(mktemp -d)
results="$work/results"
trap 'rm -rf "$work"' EXIT
four="$work/four"
if [ "${SCALING:-1}" != 0 ]; then
    # Four copies side by side, without site-packages (both tools skip it anyway).
    for i in 1 2 3 4; do
        mkdir -p "$four/copy$i"
        (cd "$stdlib" && find . -name '*.py' -not -path '*/site-packages/*' -print0 |
            xargs -0 cp --parents -t "$four/copy$i")
    done
fi

measure() { # label, command...: appends "label seconds peak_kib cpu_seconds"
    local label=$1; shift
    local stats
    stats=$(mktemp)
    /usr/bin/time -o "$stats" -f '%e %M %U %S' "$@" >/dev/null 2>&1 || true
    echo "$label $(tail -1 "$stats" | awk '{print $1, $2, $3 + $4}')" >>"$results"
    rm -f "$stats"
}

transforms=$($pyslim transforms | awk 'NF {print $1}' | grep -E '^[a-z]+$' || true)
all_but_slots=$(echo "$transforms" | grep -vx slots | paste -sd, -)
for _ in $(seq "$runs"); do
    measure pyslim-all "$pyslim" check "$stdlib"
    measure parse-floor "$floor" "$stdlib"
    measure parse-and-bind "$floor" --bind "$stdlib"
    [ -n "$before" ] && measure before-all "$before" check "$stdlib"
    measure pyslim-generator "$pyslim" check --select generator "$stdlib"
    [ -n "$before" ] && measure before-generator "$before" check --select generator "$stdlib"
    measure ruff-C419 "$venv/bin/ruff" check --no-cache --isolated --select C419 "$stdlib"
    measure ruff-floor "$venv/bin/ruff" check --no-cache --isolated --select W291 "$stdlib"
    if [ "${PER_TRANSFORM:-0}" != 0 ]; then
        # Every transform but slots together, beside the slots proof alone: what the
        # whole-project proof of which classes may take `__slots__` costs on its own.
        measure pyslim-all-but-slots "$pyslim" check --select "$all_but_slots" "$stdlib"
        for t in $transforms; do
            [ "$t" = generator ] && continue
            measure "pyslim-$t" "$pyslim" check --select "$t" "$stdlib"
            [ -n "$before" ] && measure "before-$t" "$before" check --select "$t" "$stdlib"
        done
    fi
    if [ "${SCALING:-1}" != 0 ]; then
        measure pyslim-all-1copy "$pyslim" check "$four/copy1"
        measure pyslim-all-4copies "$pyslim" check "$four"
        measure ruff-C419-4copies "$venv/bin/ruff" check --no-cache --isolated --select C419 "$four"
    fi
done
printf '%-22s %10s %12s %10s   runs (s)\n' tool "median s" "median MiB" "median CPU"
awk '{print $1}' "$results" | awk '!seen[$0]++' | while read -r label; do
    grep "^$label " "$results" | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin]
secs = [float(r[1]) for r in rows]
mib = [int(r[2]) / 1024 for r in rows]
cpu = [float(r[3]) for r in rows]
print(f"{rows[0][0]:<22} {statistics.median(secs):10.2f} {statistics.median(mib):12.1f} "
      f"{statistics.median(cpu):10.2f}   " + " ".join(f"{s:.2f}" for s in secs))
'
done
python3 - "$results" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, secs, kib, cpu = line.split()
    rows[label].append((float(secs), int(kib), float(cpu)))
def median(label, i):
    return statistics.median(r[i] for r in rows[label])
if "ruff-C419" in rows:
    for label in ("pyslim-all", "before-all", "pyslim-generator", "parse-floor", "parse-and-bind",
                  "ruff-floor", "pyslim-all-but-slots", "pyslim-slots"):
        if label in rows:
            print(f"{label} / ruff-C419: wall {median(label, 0) / median('ruff-C419', 0):.2f}x, "
                  f"peak memory {median(label, 1) / median('ruff-C419', 1):.2f}x, "
                  f"CPU {median(label, 2) / median('ruff-C419', 2):.2f}x")
if "pyslim-all-4copies" in rows:
    print(f"pyslim-all four copies / one copy: wall "
          f"{median('pyslim-all-4copies', 0) / median('pyslim-all-1copy', 0):.2f}x, "
          f"peak memory {median('pyslim-all-4copies', 1) / median('pyslim-all-1copy', 1):.2f}x")
EOF

#!/usr/bin/env bash
# How `pyslim check` scales within one file: generated modules with N of something
# (facts, fixes, lists in one function), at N and 4N. A linear analysis takes about 4x
# as long at 4N; a quadratic one about 16x. Prints wall time and peak RSS per case.
#
#   bash tests/bench/big_files.sh [N]      (default 5000)
#
# The pyslim measured is the one `cargo build --release` makes here (under
# $CARGO_TARGET_DIR when it is set), or PYSLIM_BIN=path (e.g. a build of an older
# commit).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-5000}
if [ -n "${PYSLIM_BIN:-}" ]; then
    pyslim=$(realpath "$PYSLIM_BIN")
else
    cargo build --release --quiet
    pyslim=$(realpath "${CARGO_TARGET_DIR:-target}/release/pyslim")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() { # case, count: writes $work/case-count/big.py
    local dir="$work/$1-$2"
    mkdir -p "$dir"
    python3 - "$1" "$2" >"$dir/big.py" <<'PY'
import sys
case, n = sys.argv[1], int(sys.argv[2])
if case == "escapes":  # slots: n distinct objects passed to a call
    print("import m\nclass A:\n    def __init__(self):\n        self.a = 1")
    for i in range(n):
        print(f"m.g(m.x{i})")
elif case == "fixes":  # generator and tuple: n module-level lists, n fixes each
    for i in range(n):
        print(f"L{i} = [1, 2, {i}]\nprint(sum([x for x in L{i}]))")
elif case == "locals":  # deque and array: n lists in one function
    print("def f(xs):")
    for i in range(n):
        print(f"    q{i} = []\n    q{i}.append(1)\n    q{i}.pop(0)\n    v{i} = [1.0]\n    v{i}.append(2.0)")
PY
    echo "$dir"
}

printf '%-8s %-10s %8s %10s %9s\n' case select count seconds peak_MiB
for case in escapes fixes locals; do
    case $case in
        escapes) selects="slots" ;;
        fixes) selects="generator tuple" ;;
        locals) selects="deque array" ;;
    esac
    for count in "$n" $((4 * n)); do
        dir=$(generate "$case" "$count")
        for select in $selects all; do
            args=(check "$dir")
            [ "$select" != all ] && args+=(--select "$select")
            stats=$(mktemp)
            /usr/bin/time -o "$stats" -f '%e %M' "$pyslim" "${args[@]}" >/dev/null 2>&1 || true
            # `check` exits 1 when it finds something: time(1) then says so first.
            read -r seconds kib < <(tail -1 "$stats")
            rm -f "$stats"
            printf '%-8s %-10s %8s %10s %9s\n' "$case" "$select" "$count" "$seconds" $((kib / 1024))
        done
    done
done

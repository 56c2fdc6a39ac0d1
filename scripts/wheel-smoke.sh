#!/usr/bin/env bash
# The wheel, end to end: builds pyslim's wheel with maturin (pyproject.toml: no embedded
# Python), installs it into a fresh virtualenv of a Python other than the one a plain
# `cargo build` embeds, checks that its binary loads no libpython, and runs
# `pyslim check`, `pyslim rewrite --dry-run` and `pyslim rewrite --verify` on a copy of
# fixtures/projects/demo from that virtualenv (as if activated). Prints the wheel's size
# and the install time. Everything happens in a temporary folder, removed at the end;
# the wheel is built in target/wheel so it never replaces the embedding build's binary.
#
#   bash scripts/wheel-smoke.sh [PYTHON]
#
# PYTHON: the interpreter for the fresh venv (default $PYSLIM_SMOKE_PYTHON, else the
# newest pyenv 3.13 or 3.12, else python3.13 or python3.12 on PATH). Needs Rust, and
# pip access to PyPI for maturin and pytest. A release build with fat LTO takes
# minutes; PYSLIM_WHEEL_PROFILE=dev builds an unoptimised wheel quickly for a try.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

python="${1:-${PYSLIM_SMOKE_PYTHON:-}}"
if [ -z "$python" ]; then
    root="$(pyenv root 2>/dev/null || true)"
    for minor in 3.13 3.12; do
        if [ -n "$root" ]; then
            found="$(ls -d "$root"/versions/"$minor".*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)"
            if [ -n "$found" ]; then
                python="$found"
                break
            fi
        fi
        if command -v "python$minor" >/dev/null; then
            python="python$minor"
            break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "no Python 3.12 or 3.13 found: give one as the first argument" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pip_quiet=(--quiet --disable-pip-version-check)

echo "== build the wheel (maturin, profile ${PYSLIM_WHEEL_PROFILE:-release})"
"$python" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install "${pip_quiet[@]}" "maturin>=1.9,<2"
start=$(date +%s)
(
    cd "$repo"
    CARGO_TARGET_DIR="$repo/target/wheel" "$work/tools/bin/maturin" build \
        --profile "${PYSLIM_WHEEL_PROFILE:-release}" --out "$work/dist" --quiet
)
echo "built in $(($(date +%s) - start)) s"
wheel="$(ls "$work"/dist/pyslim-*.whl)"
echo "wheel: $(basename "$wheel"), $(du -k "$wheel" | cut -f1) KiB"

echo "== install into a fresh venv of $("$python" --version)"
"$python" -m venv "$work/venv"
start=$(date +%s%N)
"$work/venv/bin/python" -m pip install "${pip_quiet[@]}" "$wheel"
echo "installed in $((($(date +%s%N) - start) / 1000000)) ms"
pyslim="$work/venv/bin/pyslim"
"$pyslim" --version
if ldd "$pyslim" | grep -q libpython; then
    echo "FAIL: the wheel's binary loads libpython:" >&2
    ldd "$pyslim" >&2
    exit 1
fi
echo "ldd: no libpython ($(ldd "$pyslim" | wc -l) libraries, all system ones)"

echo "== the demo project, from that venv"
"$work/venv/bin/python" -m pip install "${pip_quiet[@]}" -r "$repo/tests/test-venv-requirements.txt"
cp -r "$repo/fixtures/projects/demo" "$work/demo"
cd "$work/demo"
export VIRTUAL_ENV="$work/venv" PATH="$work/venv/bin:$PATH"
unset PYTHONHOME

expect() {
    local want=$1
    shift
    echo "\$ $*"
    local code=0
    "$@" || code=$?
    if [ "$code" != "$want" ]; then
        echo "FAIL: exit $code, expected $want: $*" >&2
        exit 1
    fi
}
expect 1 pyslim check
expect 0 pyslim rewrite --dry-run
expect 0 pyslim rewrite --verify
# Everything the tests accepted is applied: nothing left to find.
expect 0 pyslim check --unsafe
echo "wheel smoke test passed"

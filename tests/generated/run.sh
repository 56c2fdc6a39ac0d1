#!/usr/bin/env bash
# Generated-program check: `pyslim rewrite` (safe, then --unsafe) on modules generated
# by hypothesmith must not panic, must report no internal error, must leave code that
# compiles, and must be idempotent. See rewrite_generated.py.
#
#   bash tests/generated/run.sh [N] [SEED]     (default 1000 modules, seed 0; needs PyPI)
#
# hypothesmith is installed into a throwaway venv under target/; pyslim is built in
# release mode (set PYSLIM to use another binary).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
rng_seed=${2:-0}
venv=target/hypothesmith-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import hypothesmith' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet hypothesmith==0.3.3
fi
if [ -z "${PYSLIM:-}" ]; then
    cargo build --release --quiet
    PYSLIM=target/release/pyslim
fi
exec "$venv/bin/python" tests/generated/rewrite_generated.py --pyslim "$PYSLIM" -n "$n" --seed "$rng_seed"

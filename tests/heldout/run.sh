#!/usr/bin/env bash
# Held-out check: `pyslim rewrite` (safe rewrites only) on real PyPI libraries, each
# proven by its own test suite: every test that passed before the rewrite must pass
# after, every rewritten file must compile, and a second rewrite must change nothing.
# See heldout.py; the projects and their pinned test dependencies are in projects.txt.
#
#   bash tests/heldout/run.sh [NAME ...]     (default: every project; needs PyPI)
#
# Sdists and virtualenvs are kept under target/heldout between runs; pyslim is built
# in release mode (set PYSLIM to use another binary). About 15 minutes on 2 cores the
# first time.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${PYSLIM:-}" ]; then
    cargo build --release --quiet
    PYSLIM=${CARGO_TARGET_DIR:-target}/release/pyslim
fi
exec python3 tests/heldout/heldout.py --pyslim "$PYSLIM" --work target/heldout "$@"

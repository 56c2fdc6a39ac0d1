#!/usr/bin/env bash
# Import check: `pyslim rewrite` on a copy of every package of a site-packages folder
# must not change which of its modules import (see imports.py).
#
#   bash tests/imports/run.sh [--unsafe] [--site DIR] [PACKAGE ...]
#
# By default the site-packages of the `python3` on PATH. pyslim is built in release
# mode (set PYSLIM to use another binary). Exits 1 when an import changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${PYSLIM:-}" ]; then
    cargo build --release --quiet
    PYSLIM=${CARGO_TARGET_DIR:-target}/release/pyslim
fi
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
exec python3 tests/imports/imports.py --pyslim "$PYSLIM" --site "$site" --work target/imports "$@"

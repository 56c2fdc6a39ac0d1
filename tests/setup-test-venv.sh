#!/usr/bin/env bash
# Creates the virtualenv the verification tests run pytest in: target/test-venv (or
# $PYSLIM_TEST_VENV), with the exact packages of tests/test-venv-requirements.txt.
# Idempotent: does nothing when the venv already holds those packages.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PYSLIM_TEST_VENV:-$repo/target/test-venv}"
req="$repo/tests/test-venv-requirements.txt"
# The venv must run the Python pyslim is linked against; PYO3_PYTHON selects it as
# it does for the build.
python="${PYO3_PYTHON:-python3}"
stamp="$venv/.pyslim-requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
cp "$req" "$stamp"
echo "test venv ready: $venv"

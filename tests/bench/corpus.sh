#!/usr/bin/env bash
# Runs pyslim on the real projects of a corpus set up by ../shared/corpus/setup.sh:
# per project, the findings per transform (safe, and unsafe ones withheld), then the
# test suite before and after `pyslim rewrite` (safe rewrites only, unless you pass
# --unsafe). The sources are restored afterwards, so the corpus stays reusable.
#
#   bash tests/bench/corpus.sh CORPUS_DIR [KEY...] [-- PYSLIM_ARGS...]
#   e.g. bash tests/bench/corpus.sh ~/corpus -- --select slots
#
# Test code inside SRC_PATHS (SRC_EXCLUDE in meta.env) is read for the analysis but not
# rewritten, as pyslim does with test files by default (README.md, "Test files"); the
# findings end with how many of the files checked were test files, only read.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
corpus=$(cd "${1:?usage: corpus.sh CORPUS_DIR [KEY...] [-- PYSLIM_ARGS...]}" && pwd)
shift
keys=() args=()
while (($#)); do
    if [[ $1 == -- ]]; then shift; args=("$@"); break; fi
    keys+=("$1"); shift
done
((${#keys[@]})) || mapfile -t keys < <(cut -d'|' -f1 "$corpus/corpus.index")
run_tests=${RUN_TESTS:-$here/../shared/corpus/run_tests.sh}
[[ -x $run_tests ]] || { echo "corpus.sh: set RUN_TESTS to the corpus run_tests.sh" >&2; exit 2; }
(cd "$here" && cargo build --release --quiet)
pyslim=$here/target/release/pyslim

suite() { # KEY -> "passed failed errors"
    "$run_tests" "$corpus" "$1" >/dev/null 2>&1 || true
    awk -F'\t' 'NR==2 {print $3, $4, $5}' "$corpus/results.tsv"
}

printf '%-11s %-34s %-18s %-18s %s\n' project "findings (safe+withheld unsafe)" "tests before" "tests after" status
for key in "${keys[@]}"; do
    project=$corpus/$key
    # shellcheck disable=SC1091
    src=$(. "$project/.corpus/meta.env"; echo "$SRC_PATHS")
    backup=$(mktemp -d)
    (cd "$project" && tar cf "$backup/src.tar" $src)
    before=$(suite "$key")
    # `check` exits 1 when it finds rewrites; only its JSON matters here.
    findings=$(cd "$project" && { "$pyslim" check --format json "${args[@]}" $src 2>/dev/null || true; } | python3 -c '
import json, sys, collections
r = json.load(sys.stdin)
c = collections.Counter()
for f in r["files"]:
    for x in f["fixes"]: c[(x["key"]["transform"], x["applicability"])] += 1
    for x in f["withheld"]: c[(x["key"]["transform"], "unsafe")] += 1
names = sorted({t for t, _ in c})
print(" ".join("%s:%d+%d" % (t, c[(t, "safe")], c[(t, "unsafe")]) for t in names) or "none", "errors:%d" % len(r["errors"]), "tests:%d" % r["test_files"])
' || echo "check failed")
    (cd "$project" && "$pyslim" rewrite "${args[@]}" $src >/dev/null 2>&1) || true
    after=$(suite "$key")
    (cd "$project" && tar xf "$backup/src.tar")
    rm -rf "$backup"
    status=ok
    read -r bp bf be <<<"$before"; read -r ap af ae <<<"$after"
    if [[ $af -gt $bf || $ae -gt $be || $ap -lt $bp ]]; then status=REGRESSED; fi
    printf '%-11s %-34s %-18s %-18s %s\n' "$key" "$findings" "$bp/$bf/$be" "$ap/$af/$ae" "$status"
done
echo "(tests: passed/failed/errors; findings: transform:safe+unsafe, then errors and test files only read)"

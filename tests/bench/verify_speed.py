"""`pyslim rewrite --verify --unsafe --repeat 1` against two plain pytest runs, per
project of a corpus set up by the shared corpus's setup.sh (issue: verification a user
can afford).

    python3 tests/bench/verify_speed.py CORPUS_DIR [KEY ...] [--pyslim BINARY] [--limit S]

For each project: the plain suite's wall time (`.corpus/test.sh`, the median of two
runs), then `pyslim rewrite --verify --unsafe --repeat 1 --dry-run` on its sources with
the same pytest arguments, its wall time, runs, culprit-search runs, and the rewrites
kept and dropped; the ratio is verify / (2 x plain). `--pyslim` compares another build
(an older commit's, for a before/after table). Nothing in the corpus is written: the
verification runs on temporary copies, and `--dry-run` writes no file.
"""

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def meta(project):
    out = {}
    for line in (project / ".corpus" / "meta.env").read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            out[key] = shlex.split(value)[0] if value.strip() not in ("", "''") else ""
    return out


def pytest_args(project):
    """The arguments after `"$@"` in .corpus/test.sh: the suite's own selection."""
    for line in (project / ".corpus" / "test.sh").read_text().splitlines():
        if line.startswith("exec ") and '"$@"' in line:
            return shlex.split(line.split('"$@"', 1)[1])
    return []


def environment(project):
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    for word in shlex.split(meta(project).get("TEST_ENV", "")):
        if "=" in word:
            key, value = word.split("=", 1)
            env[key] = value
    return env


def timed(cmd, cwd, env, limit=None):
    """Wall seconds and the finished process, or (seconds, None) past `limit`."""
    start = time.perf_counter()
    # Its own session, so a stop at the limit also ends the workers it started.
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return time.perf_counter() - start, None
    return time.perf_counter() - start, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("keys", nargs="*")
    parser.add_argument("--pyslim", default=str(HERE / "target" / "release" / "pyslim"))
    parser.add_argument(
        "--limit", type=float, default=None,
        help="stop a verification after this many seconds and print it as '>LIMIT'",
    )
    args = parser.parse_args()
    keys = args.keys or [
        line.split("|")[0]
        for line in (args.corpus / "corpus.index").read_text().splitlines()
        if line.strip()
    ]
    rows = []
    print(
        "%-11s %9s %9s %7s %6s %7s %12s" % ("project", "plain s", "verify s", "ratio", "runs", "search", "kept/dropped"),
        flush=True,
    )
    for key in keys:
        project = args.corpus / key
        env = environment(project)
        plain = []
        for _ in range(2):
            seconds, _ = timed(["bash", ".corpus/test.sh", "-q"], project, env)
            plain.append(seconds)
        plain_s = statistics.median(plain)
        sources = meta(project)["SRC_PATHS"].split()
        cmd = [
            args.pyslim, "rewrite", "--verify", "--unsafe", "--repeat", "1", "--dry-run",
            "--format", "json", "--venv", ".venv", *sources, "--tests", *pytest_args(project),
        ]
        seconds, proc = timed(cmd, project, env, args.limit)
        if proc is None:
            rows.append(seconds / (2 * plain_s))
            print("%-11s %9.2f %9s %7s  stopped at the limit" % (key, plain_s, ">%.0f" % seconds, ">%.2f" % rows[-1]), flush=True)
            continue
        try:
            report = json.loads(proc.stdout)["verify"]
        except (ValueError, KeyError):
            print("%-11s failed: %s" % (key, proc.stderr.strip().splitlines()[-1:]), flush=True)
            continue
        kept = sum(1 for f in report["fixes"] if f["kept"])
        dropped = len(report["fixes"]) - kept
        ratio = seconds / (2 * plain_s)
        rows.append(ratio)
        print(
            "%-11s %9.2f %9.2f %7.2f %6d %7d %12s"
            % (key, plain_s, seconds, ratio, report["runs"], report["bisection_runs"], "%d/%d" % (kept, dropped)),
            flush=True,
        )
        phases = ", ".join(
            "%s %d runs/%d tests/%.1fs" % (p["phase"], p["runs"], p["tests"], p["seconds"])
            for p in report.get("phases", [])
            if p["runs"]
        )
        if phases:
            print("%11s phases: %s" % ("", phases), flush=True)
    if rows:
        print("median ratio %.2f, max %.2f" % (statistics.median(rows), max(rows)))


if __name__ == "__main__":
    sys.exit(main())

"""What `pyslim profile` costs against the plain workload, on the workload fixture.

    python3 tests/bench/profile_overhead.py [--n 200000] [--runs 3] [--venv DIR]
        [--pyslim BIN] [--before BIN]

Interleaved, median of `--runs` each: `python bench.py --n N` (the plain workload),
`python -X tracemalloc bench.py --n N` (what tracing every allocation costs, for
scale), and `pyslim profile --workload "bench.py --n N"` (three runs of the workload,
plus the analysis); with `--before`, an older pyslim binary too, in the same rounds.
Prints each wall time and the ratios.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def timed(cmd, cwd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(map(str, cmd)), proc.stderr[-2000:]))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=HERE / "target" / "test-venv")
    parser.add_argument("--pyslim", type=Path, default=HERE / "target" / "release" / "pyslim")
    parser.add_argument("--before", type=Path, help="an older pyslim binary to compare")
    args = parser.parse_args()
    python = args.venv / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "workload"
        shutil.copytree(HERE / "fixtures" / "projects" / "workload", project)
        workload = ["bench.py", "--n", str(args.n)]
        plain, traced, profile, before = [], [], [], []

        def profiled(pyslim):
            command = [pyslim, "profile", "--workload", " ".join(workload), "--venv", args.venv]
            return timed(command, project)

        for _ in range(args.runs):
            plain.append(timed([python, *workload], project))
            traced.append(timed([python, "-X", "tracemalloc", *workload], project))
            profile.append(profiled(args.pyslim))
            if args.before:
                before.append(profiled(args.before))
    p, t, f = (statistics.median(x) for x in (plain, traced, profile))
    print("workload: python bench.py --n %d (median of %d, interleaved)" % (args.n, args.runs))
    print("  plain                 %6.2fs" % p)
    print("  python -X tracemalloc %6.2fs  %.1fx" % (t, t / p))
    print("  pyslim profile        %6.2fs  %.1fx" % (f, f / p))
    if before:
        b = statistics.median(before)
        print("  pyslim profile before %6.2fs  %.1fx" % (b, b / p))


if __name__ == "__main__":
    main()

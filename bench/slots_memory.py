"""Per-instance memory of slots fixture classes before and after `pyslim rewrite --select slots`.

Copies two fixtures (fixtures/slots/crlf_tabs.py: `Tabbed`, 2 attributes; and the
package of fixtures/slots/inheritance: `pkg.models.Model`, 3 attributes over a
two-class hierarchy) into a "before" and an "after" folder, rewrites "after" with the
pyslim binary (safe fixes only), then creates N instances of each class in a fresh
interpreter per measurement and prints the tracemalloc peak per instance. The list
holding the instances is allocated before tracing starts, so the peak is the instances
alone. Runs are interleaved (before, after, before, ...), 3 each; median (min-max).

    cargo build --release && python3 bench/slots_memory.py [--pyslim target/release/pyslim] [-n 1000000]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MEASURE = r"""
import sys, tracemalloc
sys.path.insert(0, sys.argv[1])
n = int(sys.argv[2])
which = sys.argv[3]
if which == "Tabbed":
    from crlf_tabs import Tabbed as make
    args = ()
else:
    from pkg.models import Model
    make = Model
    args = (1, "name")
items = [None] * n
tracemalloc.start()
for i in range(n):
    items[i] = make(*args)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(peak / n, hasattr(items[0], "__dict__"))
"""

CLASSES = [("Tabbed", 2), ("Model", 3)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyslim", default=os.path.join(ROOT, "target", "release", "pyslim"))
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for variant in ("before", "after"):
            d = os.path.join(tmp, variant)
            os.makedirs(d)
            shutil.copy(os.path.join(ROOT, "fixtures", "slots", "crlf_tabs.py"), d)
            shutil.copytree(
                os.path.join(ROOT, "fixtures", "slots", "inheritance", "pkg"),
                os.path.join(d, "pkg"),
            )
            dirs[variant] = d
        rewrite = subprocess.run(
            [args.pyslim, "rewrite", "--select", "slots", "."],
            cwd=dirs["after"],
            capture_output=True,
            text=True,
        )
        print(rewrite.stdout + rewrite.stderr, end="")
        if rewrite.returncode != 0:
            sys.exit(f"pyslim rewrite failed with exit code {rewrite.returncode}")

        print(f"python {sys.version.split()[0]}, n = {args.n:,}, {args.runs} interleaved runs each")
        for name, attributes in CLASSES:
            results = {"before": [], "after": []}
            has_dict = {}
            for _ in range(args.runs):
                for variant in ("before", "after"):
                    out = subprocess.run(
                        [sys.executable, "-c", MEASURE, dirs[variant], str(args.n), name],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout.split()
                    results[variant].append(float(out[0]))
                    has_dict[variant] = out[1]
            line = f"{name} ({attributes} attributes):"
            for variant in ("before", "after"):
                r = results[variant]
                line += (
                    f"  {variant} {statistics.median(r):.1f} B"
                    f" ({min(r):.1f}-{max(r):.1f}, __dict__: {has_dict[variant]})"
                )
            saved = statistics.median(results["before"]) - statistics.median(results["after"])
            print(f"{line}  saved {saved:.1f} B per instance")


if __name__ == "__main__":
    main()

"""Import check: pyslim's rewrites of installed packages must not change what imports.

For every top-level package of a site-packages folder (each a project of its own, in a
copy under the work folder), `pyslim rewrite` (safe only, or with --unsafe) is run, and
every module of the package is imported before and after, each in the same fresh
interpreter per package with a per-module time limit. A module whose import result
changes (it imported and no longer does, or fails another way) is reported.

A safe rewrite must change none. An unsafe one that does shows a rewrite that is not
merely unproven but certainly wrong (a slot clashing with a class variable, a base
making its own slots), which deserves a rule that skips it.

Only imports run, not the packages' tests: what breaks only when code runs is the
held-out check's to find (tests/heldout).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Run in the child interpreter: imports every module under ROOT/PACKAGE, prints a JSON
# map of module -> "ok" or the exception.
IMPORTER = r"""
import contextlib, importlib, io, json, os, signal, sys
root, package, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root)
modules = []
for folder, dirs, files in os.walk(os.path.join(root, package)):
    dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("test"))
    for f in sorted(files):
        if f.endswith(".py") and not f.startswith("test"):
            name = os.path.relpath(os.path.join(folder, f), root)[:-3].replace(os.sep, ".")
            modules.append(name[: -len(".__init__")] if name.endswith(".__init__") else name)
def expire(*_):
    raise TimeoutError(f"import took over {limit} s")
signal.signal(signal.SIGALRM, expire)
result = {}
for name in sorted(modules):
    signal.alarm(limit)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(name)
        result[name] = "ok"
    except BaseException as e:  # SystemExit and KeyboardInterrupt from a module too
        result[name] = f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        signal.alarm(0)
sys.__stdout__.write(json.dumps(result) + "\n")
"""


def packages(site):
    """The top-level packages of `site` that hold Python files."""
    for name in sorted(os.listdir(site)):
        path = os.path.join(site, name)
        if (
            not os.path.isdir(path)
            or name == "__pycache__"
            or name.endswith((".dist-info", ".egg-info", ".data"))
            or not os.path.exists(os.path.join(path, "__init__.py"))
        ):
            continue
        yield name


def imports(python, root, package, limit):
    """Module -> import result, for the package `package` under `root`."""
    try:
        done = subprocess.run(
            [python, "-c", IMPORTER, root, package, str(limit)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=root,
        )
    except subprocess.TimeoutExpired:
        return None
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pyslim", required=True)
    parser.add_argument("--site", required=True, help="a site-packages folder")
    parser.add_argument("--python", default=sys.executable, help="the interpreter of --site")
    parser.add_argument("--work", help="where the copies go (default: a temporary folder)")
    parser.add_argument("--unsafe", action="store_true", help="apply unsafe rewrites too")
    parser.add_argument("--limit", type=int, default=20, help="seconds per module import")
    parser.add_argument("only", nargs="*", help="these packages only")
    args = parser.parse_args()
    work = os.path.abspath(args.work or tempfile.mkdtemp(prefix="pyslim-imports-"))
    flags = ["--unsafe"] if args.unsafe else []
    changed_packages = 0
    for package in packages(args.site):
        if args.only and package not in args.only:
            continue
        root = os.path.join(work, package)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        shutil.copytree(
            os.path.join(args.site, package),
            os.path.join(root, package),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        # A project of its own: its root is here, not a folder above.
        open(os.path.join(root, "pyproject.toml"), "w").close()
        before = imports(args.python, root, package, args.limit)
        run = subprocess.run(
            [args.pyslim, "rewrite", *flags, "."], cwd=root, capture_output=True, text=True
        )
        summary = (run.stdout.strip().splitlines() or run.stderr.strip().splitlines() or [""])[-1]
        if run.returncode not in (0, 1):
            print(f"{package}: pyslim exited {run.returncode}: {run.stderr.strip()[-300:]}")
            changed_packages += 1
            continue
        after = imports(args.python, root, package, args.limit)
        if before is None or after is None:
            print(f"{package}: the imports did not finish")
            continue
        changed = [m for m in before if before[m] != after.get(m, "missing")]
        ok = sum(v == "ok" for v in before.values())
        print(f"{package}: {len(before)} modules, {ok} import; {len(changed)} changed ({summary})")
        for m in changed[:5]:
            print(f"    {m}: {before[m]!r} -> {after.get(m)!r}")
        changed_packages += bool(changed)
    print(f"packages with a changed import: {changed_packages}; copies in {work}")
    sys.exit(1 if changed_packages else 0)


if __name__ == "__main__":
    main()

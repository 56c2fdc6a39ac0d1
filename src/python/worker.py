# pyslim's verification worker, Python side. Shipped inside the pyslim binary and run
# either in the embedded interpreter (`pyslim __worker SPEC.json`) or, when the venv's
# Python differs from the linked libpython, as `<venv>/bin/python plugin.py SPEC.json`.
#
# It runs pytest once on the working copy with a plugin that records, per test, the
# outcome, the duration and (when asked) the tracemalloc peak over setup, call and
# teardown, then writes the result file. The result file is written last and renamed
# into place, so its presence means pytest returned normally.
import json
import os
import sys
import time
import tracemalloc

# From the venv: the worker starts the interpreter as the venv before loading this file.
import pytest


class _Recorder:
    """The pytest plugin: one record per test id."""

    def __init__(self, memory, progress_path, only):
        self.memory = memory
        self.only = set(only) if only is not None else None
        self.tests = {}
        self.progress = open(progress_path, "a", buffering=1) if progress_path else None

    def _mark(self, line):
        if self.progress is not None:
            self.progress.write(line + "\n")

    def pytest_collection_modifyitems(self, session, config, items):
        # Culprit searches run only the tests that broke (everything is still collected,
        # so import-time failures still show).
        if self.only is None:
            return
        keep = [item for item in items if item.nodeid in self.only]
        dropped = [item for item in items if item.nodeid not in self.only]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def pytest_collection_finish(self, session):
        self._mark("collected %d" % len(session.items))

    def _record(self, nodeid):
        return self.tests.setdefault(
            nodeid, {"outcome": "passed", "duration": 0.0, "peak": None}
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        # Peak relative to what was allocated before the test began: reset the peak to
        # the current size, run setup, call and teardown, and read the peak again.
        if self.memory:
            tracemalloc.reset_peak()
            start, _ = tracemalloc.get_traced_memory()
        try:
            return (yield)
        finally:
            if self.memory:
                _, peak = tracemalloc.get_traced_memory()
                self._record(item.nodeid)["peak"] = max(0, peak - start)
            self._mark("done")


    def pytest_runtest_logreport(self, report):
        rec = self._record(report.nodeid)
        rec["duration"] += report.duration
        # The worst phase decides: a passing call with a failing teardown is an error.
        if report.failed:
            rec["outcome"] = "failed" if report.when == "call" else "error"
        elif report.skipped and rec["outcome"] == "passed":
            rec["outcome"] = "skipped"


def _remap_paths(original, copy, venv):
    # An editable install points at the user's files; make it point at the working copy
    # so the tests import the rewritten code. The venv (often inside the project) and
    # anything the copy lacks keep their place.
    original = os.path.realpath(original)
    venv = os.path.realpath(venv)

    def under(path, folder):
        return path == folder or path.startswith(folder + os.sep)

    def remap(path):
        if not isinstance(path, str) or not path:
            return path
        real = os.path.realpath(path)
        if under(real, original) and not under(real, venv):
            moved = copy + real[len(original):]
            if os.path.exists(moved):
                return moved
        return path

    sys.path[:] = [remap(p) for p in sys.path]
    for finder in sys.meta_path:
        mapping = getattr(finder, "MAPPING", None)
        if isinstance(mapping, dict):
            for key in list(mapping):
                mapping[key] = remap(mapping[key])
    return remap


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    sys.dont_write_bytecode = True
    workdir = spec["workdir"]
    os.chdir(workdir)
    _remap_paths(spec["original_root"], workdir, spec["venv"])
    # As `python -m pytest` does: the current folder first on sys.path.
    sys.path.insert(0, workdir)
    if spec["memory"]:
        tracemalloc.start()
    started = time.monotonic()

    recorder = _Recorder(spec["memory"], spec.get("progress"), spec.get("only"))
    args = ["-p", "no:cacheprovider"] + list(spec["args"])
    code = int(pytest.main(args, plugins=[recorder]))
    result = {
        "exit_code": code,
        "collected": len(recorder.tests),
        "seconds": time.monotonic() - started,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "tests": recorder.tests,
    }
    tmp = spec["result"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, spec["result"])
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    # Run as a script: its own folder is not the project's business.
    del sys.path[0]
    sys.exit(main(sys.argv[1]))

# pyslim worker: the pytest plugin. One record per test id: the outcome, the duration
# and (when a meter runs) the peak traced bytes over setup, call and teardown, and
# (when the working copy is instrumented) the code units the test reached. Collection
# errors are recorded per test module, and after collection, which project modules
# each test module can reach through its globals.
import os
import sys
import time
import types

import pytest


class Recorder:
    def __init__(self, meter, progress_path, only, hits, is_project_file):
        self.root = os.getcwd()
        self.meter = meter
        self.only = set(only) if only is not None else None
        self.hits = hits
        self.is_project_file = is_project_file
        self.tests = {}
        self.collection_errors = []
        self.collect_hits = {}
        self.module_refs = {}
        self.progress = open(progress_path, "a", buffering=1) if progress_path else None

    def _mark(self, line):
        if self.progress is not None:
            self.progress.write(line + "\n")

    def pytest_collectreport(self, report):
        if self.hits is not None:
            reached = self.hits.take()
            if reached:
                self.collect_hits.setdefault(report.nodeid, []).extend(reached)
        if report.failed:
            text = str(report.longrepr)
            self.collection_errors.append(
                {
                    "nodeid": report.nodeid,
                    "text": text[-4000:],
                    "files": traceback_files(text, self.root),
                }
            )

    def pytest_collection_modifyitems(self, session, config, items):
        # Culprit searches and memory runs run only some tests (everything is still
        # collected, so import-time failures still show).
        if self.only is None:
            return
        keep = [item for item in items if item.nodeid in self.only]
        dropped = [item for item in items if item.nodeid not in self.only]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def pytest_sessionstart(self, session):
        self.root = str(session.config.rootpath)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if report.failed and call.excinfo is not None:
            # Read from the exception itself, whatever `--tb` style formats the report:
            # the project files its traceback goes through (where a culprit is likely
            # to be) and its first line.
            rec = self._record(item.nodeid)
            files = rec.setdefault("files", [])
            for entry in call.excinfo.traceback:
                name = _relative(str(entry.path), self.root)
                if name is not None and name.endswith(".py") and name not in files:
                    files.append(name)
            lines = call.excinfo.exconly().strip().splitlines()
            if lines:
                rec["error"] = lines[0][:300]
        return report

    def pytest_collection_finish(self, session):
        self._mark("collected %d" % len(session.items))
        if self.hits is not None:
            self.module_refs = module_references(session.items, self.is_project_file)

    def _record(self, nodeid):
        return self.tests.setdefault(
            nodeid, {"outcome": "passed", "duration": 0.0, "peak": None}
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        # Peak relative to what was allocated before the test began.
        if self.meter is not None:
            self.meter.reset_peak()
            start = self.meter.current()
        if self.hits is not None:
            self.hits.take()
        try:
            return (yield)
        finally:
            rec = self._record(item.nodeid)
            if self.meter is not None:
                rec["peak"] = max(0, self.meter.peak() - start)
            if self.hits is not None:
                rec["hits"] = self.hits.take()
            self._mark("done")

    def pytest_runtest_logreport(self, report):
        rec = self._record(report.nodeid)
        rec["duration"] += report.duration
        # The worst phase decides: a passing call with a failing teardown is an error.
        if report.failed:
            rec["outcome"] = "failed" if report.when == "call" else "error"
        elif report.skipped and rec["outcome"] == "passed":
            rec["outcome"] = "skipped"


_FRAME = None


def traceback_files(text, root):
    """The `.py` files under `root` a collection error's traceback names, innermost
    last: pytest's own style (`path/to/x.py:12: in f`) or Python's (`File "...",
    line 12`, which `--tb=native` prints)."""
    global _FRAME
    import re

    if _FRAME is None:
        _FRAME = re.compile(
            r'^([^\s:][^:\n]*\.py):\d+|^\s*File "([^"\n]+\.py)", line \d+', re.MULTILINE
        )
    seen = []
    for pytest_style, native in _FRAME.findall(text):
        name = _relative(pytest_style or native, root)
        if name is not None and name not in seen:
            seen.append(name)
    return seen


def _relative(path, root):
    """`path` relative to the rootdir, or None outside it (the venv, the stdlib)."""
    if not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return None
    return None if rel.startswith("..") else rel


def module_references(items, is_project_file):
    """Test module file -> project module files reachable through module globals
    (module objects, and the modules of the functions and classes they hold)."""
    by_name = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(module, types.ModuleType) and file:
            by_name[name] = module
    direct = {}

    def refs(module):
        found = direct.get(module.__name__)
        if found is not None:
            return found
        found = set()
        for value in list(vars(module).values()):
            if isinstance(value, types.ModuleType):
                target = value.__name__
            else:
                target = getattr(value, "__module__", None)
                if not isinstance(target, str):
                    continue
            if target in by_name and target != module.__name__:
                found.add(target)
        # A package's submodules, and a module's package (its __init__ ran first).
        parent = module.__name__.rpartition(".")[0]
        if parent in by_name:
            found.add(parent)
        direct[module.__name__] = found
        return found

    out = {}
    seen_tests = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or module.__name__ in seen_tests:
            continue
        seen_tests.add(module.__name__)
        reach = set()
        todo = [module.__name__]
        while todo:
            name = todo.pop()
            if name in reach:
                continue
            reach.add(name)
            todo.extend(refs(by_name[name]) if name in by_name else ())
        files = sorted(
            f
            for f in (getattr(by_name.get(n), "__file__", None) for n in reach)
            if f and is_project_file(f)
        )
        out[module.__file__] = files
    return out


def narrowed(args, only):
    """The user's arguments with their test paths replaced by the files of `only` (or
    the folders of some, below): pytest then collects just those. A path right after an
    option is kept (it may be the option's value, as in `-c tox.ini`)."""
    import os

    files = {test.split("::", 1)[0] for test in only}
    if not all(os.path.exists(m) for m in files):
        # Node ids relative to a rootdir elsewhere: collect as the user would.
        return list(args)
    # A `.py` file given on the command line is imported as a test module whatever
    # `python_files` says: one only a conftest hook collects (pygments collects its
    # example sources as lexer tests) would fail to import. Such a file's folder is
    # given instead, where pytest collects as it did at baseline.
    paths = {m if _collected_as_given(m) else os.path.dirname(m) or "." for m in files}
    folders = [os.path.abspath(p) for p in paths if os.path.isdir(p)]

    def inside_a_folder(path):
        path = os.path.abspath(path)
        return any(path != f and os.path.commonpath([path, f]) == f for f in folders)

    modules = sorted(p for p in paths if not inside_a_folder(p))
    kept = []
    previous = None
    for arg in args:
        positional = not arg.startswith("-")
        value_of_option = previous is not None and previous.startswith("-") and "=" not in previous
        if positional and not value_of_option and os.path.exists(arg.split("::", 1)[0]):
            previous = arg
            continue
        kept.append(arg)
        previous = arg
    return kept + modules


def _collected_as_given(path):
    """Whether pytest, given `path` on the command line, collects it as the whole
    suite's run did: anything but a `.py` file pytest would not take for a test module
    by its default names (`test_*.py`, `*_test.py`)."""
    import os

    name = os.path.basename(path)
    return not name.endswith(".py") or name.startswith("test_") or name.endswith("_test.py")


def run_pytest(spec, meter, hits, is_project_file):
    recorder = Recorder(meter, spec.get("progress"), spec.get("only"), hits, is_project_file)
    user_args = list(spec["args"])
    if spec.get("only"):
        # Only some tests run: collect only their modules (collecting a large suite
        # costs more than the few tests a culprit search runs).
        user_args = narrowed(user_args, spec["only"])
    # Python's own traceback format: pytest's default style costs ~40 ms a failure
    # (click with one bad slots fix: 1,141 failures, 8.1 s for one test module
    # against 1.9 s). The user's own `--tb` comes later and wins.
    args = ["-p", "no:cacheprovider", "--tb=native"] + user_args
    started = time.monotonic()
    code = int(pytest.main(args, plugins=[recorder]))
    return code, {
        "collected": len(recorder.tests),
        "tests": recorder.tests,
        "collection_errors": recorder.collection_errors,
        "collect_hits": recorder.collect_hits,
        "module_refs": recorder.module_refs,
        "seconds": time.monotonic() - started,
    }

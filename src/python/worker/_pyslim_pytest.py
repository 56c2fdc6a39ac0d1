# pyslim worker: the pytest plugin. One record per test id: the outcome, the duration
# and (when a meter runs) the peak traced bytes over setup, call and teardown, and
# (when the working copy is instrumented) the code units the test reached. Collection
# errors are recorded per test module, and after collection, which project modules
# each test module can reach through its globals.
import sys
import time
import types

import pytest


class Recorder:
    def __init__(self, meter, progress_path, only, hits, is_project_file):
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
            self.collection_errors.append(
                {"nodeid": report.nodeid, "text": str(report.longrepr)[-4000:]}
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


class Hits:
    """The instrumented units a test reached (`__pyslim_hit__(ID)` calls)."""

    def __init__(self, native):
        self.native = native
        self._seen = set()
        if native is not None:
            self.hit = native.hit
        else:
            self.hit = self._seen.add

    def take(self):
        if self.native is not None:
            return self.native.take_hits()
        out = sorted(self._seen)
        self._seen.clear()
        return out


def run_pytest(spec, meter, hits, is_project_file):
    recorder = Recorder(meter, spec.get("progress"), spec.get("only"), hits, is_project_file)
    args = ["-p", "no:cacheprovider"] + list(spec["args"])
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

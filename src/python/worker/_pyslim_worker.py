# pyslim's worker, Python side. Shipped inside the pyslim binary, written next to the
# run's spec, and run either in the embedded interpreter (`pyslim __worker SPEC.json`)
# or, when the venv's Python differs from the linked libpython, as
# `<venv>/bin/python _pyslim_worker.py SPEC.json`.
#
# One run, one target: the project's pytest suite (with a plugin recording each test)
# or the user's workload (a script or `-m module`, run as `python <workload>` would).
# Optionally under a meter (per-test peaks, or the whole run's peak with the sites at
# the peak), with a census of the heap when memory reaches a given level, with probes
# in an instrumented working copy, or recording which instrumented code each test
# reached. The result file is written last and renamed into place, so its presence
# means the target returned normally.
import json
import os
import sys
import time
import traceback

# Imported while the worker's own folder is first on sys.path; it moves to the end
# before the project's code runs.
import _pyslim_meter


def _remap_paths(original, copy, venv):
    # An editable install points at the user's files; make it point at the working copy
    # so the target imports the rewritten code. The venv (often inside the project) and
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
        # setuptools' editable finders keep MAPPING as a global of their module.
        owner = sys.modules.get(getattr(finder, "__module__", None) or "")
        for mapping in (getattr(finder, "MAPPING", None), getattr(owner, "MAPPING", None)):
            if isinstance(mapping, dict):
                for key in list(mapping):
                    mapping[key] = remap(mapping[key])
    return remap


def _project_files(workdir, venv, code_dir):
    """A predicate: is this file the project's code (in the working copy, outside the
    venv and pyslim's own folder)?"""
    root = os.path.realpath(workdir) + os.sep
    skip = [os.path.realpath(venv) + os.sep, os.path.realpath(code_dir) + os.sep]
    cache = {}

    def is_project_file(path):
        hit = cache.get(path)
        if hit is None:
            real = os.path.realpath(path)
            hit = real.startswith(root) and not any(real.startswith(s) for s in skip)
            cache[path] = hit
        return hit

    return is_project_file


def _run_workload(argv):
    """Runs the workload as `python argv...` would; returns its exit code."""
    import runpy

    try:
        if argv[0] == "-m":
            sys.argv = [argv[1]] + list(argv[2:])
            # As `python -m`: the current folder first on sys.path.
            sys.path.insert(0, os.getcwd())
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            script = os.path.abspath(argv[0])
            sys.argv = [argv[0]] + list(argv[1:])
            # As `python script.py`: the script's folder first on sys.path.
            sys.path.insert(0, os.path.dirname(script))
            runpy.run_path(script, run_name="__main__")
        return 0, None
    except SystemExit as exit:
        code = exit.code
        if code is None:
            return 0, None
        if isinstance(code, int):
            return code, None
        print(code, file=sys.stderr)
        return 1, None
    except BaseException:
        text = traceback.format_exc()
        sys.stderr.write(text)
        return 1, text[-4000:]


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


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    code_dir = os.path.dirname(os.path.abspath(__file__))
    # pyslim's modules stay importable (some load lazily), but last: the project's
    # own modules always win.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != code_dir]
    sys.path.append(code_dir)
    sys.dont_write_bytecode = True
    workdir = spec["workdir"]
    os.chdir(workdir)
    _remap_paths(spec["original_root"], workdir, spec["venv"])
    is_project_file = _project_files(workdir, spec["venv"], code_dir)

    # Before anything imports the project: an instrumented module binds the hook when
    # it is imported (see `hooks_edit`), and one imported earlier keeps a stand-in for
    # good. `import pytest` alone imports pytest's own dependencies, such as pygments:
    # with the hook installed after it, none of pygments' instrumented code was ever
    # seen reached, and its tests' failures looked unrelated to every rewrite.
    hits = None
    if spec.get("hits"):
        import builtins

        hits = Hits(_pyslim_meter._native)
        builtins.__pyslim_hit__ = hits.hit

    # pyslim's own modules are imported before the meter starts, so the start level
    # holds them: runs with and without a census or probes then count the workload
    # alike, and a census level taken from another run lands where it should.
    if spec.get("census") is not None:
        import _pyslim_census
    if spec.get("probes"):
        import _pyslim_probes
    meter_mode = spec.get("meter", "off")
    meter = None
    if meter_mode != "off":
        meter = _pyslim_meter.Meter(sample_sites=meter_mode == "peak")
    census = trigger = None
    if spec.get("census") is not None:
        mine = code_dir + os.sep
        census = _pyslim_census.Census(meter, is_project_file, lambda f: f.startswith(mine))
        above = spec["census"].get("above_start")
        at = None if above is None else meter.start + above
        follow = spec["census"].get("follow")
        trigger = _pyslim_meter.Trigger(meter, census.take, at=at, follow=follow)
    probes = None
    if spec.get("probes"):
        probes = _pyslim_probes.Probes(is_project_file)
        probes.install()
    target = spec["target"]
    if meter is not None and "pytest" not in target:
        meter.reset_peak()
    lead = spec.get("lead") if meter is not None and meter.native else None
    if lead:
        meter.lead(lead)
    started = time.monotonic()
    result = {}
    if trigger is not None:
        trigger.start()
    if "pytest" in target:
        import _pyslim_pytest

        # As `python -m pytest` does: the current folder first on sys.path.
        sys.path.insert(0, workdir)

        per_test = meter if meter_mode == "per-test" else None
        code, result = _pyslim_pytest.run_pytest(
            dict(target["pytest"], progress=spec.get("progress")),
            per_test,
            hits,
            is_project_file,
        )
    else:
        code, error = _run_workload(target["workload"]["argv"])
        result["error"] = error
        if hits is not None:
            result["hits"] = hits.take()
    seconds = time.monotonic() - started
    if lead:
        meter.lead_final()
    if trigger is not None:
        trigger.stop()
    # Everything below is pyslim's own work: measured figures are read first.
    if meter is not None:
        result["traced"] = {
            "meter": meter.name,
            "start": meter.start,
            "peak": meter.peak(),
            "end": meter.current(),
        }
        if meter_mode == "peak":
            token = meter.pause()
            mine = code_dir + os.sep
            result["peak_sites"] = meter.peak_sites(50, lambda file: file.startswith(mine))
            meter.resume(token)
        meter.stop()
    if census is not None:
        result["census"] = census.result
    if probes is not None:
        result["probes"] = probes.report()
    result["modules"] = _modules_seen(spec.get("modules") or {}, workdir)
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    # Whether the target started processes and waited for one (`subprocess`,
    # `multiprocessing`). Their peak RSS says nothing of their own memory: a forked
    # child's high-water mark starts at what it shares with this process, and
    # survives its exec.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.update(
        {
            "exit_code": code,
            "seconds": seconds,
            "python": sys.version.split()[0],
            "executable": sys.executable,
            "maxrss_kib": usage.ru_maxrss,
            "started_processes": children.ru_maxrss > 0,
        }
    )
    tmp = spec["result"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, spec["result"])
    _exit_without_teardown(code)


def _modules_seen(modules, workdir):
    """Which of the project's modules (`modules`: dotted name -> path in the project)
    the target imported from the working copy, and which from another copy of the
    project: a file elsewhere whose path ends as the module's does (`.../pkg/mod.py`),
    as when the venv holds the project installed from another folder. Code run from
    there is not the code pyslim rewrote and measures."""
    local = 0
    foreign = []
    for name, relative in modules.items():
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        real = os.path.realpath(file)
        if real == os.path.realpath(os.path.join(workdir, relative)):
            local += 1
            continue
        leaf = "__init__.py" if relative.endswith("__init__.py") else ""
        tail = os.path.join(*name.split("."), leaf) if leaf else os.path.join(*name.split(".")) + ".py"
        if real.endswith(os.sep + tail):
            foreign.append([name, file])
    return {"local": local, "foreign": foreign}


def _exit_without_teardown(code):
    """Ends the process as interpreter shutdown would for everything a program can
    observe (non-daemon threads joined, atexit handlers run, standard streams flushed),
    without tearing the heap down: freeing every object and the collections that go
    with it cost a fifth of a run on a heap of many small cycles (click's), and
    nothing of it reaches the result, which is already written."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

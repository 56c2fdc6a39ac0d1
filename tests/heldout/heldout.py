"""Held-out check: `pyslim rewrite` (safe rewrites only) on real PyPI libraries nobody
here wrote, proven by their own test suites.

    bash tests/heldout/run.sh [NAME ...]     (default: every project in projects.txt)

For each project of projects.txt: downloads its sdist (pinned version), unpacks it
afresh under the work folder, makes a virtualenv with the project installed editable
and its pinned test dependencies (kept between runs), and runs its suite once as it
is. Then rewrites the package folder with `pyslim rewrite`, checks that every rewritten
file compiles and that a second `pyslim rewrite --dry-run` proposes nothing
(idempotence), and runs the suite again. Every test that passed before must pass after
(tests that fail on this machine before the rewrite, e.g. for its time-zone data, are
left out of the comparison and listed). Prints a line per project; exits 1 when any
project regresses or cannot be set up, naming it and what went wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Project:
    name: str
    version: str
    package: str
    pytest_args: list[str]
    deps: list[str]
    env: dict[str, str]


def read_projects(path: Path) -> list[Project]:
    projects = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 6:
            sys.exit(f"{path}:{number}: expected 6 '|'-separated fields, found {len(fields)}")
        name, version, package, args, deps, env = fields
        projects.append(
            Project(
                name,
                version,
                package,
                args.split(),
                deps.split(),
                dict(word.split("=", 1) for word in env.split()),
            )
        )
    return projects


def run(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> int:
    with log.open("w") as out:
        return subprocess.run(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False
        ).returncode


def unpack(archive: Path, into: Path) -> Path:
    """Unpacks an sdist into `into` (emptied first); returns its top folder."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
    else:
        with tarfile.open(archive) as t:
            t.extractall(into, filter="data")
    (top,) = into.iterdir()
    return top


def outcomes(junit: Path) -> dict[str, str]:
    """Each test's outcome in a JUnit XML report: passed, failure, error or skipped."""
    result = {}
    for case in ET.parse(junit).iter("testcase"):
        key = f"{case.get('classname', '')}::{case.get('name')}"
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = child.tag
                break
        result[key] = status
    return result


class Failed(Exception):
    pass


def check(project: Project, pyslim: Path, work: Path) -> str:
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = lambda step: logs / f"{project.name}.{step}.log"  # noqa: E731
    spec = f"{project.name}=={project.version}"
    sdists = work / "sdists" / project.name
    sdists.mkdir(parents=True, exist_ok=True)
    if not any(sdists.iterdir()):
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        if run([*pip, "-d", str(sdists), spec], work, log("download")) != 0:
            raise Failed(f"cannot download {spec} (see {log('download')})")
    (archive,) = sdists.iterdir()
    tree = unpack(archive, work / "src" / project.name)
    venv = work / "venvs" / f"{project.name}-{project.version}"
    python = venv / "bin" / "python"
    if not python.exists():
        if run([sys.executable, "-m", "venv", str(venv)], work, log("venv")) != 0:
            raise Failed(f"cannot make a virtualenv (see {log('venv')})")
    # Reinstalled every run, at the cost of a package build: the tree is unpacked afresh,
    # so what the last install built inside it (an egg-info, say) is gone.
    install = [str(python), "-m", "pip", "install", "-q", "-e", ".", "pytest==9.2.0"]
    if run([*install, *project.deps], tree, log("install")) != 0:
        raise Failed(f"cannot install {spec} and its test dependencies (see {log('install')})")
    env = {**os.environ, **project.env}
    pytest = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    pytest += project.pytest_args

    def suite(step: str) -> dict[str, str]:
        junit = logs / f"{project.name}.{step}.xml"
        junit.unlink(missing_ok=True)
        run([*pytest, f"--junitxml={junit}"], tree, log(step), env)
        if not junit.exists():
            raise Failed(f"the suite did not run (see {log(step)})")
        return outcomes(junit)

    before = suite("before")
    if not any(s == "passed" for s in before.values()):
        raise Failed(f"no test passes before the rewrite (see {log('before')})")
    pristine = work / "pristine" / project.name
    shutil.rmtree(pristine, ignore_errors=True)
    shutil.copytree(tree / project.package, pristine)
    if run([str(pyslim), "rewrite", project.package], tree, log("rewrite")) != 0:
        raise Failed(f"pyslim rewrite failed (see {log('rewrite')})")
    changed = [
        path
        for path in sorted((tree / project.package).rglob("*.py"))
        if path.read_bytes() != (pristine / path.relative_to(tree / project.package)).read_bytes()
    ]
    for path in changed:
        if run([str(python), "-m", "py_compile", str(path)], tree, log("compile")) != 0:
            raise Failed(f"{path.relative_to(tree)} does not compile after the rewrite")
    again = subprocess.run(
        [str(pyslim), "rewrite", "--dry-run", project.package],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if again.returncode != 0 or again.stdout.strip():
        raise Failed(f"a second rewrite is not empty:\n{again.stdout[:2000]}{again.stderr[-2000:]}")
    after = suite("after")
    regressions = [k for k, s in before.items() if s == "passed" and after.get(k) != "passed"]
    if regressions:
        shown = "\n".join(f"    {k}: {after.get(k, 'missing')}" for k in regressions[:20])
        raise Failed(
            f"{len(regressions)} tests passed before the rewrite and not after "
            f"(see {log('after')}):\n{shown}"
        )
    passed = sum(s == "passed" for s in before.values())
    failing = sorted(k for k, s in before.items() if s in ("failure", "error"))
    note = f"; failing before the rewrite, left out: {', '.join(failing)}" if failing else ""
    return f"{len(changed)} files rewritten, {passed} tests pass before and after{note}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyslim", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("names", nargs="*", help="projects to check (default: all)")
    options = parser.parse_args()
    projects = read_projects(HERE / "projects.txt")
    unknown = set(options.names) - {p.name for p in projects}
    if unknown:
        sys.exit(f"not in projects.txt: {', '.join(sorted(unknown))}")
    failed = 0
    for project in projects:
        if options.names and project.name not in options.names:
            continue
        try:
            print(f"ok    {project.name}=={project.version}: "
                  f"{check(project, options.pyslim.resolve(), options.work.resolve())}", flush=True)
        except Failed as err:
            failed += 1
            print(f"FAIL  {project.name}=={project.version}: {err}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

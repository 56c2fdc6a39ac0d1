"""Re-measures every memory figure pyslim quotes, on each CPython given, and prints
the tables of docs/memory-figures.md (one column per version).

The figures are the ones in transforms/src/figures.rs (slots per instance, list and
array bytes per element) and the ones the transforms' messages and `pyslim explain`
texts cite (generator peaks, list vs tuple, list vs deque). Every number is measured
in a fresh child interpreter, so one measurement cannot inherit another's free lists;
bytes are tracemalloc's ("traced": what Python asked its allocators for), except
where a row says `sys.getsizeof`. Nothing is timed: timings on a shared machine vary
too much to quote, and pyslim quotes none of these.

    python3 tests/bench/memory_figures.py                  # every pyenv CPython 3.9-3.13
    python3 tests/bench/memory_figures.py python3.12 ...   # the interpreters given

Without arguments the interpreters are `$PYENV_ROOT/versions/3.{9..13}.*/bin/python`
(PYENV_ROOT defaults to ~/.pyenv), the newest patch release of each. Takes about a
minute per version.
"""

import glob
import json
import os
import re
import subprocess
import sys

N = 1_000_000
INSTANCES = 200_000

# One measurement, run by `python -c CHILD KIND ARG`: prints a JSON value.
CHILD = r'''
import array, collections, json, sys, tracemalloc

kind, arg = sys.argv[1], sys.argv[2]
N = int(sys.argv[3])
INSTANCES = int(sys.argv[4])


def kept(build):
    """Traced bytes still held by `build`'s result, with its peak."""
    tracemalloc.start()
    result = build()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return current, peak, result


def make_class(style, attributes):
    names = [f"a{i}" for i in range(attributes)]
    body = "".join(f"        self.{n} = {i}\n" for i, n in enumerate(names))
    slots = {
        "plain": "",
        "slots": f"    __slots__ = {tuple(names)!r}\n",
        "slots+weakref": f"    __slots__ = {tuple(names + ['__weakref__'])!r}\n",
    }.get(style)
    subclass = {
        # A subclass whose slotted base holds every attribute: without `__slots__`
        # of its own, an instance still gets room for a dict and weak references.
        "subclass": "",
        "subclass-slots": "    __slots__ = ()\n",
        "subclass-slots+weakref": "    __slots__ = ('__weakref__',)\n",
    }.get(style)
    if subclass is not None:
        source = (
            f"class B:\n    __slots__ = {tuple(names)!r}\n    def __init__(self):\n{body}"
            f"class C(B):\n{subclass}    pass\n"
        )
    elif slots is not None:
        source = f"class C:\n{slots}    def __init__(self):\n{body}"
    else:
        decorator = "@dataclass" if style == "dataclass" else "@dataclass(slots=True)"
        fields = "".join(f"    {n}: int = {i}\n" for i, n in enumerate(names))
        source = f"from dataclasses import dataclass\n{decorator}\nclass C:\n{fields}"
    namespace = {}
    exec(source, namespace)
    return namespace["C"]


if kind == "instance":
    style, attributes = arg.split(":")
    cls = make_class(style, int(attributes))
    items = [None] * INSTANCES
    cls()  # warm up the class's caches outside the measurement
    tracemalloc.start()
    for i in range(INSTANCES):
        items[i] = cls()
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(json.dumps(current / INSTANCES))

elif kind == "dict":
    # What `vars(obj)` (or pickling, or copy) adds to an instance that had none.
    cls = make_class("plain", int(arg))
    items = [cls() for _ in range(INSTANCES)]
    tracemalloc.start()
    for item in items:
        vars(item)
    current = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(json.dumps(current / INSTANCES))

elif kind == "list":
    values = {
        "cached-ints": lambda i: i % 100,
        "floats": lambda i: i * 0.5,
        "ints": lambda i: 1000 + i,
    }[arg]

    def build():
        xs = []
        for i in range(N):
            xs.append(values(i))
        return xs

    print(json.dumps(kept(build)[0] / N))

elif kind == "array":
    value = (lambda i: i * 0.5) if arg == "d" else (lambda i: i % 100)

    def build():
        xs = array.array(arg)
        for i in range(N):
            xs.append(value(i))
        return xs

    print(json.dumps(kept(build)[0] / N))

elif kind == "consumer":
    # A comprehension of distinct ints (strings for join), as a list and as a
    # generator: the peak while the consumer runs.
    consumer, form = arg.split(":")
    build = {
        ("sum", "list"): lambda: sum([x * 2 for x in range(N)]),
        ("sum", "generator"): lambda: sum(x * 2 for x in range(N)),
        ("sorted", "list"): lambda: sorted([x * 2 for x in range(N)]),
        ("sorted", "generator"): lambda: sorted(x * 2 for x in range(N)),
        ("join", "list"): lambda: "".join([str(x) for x in range(N)]),
        ("join", "generator"): lambda: "".join(str(x) for x in range(N)),
    }[(consumer, form)]
    print(json.dumps(kept(build)[1]))

elif kind == "display":
    # A 10-int list or tuple display: sys.getsizeof, and what one evaluation allocates
    # (a tuple of constants is folded by the compiler: nothing).
    form = arg
    source = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]" if form == "list" else "(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"
    make = eval(f"lambda: {source}")
    items = [None] * 1000
    make()
    tracemalloc.start()
    for i in range(1000):
        items[i] = make()
    per_evaluation = tracemalloc.get_traced_memory()[0] / 1000
    tracemalloc.stop()
    print(json.dumps({"getsizeof": sys.getsizeof(make()), "traced": per_evaluation}))

elif kind == "queue":
    # `size` items appended to a list or a deque: traced bytes held.
    form, size = arg.split(":")
    size = int(size)

    def build():
        q = [] if form == "list" else collections.deque()
        for i in range(size):
            q.append(i % 100)
        return q

    print(json.dumps(kept(build)[0]))

elif kind == "window":
    # The last k of 100,000 appended items: a list trimmed with pop(0) or a
    # deque(maxlen=k); traced bytes held at the end.
    form, k = arg.split(":")
    k = int(k)

    def build():
        if form == "list":
            q = []
            for i in range(100_000):
                q.append(i % 100)
                if len(q) > k:
                    q.pop(0)
        else:
            q = collections.deque(maxlen=k)
            for i in range(100_000):
                q.append(i % 100)
        return q

    print(json.dumps(kept(build)[0]))

else:
    sys.exit(f"unknown measurement {kind}")
'''


def measure(python, kind, arg):
    out = subprocess.run(
        [python, "-c", CHILD, kind, arg, str(N), str(INSTANCES)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)


def version_of(python):
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def default_interpreters():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = []
    for minor in range(9, 14):
        candidates = glob.glob(os.path.join(root, "versions", f"3.{minor}.*", "bin", "python"))
        # Released versions only (3.12.1, not 3.13.0rc1), the newest patch first.
        candidates = [c for c in candidates if re.search(r"/3\.\d+\.\d+/bin/", c)]
        candidates.sort(key=lambda c: int(re.search(r"/3\.\d+\.(\d+)/", c).group(1)))
        if candidates:
            found.append(candidates[-1])
    return found


def table(title, header, rows, versions):
    print(f"\n### {title}\n")
    print("| " + " | ".join([header] + versions) + " |")
    print("|" + "---|" * (len(versions) + 1))
    for label, cells in rows:
        print("| " + " | ".join([label] + cells) + " |")


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def human(value):
    """Bytes for people: B below 1 KiB, KiB below 1 MiB, else MiB."""
    if value is None:
        return "n/a"
    if value < 1024:
        return f"{value:,} B"
    if value < 2**20:
        return f"{value / 1024:.1f} KiB"
    return f"{value / 2**20:.2f} MiB"


def main():
    interpreters = sys.argv[1:] or default_interpreters()
    if not interpreters:
        sys.exit("no interpreter given and none found under $PYENV_ROOT/versions")
    versions = [version_of(p) for p in interpreters]
    print(f"Measured with: {', '.join(versions)} ({sys.platform}); "
          f"{N:,} elements, {INSTANCES:,} instances.", file=sys.stderr)

    def each(kind, arg, spec, scale=1.0):
        cells = []
        for python in interpreters:
            value = measure(python, kind, arg)
            cells.append(fmt(None if value is None else value * scale, spec))
        return cells

    # Slots: bytes per instance, and the saving pyslim quotes.
    rows = []
    for attributes in (2, 6):
        per_style = {}
        for style in ("plain", "slots", "slots+weakref", "dataclass", "dataclass-slots"):
            per_style[style] = [measure(p, "instance", f"{style}:{attributes}") for p in interpreters]
        for style, values in per_style.items():
            rows.append((f"{attributes} attributes, {style}", [fmt(v, ".0f") for v in values]))
        saved = [
            fmt(None if a is None or b is None else a - b, ".0f")
            for a, b in zip(per_style["plain"], per_style["slots"])
        ]
        rows.append((f"**{attributes} attributes, saved by `__slots__`**", saved))
        rows.append((f"{attributes} attributes, `__dict__` made by `vars()`", each("dict", str(attributes), ".0f")))
    per_style = {}
    for style in ("subclass", "subclass-slots", "subclass-slots+weakref"):
        per_style[style] = [measure(p, "instance", f"{style}:2") for p in interpreters]
        rows.append((f"2 attributes in the base's slots, {style}", [fmt(v, ".0f") for v in per_style[style]]))
    for kept_weakref in ("subclass-slots", "subclass-slots+weakref"):
        saved = [
            fmt(None if a is None or b is None else a - b, ".0f")
            for a, b in zip(per_style["subclass"], per_style[kept_weakref])
        ]
        weak = " (keeping `__weakref__`)" if kept_weakref.endswith("weakref") else ""
        rows.append((f"**0 attributes in a dict, saved by `__slots__`{weak}**", saved))
    table("Bytes per instance (traced)", "class", rows, versions)

    rows = [
        ("list of small cached ints (`i % 100`): the pointer", each("list", "cached-ints", ".3f")),
        ("list of floats (`i * 0.5`)", each("list", "floats", ".3f")),
        ("list of ints outside -5..256 (`1000 + i`)", each("list", "ints", ".3f")),
    ]
    for code in "bhiqd":
        rows.append((f"`array('{code}')`", each("array", code, ".3f")))
    table(f"Bytes per element, {N:,} elements grown by `append` (traced)", "container", rows, versions)

    rows = []
    for consumer in ("sum", "sorted", "join"):
        for form in ("list", "generator"):
            results = [measure(p, "consumer", f"{consumer}:{form}") for p in interpreters]
            rows.append((f"`{consumer}` over a {form}", [human(r) for r in results]))
    table(f"Peak while a consumer takes {N:,} items from a list or a generator (traced)",
          "consumer", rows, versions)

    rows = []
    for form in ("list", "tuple"):
        results = [measure(p, "display", form) for p in interpreters]
        rows.append((f"10-int {form} display: `sys.getsizeof`",
                     [fmt(None if r is None else r["getsizeof"], "d") for r in results]))
        rows.append((f"10-int {form} display: traced per evaluation",
                     [fmt(None if r is None else r["traced"], ".0f") for r in results]))
    table("List vs tuple display (bytes)", "display", rows, versions)

    rows = []
    for size in (1_000, 100_000):
        for form in ("list", "deque"):
            rows.append((f"{size:,} items appended to a {form}", each("queue", f"{form}:{size}", ",.0f")))
    for k in (10, 100, 1_000):
        for form in ("list", "deque"):
            label = "list trimmed with `pop(0)`" if form == "list" else "`deque(maxlen=k)`"
            rows.append((f"last {k:,} of 100,000 items, {label}", each("window", f"{form}:{k}", ",.0f")))
    table("List vs deque (traced bytes held)", "queue", rows, versions)


if __name__ == "__main__":
    main()

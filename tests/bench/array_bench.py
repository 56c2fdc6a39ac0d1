"""A million floats or ints: list vs array.array. Reports build time (best of 3) and
the tracemalloc peak and kept bytes per element while the container is alive,
measured in separate runs without timing. The kept figures are the ones the `array`
transform quotes (transforms/src/array/typecode.rs). Run:
    python3 tests/bench/array_bench.py
"""
import array

from measure import timed, traced

N = 1_000_000


def list_append():
    xs = []
    for i in range(N):
        xs.append(i * 0.5)
    return xs


def array_append():
    xs = array.array("d")
    for i in range(N):
        xs.append(i * 0.5)
    return xs


def list_comp():
    return [i * 0.5 for i in range(N)]


def array_gen():
    return array.array("d", (i * 0.5 for i in range(N)))


def int_list(offset):
    """Distinct ints from `offset` on: each is its own int object unless cached."""
    return lambda: [offset + i for i in range(N)]


def small_int_list():
    """Ints in 0..99: CPython caches -5..256, so the list holds only pointers."""
    return [i % 100 for i in range(N)]


def int_array(code, small):
    if small:
        return lambda: array.array(code, (i % 100 for i in range(N)))
    return lambda: array.array(code, (1000 + i for i in range(N)))


def report(name, fn):
    runs = timed(fn)
    top, current = traced(fn)
    print(
        f"{name:28} build best {min(runs) * 1000:7.1f} ms"
        f" (runs {', '.join(f'{r * 1000:.1f}' for r in runs)})"
        f"  peak {top / 1e6:6.2f} MB  kept {current / N:5.1f} B/element"
    )


if __name__ == "__main__":
    assert list(array_append()) == list_append()
    assert list(int_array("b", True)()) == small_int_list()
    print("floats")
    for name, fn in (
        ("list append", list_append),
        ("array('d') append", array_append),
        ("list comprehension", list_comp),
        ("array('d', generator)", array_gen),
    ):
        report(name, fn)
    print("ints outside -5..256 (1000 + i)")
    report("list", int_list(1000))
    for code in "iq":
        report(f"array('{code}', generator)", int_array(code, False))
    print("small cached ints (i % 100)")
    report("list", small_int_list)
    for code in "bhiq":
        report(f"array('{code}', generator)", int_array(code, True))

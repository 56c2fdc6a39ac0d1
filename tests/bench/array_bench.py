"""A million floats: list vs array('d'), built by append in a loop and from a
generator. Reports build time (best of 3) and the tracemalloc peak while the container
is alive, measured in separate runs without timing. Run:
    python3 tests/bench/array_bench.py
"""
import array
import time
import tracemalloc

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


def timed(fn):
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return runs


def peak_and_kept(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    kept = fn()
    current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return top, current


if __name__ == "__main__":
    assert list(array_append()) == list_append()
    for name, fn in (
        ("list append", list_append),
        ("array append", array_append),
        ("list comprehension", list_comp),
        ("array(generator)", array_gen),
    ):
        runs = timed(fn)
        top, current = peak_and_kept(fn)
        print(
            f"{name:19} build best {min(runs) * 1000:7.1f} ms"
            f" (runs {', '.join(f'{r * 1000:.1f}' for r in runs)})"
            f"  peak {top / 1e6:6.2f} MB  kept {current / N:5.1f} B/element"
        )

"""Drain a queue of 100,000 items: list.pop(0) vs deque.popleft(); and keep the last
k of 100,000 appended items: a list trimmed by hand with pop(0) vs deque(maxlen=k).

Reports time (best of 3 runs, and all runs) and the tracemalloc peak of building and
draining the queue (for the window: peak and bytes kept at the end), measured in
separate runs without timing. Run:
    python3 tests/bench/deque_bench.py
"""
from collections import deque

from measure import timed, traced

N = 100_000


def drain_list():
    q = list(range(N))
    total = 0
    while q:
        total += q.pop(0)
    return total


def drain_deque():
    q = deque(range(N))
    total = 0
    while q:
        total += q.popleft()
    return total


def window_list(k):
    def run():
        q = []
        for i in range(N):
            q.append(i)
            if len(q) > k:
                q.pop(0)
        return q

    return run


def window_deque(k):
    def run():
        q = deque(maxlen=k)
        for i in range(N):
            q.append(i)
        return q

    return run


if __name__ == "__main__":
    assert drain_list() == drain_deque()
    for name, fn in (("list.pop(0)", drain_list), ("deque.popleft()", drain_deque)):
        runs = timed(fn)
        print(
            f"{name:16} time best {min(runs) * 1000:8.1f} ms"
            f" (runs {', '.join(f'{r * 1000:.1f}' for r in runs)})"
            f"  tracemalloc peak {traced(fn)[0] / 1024:8.1f} KiB"
        )
    for k in (10, 100, 1000, 10_000):
        assert list(window_list(k)()) == list(window_deque(k)())
        for name, fn in (
            (f"k={k} list trimmed", window_list(k)),
            (f"k={k} deque(maxlen)", window_deque(k)),
        ):
            runs = timed(fn)
            top, current = traced(fn)
            print(
                f"{name:22} time best {min(runs) * 1000:7.1f} ms"
                f"  peak {top / 1024:7.1f} KiB  kept {current / 1024:7.1f} KiB"
            )

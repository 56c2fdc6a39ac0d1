"""Timing and tracemalloc helpers the bench scripts share (imported from the script's
own folder, which Python puts first on sys.path)."""
import time
import tracemalloc


def timed(fn, runs=3):
    """Wall time in seconds of each of `runs` calls of `fn`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def traced(fn):
    """(peak, kept): the tracemalloc peak while `fn` runs, and the bytes still traced
    while its result is alive. Run apart from `timed`: tracing slows the code down."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return top, current

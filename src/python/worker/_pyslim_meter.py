# pyslim worker: how much memory the run holds, and where.
#
# Two meters with one interface. The native one (`_pyslim_native`, only in the
# embedded worker) counts requested bytes in CPython's allocator hooks at almost no
# cost and samples allocation sites; the fallback is tracemalloc, which counts the same
# bytes but costs 5-10x on allocation-heavy code. Both report "traced" memory: bytes
# requested from Python's allocators and not yet freed.
import sys
import threading
import time
import tracemalloc

try:
    import _pyslim_native as _native
except ImportError:  # the venv's own interpreter: no native module
    _native = None

# Mean bytes between sampled allocations (native meter): large blocks (a list's
# storage) are almost always sampled, small ones often enough for an estimate.
SAMPLE_INTERVAL = 64 * 1024


class Meter:
    """Current and peak traced bytes, with the worker's own allocations kept out."""

    def __init__(self, sample_sites):
        self.native = _native is not None and _native.installed()
        self.sample_sites = sample_sites
        if self.native:
            if sample_sites:
                _native.sampling(SAMPLE_INTERVAL)
        else:
            tracemalloc.start()
        self.start = self.current()
        # The peak before the last pause (tracemalloc cannot be told a peak).
        self._peak_before = 0

    @property
    def name(self):
        return "native" if self.native else "tracemalloc"

    def current(self):
        if self.native:
            return _native.traced()[0]
        return tracemalloc.get_traced_memory()[0]

    def peak(self):
        if self.native:
            return _native.traced()[1]
        return max(self._peak_before, tracemalloc.get_traced_memory()[1])

    def reset_peak(self):
        """From now on the peak is the current figure (per-test peaks)."""
        if self.native:
            _native.set_peak(0)
        else:
            tracemalloc.reset_peak()
            self._peak_before = 0

    def pause(self):
        """Call before the worker allocates for itself; returns a token for resume."""
        return self.peak()

    def resume(self, token):
        """Forgets the peak the worker's own allocations made since `pause`."""
        if self.native:
            _native.set_peak(token)
        else:
            self._peak_before = max(self._peak_before, token)
            tracemalloc.reset_peak()

    def lead(self, path):
        """Publishes this run's peak in the pace record at `path` (native only)."""
        _native.lead(path, self.start)

    def lead_final(self):
        """The workload returned: its peak is final (a paced census may go ahead)."""
        _native.lead_final(self.peak() - self.start)

    def stop(self):
        if self.native:
            _native.sampling(0)
        elif tracemalloc.is_tracing():
            tracemalloc.stop()

    def peak_sites(self, limit, exclude):
        """Estimated live bytes per line at the peak (native: sampled)."""
        if not self.native:
            return []
        return _rows(_native.peak_sites(), limit, exclude)

    def sites_now(self, limit, exclude):
        """Live bytes per line now: sampled (native) or exact (tracemalloc)."""
        if self.native:
            return _rows(_native.live_sites(), limit, exclude)
        snapshot = tracemalloc.take_snapshot()
        rows = []
        for stat in snapshot.statistics("lineno"):
            frame = stat.traceback[0]
            if exclude(frame.filename):
                continue
            rows.append([frame.filename, frame.lineno, stat.size, stat.count])
            if len(rows) >= limit:
                break
        return rows

    def list_site(self, lst):
        """(file, line) where a list's storage (native) or the list itself
        (tracemalloc) was allocated, or None."""
        if self.native:
            return _native.storage_site(lst)
        tb = tracemalloc.get_object_traceback(lst)
        if tb is None:
            return None
        return (tb[0].filename, tb[0].lineno)

    def site_probability(self, nbytes):
        """The chance a block of `nbytes` was sampled (1 with tracemalloc)."""
        if not self.native:
            return 1.0
        return _native.sampled_probability(nbytes)


def _rows(sites, limit, exclude):
    rows = []
    for file, line, size, count in sites:
        if file is None or exclude(file):
            continue
        rows.append([file, line, int(size), int(round(count))])
        if len(rows) >= limit:
            break
    return rows


class Trigger:
    """Calls `action(level)` in the main thread when traced memory reaches `at` bytes
    (once); or, with `follow` (native only), once, paced behind a lead run that runs at
    the same time (pyslim's `python/pace.rs`); or, with neither, each time it grows 10%
    past the last call (at most a quarter of the run's time goes to the action).

    A thread watches the meter; when the level is reached it interrupts the main thread
    as a signal would (`_thread.interrupt_main` with a signal number nobody uses, no OS
    signal is sent), and the handler runs the action there at the next safe point: the
    workload is paused while the heap is read, and the objects are in a consistent
    state.
    """

    def __init__(self, meter, action, at=None, follow=None, floor=1 << 20):
        import signal

        self.meter = meter
        self.action = action
        self.at = at
        self.follow = follow if meter.native else None
        self.floor = floor
        self.done = False
        self.pending = False
        self.last = 0
        self.busy = 0.0
        self.started = time.monotonic()
        self._signal = signal.SIGRTMIN + 7
        self._previous = signal.signal(self._signal, self._handler)
        self._stop = None
        self._thread = None

    def start(self):
        if self.follow is not None:
            # Checked at every allocation by the native meter, as `at` is.
            share = self.follow["share"]
            _native.follow(self.follow["pace"], self.meter.start, share, self._native_handler)
        elif self.meter.native and self.at is not None:
            # Checked at every allocation by the native meter: exact, and no thread.
            _native.census_at(self.at, self._native_handler)
        else:
            # Only this way needs a thread.
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="pyslim-census", daemon=True)
            self._thread.start()

    def stop(self):
        import signal

        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        signal.signal(self._signal, self._previous)

    def _native_handler(self, level):
        began = time.monotonic()
        try:
            self.action(level)
            self.last = level
            self.done = True
        finally:
            self.busy += time.monotonic() - began

    def _due(self, level):
        if self.pending:
            return False
        if self.at is not None:
            return not self.done and level >= self.at
        if level < max(self.floor, self.last * 1.1):
            return False
        elapsed = time.monotonic() - self.started
        return self.busy <= 0.25 * elapsed

    def _run(self):
        import _thread

        while not self._stop.wait(0.002):
            if self._due(self.meter.current()):
                self.pending = True
                _thread.interrupt_main(self._signal)

    def _handler(self, signum, frame):
        began = time.monotonic()
        level = self.meter.current()
        try:
            if self.at is None or level >= self.at:
                self.action(level)
                self.last = level
                self.done = True
        finally:
            self.busy += time.monotonic() - began
            self.pending = False

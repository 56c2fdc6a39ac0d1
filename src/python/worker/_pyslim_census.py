# pyslim worker: a census of the live heap, taken when traced memory reaches the
# level pyslim asked for (near the workload's peak).
#
# It counts the instances of every project class (subclasses apart) with the bytes
# their objects hold, and groups the lists by the line that allocated them (their
# storage block with the native meter, the list object with tracemalloc) with their
# lengths and element types. The census's own allocations are kept out of the peak.
import gc
import sys
from collections import Counter
from functools import partial
from itertools import compress, repeat
from operator import is_, itemgetter

# Lists shorter than this are only counted through the sampled sites (native meter)
# or skipped (tracemalloc: each traceback lookup costs about a microsecond).
MIN_LIST = 16
# Element types are read from lists up to this many elements in full, and from a
# stride of this many beyond.
TYPE_SAMPLE = 100_000
# The list object without storage (`sys.getsizeof([])`).
_EMPTY_LIST = sys.getsizeof([])
_IS_LIST = partial(is_, list)
_IS_DICT = partial(is_, dict)
_FIRST = itemgetter(0)
# Instances examined for a materialised __dict__ per class; beyond, a stride of them.
DICT_SAMPLE = 20_000


def _grouped(objs, kinds, counts, wanted):
    """(type, its objects) for each type in `wanted`, the objects in heap order;
    `kinds` are the objects' types and `counts` how many there are of each.

    Types with many objects are picked out with one C-speed pass over the heap each;
    only the rest goes through a Python loop (a loop over a million instances of one
    class cost most of a census).
    """
    floor = max(len(kinds) // 16, 1000)
    big = {t for t in wanted if counts[t] >= floor}
    for t in big:
        yield t, list(compress(objs, map(is_, kinds, repeat(t))))
    rest = wanted - big
    if not rest:
        return
    groups = {}
    for o, t in compress(zip(objs, kinds), map(rest.__contains__, kinds)):
        group = groups.get(t)
        if group is None:
            group = groups[t] = []
        group.append(o)
    yield from groups.items()


def _class_entry(t, instances):
    """The census entry of class `t` and its live instances."""
    n = len(instances)
    if _fixed_size(t):
        # Every instance has the size of the first: no need to ask each one.
        obj_bytes = n * sys.getsizeof(instances[0])
    else:
        obj_bytes = sum(map(sys.getsizeof, instances))
    # Whether an instance's __dict__ exists can only be asked one instance at a time
    # (`gc.get_referents`, the slowest step of a census): past DICT_SAMPLE instances,
    # an even stride of them is examined and the counts scaled.
    stride = -(-n // DICT_SAMPLE)
    view = instances[::stride] if stride > 1 else instances
    # An instance's materialised __dict__ is its first referent (before its type; a
    # class without slots). Rarely, an inline attribute that holds a dict comes first:
    # counted, never created.
    try:
        firsts = list(map(_FIRST, map(gc.get_referents, view)))
    except IndexError:  # an object that refers to nothing
        firsts = [r[0] for r in map(gc.get_referents, view) if r]
    dicts = list(compress(firsts, map(_IS_DICT, map(type, firsts))))
    del firsts
    names = set()
    for d in dicts[:100]:
        if len(names) >= 64:
            break
        names.update(k for k in d if isinstance(k, str))
    scale = n / len(view)
    module = sys.modules.get(t.__module__)
    return {
        "file": getattr(module, "__file__", None),
        "module": t.__module__,
        "qualname": t.__qualname__,
        "instances": n,
        "object_bytes": obj_bytes,
        "with_dict": round(len(dicts) * scale),
        "dict_bytes": round(sum(map(sys.getsizeof, dicts)) * scale),
        "dict_keys": sorted(names),
        "dict_sample": len(view) if len(view) < n else None,
    }


def _fixed_size(t):
    """Whether `sys.getsizeof` is the same for every instance of `t`: a fixed-size
    layout (no items) and the default `__sizeof__` (a type's pre-header, GC header and
    3.13's inline values all depend on the type only)."""
    try:
        return t.__itemsize__ == 0 and t.__sizeof__ is object.__sizeof__
    except AttributeError:
        return False


class Census:
    def __init__(self, meter, is_project_file, is_own_file):
        self.meter = meter
        self.is_project_file = is_project_file
        self.is_own_file = is_own_file
        self.result = None

    def take(self, level):
        # Without `at`, a census is taken at each 10% of growth; the highest wins.
        if self.result is not None and self.result["level"] >= level:
            return
        token = self.meter.pause()
        try:
            self.result = self._take(level)
        finally:
            self.meter.resume(token)

    def _take(self, level):
        # Grouped with map/compress over the whole heap: these run at C speed, where a
        # Python loop over millions of objects cost seconds.
        objs = gc.get_objects()
        kinds = list(map(type, objs))
        counts = Counter(kinds)
        project = {t for t in counts if self._project_class(t)}
        lists = list(compress(objs, map(_IS_LIST, kinds)))
        if not self.meter.native:
            lists = [lst for lst in lists if len(lst) >= MIN_LIST]
        groups = _grouped(objs, kinds, counts, project)
        out_classes = [_class_entry(t, instances) for t, instances in groups]
        del objs, kinds
        census = {
            "level": level,
            "classes": out_classes,
            "lists": self._lists(lists),
        }
        del lists
        if not self.meter.native:
            # tracemalloc knows every live block's line: the sites at this level.
            census["sites"] = self.meter.sites_now(50, self.is_own_file)
        return census

    def _project_class(self, t):
        if not isinstance(t, type):
            return False
        module = sys.modules.get(getattr(t, "__module__", None))
        file = getattr(module, "__file__", None)
        return bool(file) and self.is_project_file(file)

    def _lists(self, lists):
        sites = {}
        for lst in lists:
            where = self.meter.list_site(lst)
            if where is None:
                continue
            file, line = where
            if not file or not self.is_project_file(file):
                continue
            size = sys.getsizeof(lst)
            # A list found through its sampled storage block stands for 1/p lists like
            # it (the block is the list's size without its header).
            storage = max(size - _EMPTY_LIST, 0)
            weight = 1.0 / max(self.meter.site_probability(storage), 1e-9)
            entry = sites.get((file, line))
            if entry is None:
                entry = sites[(file, line)] = {
                    "file": file,
                    "line": line,
                    "lists": 0.0,
                    "elements": 0.0,
                    "list_bytes": 0.0,
                    "sampled": 0,
                    "largest": 0,
                    "types": {},
                    "int_min": None,
                    "int_max": None,
                    "distinct_ratio": None,
                }
            n = len(lst)
            entry["lists"] += weight
            entry["elements"] += n * weight
            entry["list_bytes"] += size * weight
            entry["sampled"] += 1
            entry["largest"] = max(entry["largest"], n)
            self._elements(entry, lst)
        out = []
        for entry in sites.values():
            entry["lists"] = round(entry["lists"], 1)
            entry["elements"] = round(entry["elements"])
            entry["list_bytes"] = round(entry["list_bytes"])
            out.append(entry)
        out.sort(key=lambda e: -e["list_bytes"])
        return out

    def _elements(self, entry, lst):
        n = len(lst)
        if n == 0:
            return
        view = lst if n <= TYPE_SAMPLE else lst[:: max(1, n // TYPE_SAMPLE)]
        types = entry["types"]
        kinds = set(map(type, view))
        for k in kinds:
            name = k.__qualname__ if k.__module__ == "builtins" else k.__module__ + "." + k.__qualname__
            types[name] = types.get(name, 0) + 1
        if kinds == {int}:
            lo, hi = min(view), max(view)
            entry["int_min"] = lo if entry["int_min"] is None else min(lo, entry["int_min"])
            entry["int_max"] = hi if entry["int_max"] is None else max(hi, entry["int_max"])
        if entry["distinct_ratio"] is None and kinds <= {float, int}:
            # Shared elements (`[0.0] * n` not yet filled) make an array save less.
            probe = view[:1000]
            entry["distinct_ratio"] = round(len({id(x) for x in probe}) / len(probe), 3)

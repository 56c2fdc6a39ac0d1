# pyslim worker: probes for a profiling run whose memory is never reported.
#
# pyslim instruments its working copy for this run: a list that one expression builds
# and a consumer takes once is wrapped in `__pyslim_probe__.t(ID, <expr>)`, which
# records the largest such list and returns it unchanged; `q.pop(0)`,
# `q.insert(0, x)` and `del q[0]` on a queue candidate go through
# `__pyslim_probe__.pop0/ins0/del0(ID, q, ...)`, which count the calls and the lengths
# they moved. Every class a project file defines is watched: its instances'
# attribute writes are recorded per concrete class, so an attribute set at run time
# outside the static slot set is seen.
import builtins
import linecache
import sys
from itertools import compress

# Writes of known names in a row after which a class stops being watched.
QUIET_WRITES = 10_000


class Probes:
    def __init__(self, is_project_file):
        self.is_project_file = is_project_file
        # id -> [runs, largest length, bytes of the largest]
        self.transient = {}
        # id -> [calls, total length at the call, longest]
        self.queues = {}
        # class -> set of attribute names written on its instances
        self.attributes = {}
        self._build_class = builtins.__build_class__
        # Classes whose writes stopped being watched (see `_watch`).
        self.retired = set()

    def install(self):
        builtins.__pyslim_probe__ = self
        builtins.__build_class__ = self._watching_build_class

    def t(self, site, value):
        entry = self.transient.get(site)
        if entry is None:
            entry = self.transient[site] = [0, -1, 0]
        entry[0] += 1
        try:
            n = len(value)
        except TypeError:
            return value
        if n > entry[1]:
            entry[1] = n
            entry[2] = _held_bytes(value)
        return value

    def _queue(self, site, q):
        entry = self.queues.get(site)
        if entry is None:
            entry = self.queues[site] = [0, 0, 0]
        n = len(q)
        entry[0] += 1
        entry[1] += n
        entry[2] = max(entry[2], n)

    def pop0(self, site, q):
        self._queue(site, q)
        return q.pop(0)

    def ins0(self, site, q, value):
        self._queue(site, q)
        return q.insert(0, value)

    def del0(self, site, q):
        self._queue(site, q)
        del q[0]

    def _watching_build_class(self, func, name, *bases, **kwargs):
        cls = self._build_class(func, name, *bases, **kwargs)
        code = getattr(func, "__code__", None)
        if (
            isinstance(cls, type)
            and code is not None
            and self.is_project_file(code.co_filename)
            and not _frozen_dataclass(code)
        ):
            self._watch(cls)
        return cls

    def _watch(self, cls):
        own = cls.__dict__.get("__setattr__")
        # Per instance type, the class in its MRO that holds the wrapper: `cls`, or a
        # copy of it that a class decorator built from the same namespace
        # (`@dataclass(slots=True)`, attrs' `@define`), whose instances are no `cls`.
        holders = {}

        def holder(kind):
            found = holders.get(kind)
            if found is None:
                found = next(
                    (k for k in kind.__mro__ if k.__dict__.get("__setattr__") is __setattr__),
                    cls,
                )
                holders[kind] = found
            return found

        if own is None:
            # What the instance's own MRO gives after this class, as without the
            # wrapper: a mixin after `cls` in a subclass's bases may define it.
            def original(obj, name, value, _super=super):
                _super(holder(type(obj)), obj).__setattr__(name, value)

        else:
            original = own
        seen = self.attributes
        retired = self.retired
        quiet = [0]

        def __setattr__(obj, name, value):
            original(obj, name, value)
            kind = type(obj)
            names = seen.get(kind)
            if names is None:
                names = seen[kind] = set()
            if name not in names:
                names.add(name)
                quiet[0] = 0
                return
            quiet[0] += 1
            if quiet[0] == QUIET_WRITES:
                # Names come early (in __init__); a wrapper on every write of a
                # million instances costs more than the workload. The instances
                # still alive at the end are read instead (`report`).
                for watched in {cls, *holders.values()}:
                    if watched.__dict__.get("__setattr__") is not __setattr__:
                        continue
                    retired.add(watched)
                    try:
                        if own is None:
                            del watched.__setattr__
                        else:
                            watched.__setattr__ = own
                    except (TypeError, AttributeError):
                        pass

        try:
            cls.__setattr__ = __setattr__
        except (TypeError, AttributeError):
            pass  # a metaclass that refuses: the class goes unwatched

    def _read_retired(self):
        # The attribute names of the live instances of classes no longer watched.
        if not self.retired:
            return
        import gc

        objs = gc.get_objects()
        kinds = list(map(type, objs))
        retired = self.retired
        chosen = list(compress(objs, map(retired.__contains__, kinds)))
        del objs, kinds
        groups = {}
        for o in chosen:
            groups.setdefault(type(o), []).append(o)
        del chosen
        for cls, instances in groups.items():
            try:
                names = set().union(*map(vars, instances))
            except TypeError:
                continue
            self.attributes.setdefault(cls, set()).update(names)

    def report(self):
        self._read_retired()
        attributes = []
        for kind, names in self.attributes.items():
            module = sys.modules.get(kind.__module__)
            mro = []
            slotted = set()
            for base in kind.__mro__:
                declared = base.__dict__.get("__slots__", ())
                slotted.update((declared,) if isinstance(declared, str) else declared)
                if base is not kind and base is not object:
                    where = sys.modules.get(base.__module__)
                    mro.append([getattr(where, "__file__", None), base.__qualname__])
            attributes.append(
                {
                    "file": getattr(module, "__file__", None),
                    "module": kind.__module__,
                    "qualname": kind.__qualname__,
                    "attributes": sorted(names),
                    "mro": mro,
                    "slotted": sorted(slotted),
                }
            )
        return {
            "transient": {
                str(k): {"runs": v[0], "largest": max(v[1], 0), "bytes": v[2]}
                for k, v in self.transient.items()
            },
            "queues": {
                str(k): {"calls": v[0], "moved": v[1], "longest": v[2]}
                for k, v in self.queues.items()
            },
            "attributes": attributes,
        }


def _held_bytes(value):
    """The list's own size plus the items only it holds (they go with it)."""
    size = sys.getsizeof(value)
    if not isinstance(value, list):
        return size
    getrefcount = sys.getrefcount
    getsizeof = sys.getsizeof
    # Held by the list, the loop variable and getrefcount's argument.
    for item in value:
        if getrefcount(item) <= 3:
            size += getsizeof(item)
    return size


def _frozen_dataclass(code):
    """Whether the class whose body is `code` is decorated `@dataclass(frozen=True)`.

    Its decorator runs after the class is built and refuses a class that defines
    `__setattr__` itself, so such a class goes unwatched (it takes no new attributes
    anyway). A decorated class body's code starts at its first decorator line.
    """
    line = code.co_firstlineno
    decorators = []
    while True:
        text = linecache.getline(code.co_filename, line).strip()
        if not text or text.startswith("class ") or len(decorators) > 50:
            break
        decorators.append(text)
        line += 1
    joined = " ".join(decorators)
    return "dataclass" in joined and "frozen" in joined

"""Which copy of the graph, in memory or on disk, a query worker should answer a query shape from.

pyoxigraph's in-memory store answers joins and lookups up to 10× faster than its on-disk store (an aggregate per
state pair at 1M quads: 0.17 s against 1.7 s), but a scan of one predicate with GROUP BY runs about twice as fast on
disk (34 ms against 17 ms), where RocksDB reads one contiguous key range. So the choice is measured, per query
shape (the text with constants blanked), and kept here in the server process: shared by every worker, kept across
a worker's restart and across writes (a write barely changes the balance). It used to live in each worker and be
forgotten at every new generation, so every worker ran each new shape once on disk to measure it, and retried the
slower copy every 32 runs: a shape the tuning had not seen ran at disk speed half the time at first (issue 21).

The rules, so that a new shape is never slower than the disk and a known one runs on the faster copy:
- a new shape runs in memory;
- the disk is tried once, only for a shape whose memory runs cost at least EXPLORE_ABOVE (below that the difference
  is noise beside the request's own overhead), and by one request at a time;
- the slower copy is tried again after RETRY_AFTER runs times how much slower it was, so a copy ten times slower
  costs about 3% of that shape's time, one about as fast about 1.5%.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Literal

Copy = Literal["memory", "disk"]
EXPLORE_ABOVE = 0.002  # seconds of engine CPU in memory before the disk is worth a try for a shape
RETRY_AFTER = 32  # runs of a shape, times the measured slowdown, before the slower copy is tried again
_WEIGHT = 0.3  # of a new timing in a copy's moving average


class _Shape:
    __slots__ = ("memory", "disk", "runs", "trying")

    def __init__(self) -> None:
        self.memory: float | None = None
        self.disk: float | None = None
        self.runs = 0  # since the last try of the slower copy
        self.trying = False  # a request is measuring the disk (or the slower copy) now


class CopyChoice:
    """Per query shape: the moving average of the engine's CPU time on each copy, and the copy to use next."""

    def __init__(self, max_shapes: int = 4096) -> None:
        self.max_shapes = max_shapes
        self._shapes: OrderedDict[str, _Shape] = OrderedDict()
        self._lock = threading.Lock()  # REST routes' threads ask too

    def pick(self, shape: str) -> Copy:
        with self._lock:
            known = self._shapes.get(shape)
            if known is None or known.memory is None:
                return "memory"
            if known.trying:
                return self._faster(known)
            if known.disk is None:
                if known.memory < EXPLORE_ABOVE:
                    return "memory"
                known.trying = True
                return "disk"
            faster = self._faster(known)
            slower, quicker = max(known.memory, known.disk), max(min(known.memory, known.disk), 1e-6)
            if known.runs >= RETRY_AFTER * min(slower / quicker, 64.0):
                known.trying, known.runs = True, 0
                return "disk" if faster == "memory" else "memory"
            return faster

    def record(self, shape: str, copy: str | None, seconds: float | None) -> None:
        """A worker's answer: `copy` is the one it used (the disk while its memory copy is being built)."""
        if copy not in ("memory", "disk") or seconds is None:
            return
        with self._lock:
            known = self._shapes.get(shape)
            if known is None:
                known = self._shapes[shape] = _Shape()
            previous = getattr(known, copy)
            setattr(known, copy, seconds if previous is None else (1 - _WEIGHT) * previous + _WEIGHT * seconds)
            known.runs += 1
            known.trying = False
            self._shapes.move_to_end(shape)
            while len(self._shapes) > self.max_shapes:
                self._shapes.popitem(last=False)

    def failed(self, shape: str, copy: str, timed_out_after: float | None = None) -> None:
        """A query of this shape on `copy` got no answer: a try in flight is over. A timeout counts as a run that
        long (a copy that timed out is not tried again soon); any other error leaves no timing."""
        if timed_out_after is not None:
            self.record(shape, copy, timed_out_after)
            return
        with self._lock:
            known = self._shapes.get(shape)
            if known is not None:
                known.trying = False

    @staticmethod
    def _faster(known: _Shape) -> Copy:
        if known.disk is None or known.memory is None:
            return "memory"
        return "memory" if known.memory <= known.disk else "disk"

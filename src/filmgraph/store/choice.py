"""Which of a memory-mode worker's two copies of the graph answers a query shape faster.

pyoxigraph's in-memory store answers most queries 2–3× faster than its on-disk store, but not all: a GROUP BY over
one predicate ran about half as fast in memory (BENCHMARKS.md). A worker in memory mode keeps the on-disk
checkpoint open beside its in-memory copy (both hold the same generation) and, per query shape, measures both and
then uses the faster, trying the other again now and then in case the data or the constants changed the balance.
"""

from __future__ import annotations

from collections import OrderedDict

from pyoxigraph import Store as OxStore

from .inline import blank_constants

RETRY_EVERY = 32  # runs of a shape between two tries of the slower copy
_WEIGHT = 0.3  # of a new timing in a copy's moving average


class FasterCopy:
    """Picks the in-memory or the on-disk copy for each query, from the CPU time of earlier queries of its shape."""

    def __init__(self, memory: OxStore, disk: OxStore, max_shapes: int = 4096) -> None:
        self.copies = (memory, disk)
        self.max_shapes = max_shapes
        self._timings: OrderedDict[str, list[float | None]] = OrderedDict()  # shape -> [memory, disk] averages
        self._runs: dict[str, int] = {}

    def pick(self, sparql: str) -> tuple[str, OxStore]:
        """The shape (to pass back to `record`) and the copy to run it on."""
        shape = blank_constants(sparql)
        timings = self._timings.get(shape, [None, None])
        runs = self._runs.get(shape, 0)
        if timings[0] is None or timings[1] is None:
            index = 0 if timings[0] is None else 1
        else:
            index = min((0, 1), key=lambda i: timings[i])
            if runs % RETRY_EVERY == RETRY_EVERY - 1:
                index = 1 - index
        return shape, self.copies[index]

    def record(self, shape: str, copy: OxStore, seconds: float) -> None:
        index = 0 if copy is self.copies[0] else 1
        timings = self._timings.setdefault(shape, [None, None])
        previous = timings[index]
        timings[index] = seconds if previous is None else (1 - _WEIGHT) * previous + _WEIGHT * seconds
        self._runs[shape] = self._runs.get(shape, 0) + 1
        self._timings.move_to_end(shape)
        while len(self._timings) > self.max_shapes:
            forgotten, _ = self._timings.popitem(last=False)
            self._runs.pop(forgotten, None)

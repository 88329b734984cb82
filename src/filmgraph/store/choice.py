"""Which of a worker's two copies of the graph answers a query shape faster.

pyoxigraph's in-memory store answers most queries 2–3× faster than its on-disk store, but not all: a GROUP BY over
one predicate ran about half as fast in memory (BENCHMARKS.md). A worker that copies its checkpoint into memory
keeps the on-disk checkpoint open beside it (both hold the same generation) and, per query shape, measures both and
then uses the faster, trying the other again now and then in case the data or the constants changed the balance.
Until the in-memory copy exists (it is built in the background after a write), every query uses the disk.
"""

from __future__ import annotations

from collections import OrderedDict

from pyoxigraph import Store as OxStore

from .inline import blank_constants

RETRY_EVERY = 32  # runs of a shape between two tries of the slower copy
_WEIGHT = 0.3  # of a new timing in a copy's moving average
_MEMORY, _DISK = 0, 1


class FasterCopy:
    """Picks the in-memory or the on-disk copy for each query, from the CPU time of earlier queries of its shape."""

    def __init__(self, disk: OxStore, memory: OxStore | None = None, max_shapes: int = 4096) -> None:
        self.copies: tuple[OxStore | None, OxStore] = (memory, disk)
        self.max_shapes = max_shapes
        self.retired = False  # set when the worker has moved on to a newer generation
        self._timings: OrderedDict[str, list[float | None]] = OrderedDict()  # shape -> [memory, disk] averages
        self._runs: dict[str, int] = {}

    @property
    def disk(self) -> OxStore:
        return self.copies[_DISK]

    @property
    def memory(self) -> OxStore | None:
        return self.copies[_MEMORY]

    def attach_memory(self, memory: OxStore) -> None:
        """The in-memory copy, once built; from the next query on, shapes are measured on both."""
        self.copies = (memory, self.disk)

    def pick(self, sparql: str) -> tuple[str, OxStore]:
        """The shape (to pass back to `record`) and the copy to run it on."""
        shape = blank_constants(sparql)
        if self.memory is None:
            return shape, self.disk
        timings = self._timings.get(shape, [None, None])
        runs = self._runs.get(shape, 0)
        if timings[_MEMORY] is None or timings[_DISK] is None:
            index = _MEMORY if timings[_MEMORY] is None else _DISK
        else:
            index = min((_MEMORY, _DISK), key=lambda i: timings[i])
            if runs % RETRY_EVERY == RETRY_EVERY - 1:
                index = 1 - index
        return shape, self.copies[index]  # type: ignore[return-value]

    def record(self, shape: str, copy: OxStore, seconds: float) -> None:
        index = _MEMORY if copy is self.memory else _DISK
        timings = self._timings.setdefault(shape, [None, None])
        previous = timings[index]
        timings[index] = seconds if previous is None else (1 - _WEIGHT) * previous + _WEIGHT * seconds
        self._runs[shape] = self._runs.get(shape, 0) + 1
        self._timings.move_to_end(shape)
        while len(self._timings) > self.max_shapes:
            forgotten, _ = self._timings.popitem(last=False)
            self._runs.pop(forgotten, None)

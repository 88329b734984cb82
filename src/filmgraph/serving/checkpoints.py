"""The workers' read-only snapshots of the store: one directory per generation, leased, deleted when unleased.

A checkpoint may be deleted only when no worker holds it or is about to open it. Earlier the store deleted every
generation no worker was *marked* with, which raced with a dispatch that had already read the old checkpoint but
not yet marked its worker: under load with writes the workers opened deleted directories (RocksDB: `Corruption …
No such file … .sst`) and died. Now a worker takes a lease on the current checkpoint, atomically with reading which
one is current, before anything is sent to it, and gives it back only when it moves to a newer one or dies. A
directory is removed once it is neither current nor leased; it can never be leased again (only the current one is
handed out), so the removal cannot race. Files named after a checkpoint beside it (`gen-N.nq`, the dump its
in-memory copies are loaded from, memory_copy.py) go with it.

Checkpoints are taken when a worker needs one, not after every write. A checkpoint flushes RocksDB's memtables to
new SST files (~10 ms, measured), which made every small write cost that much; now a write only moves `latest` on,
and the first query that needs a worker after it takes one checkpoint for every write since (`catch_up`, one at a
time: queries arriving meanwhile wait for that one). Writes only, or reads answered by the inline lane (which reads
the read-write store itself), take none, except the one the server process's in-memory copy is made of once writes
pause (memory_copy.py). The checkpoint is taken beside the writes, not under their lock: it took
10–50 ms on this machine, and writes waited for it.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from pyoxigraph import Store as OxStore

Checkpoint = tuple[int, str]  # (generation, directory)
# The store and its generation (read before the checkpoint is taken, so the checkpoint holds at least that one).
Source = Callable[[], AbstractContextManager[tuple[OxStore, int]]]


class Checkpoints:
    """The checkpoint directories under `root` (named `gen-N`) and the leases workers hold on them. With a
    `source`, `catch_up` takes a checkpoint of the store whenever its generation (`latest`) moved on."""

    def __init__(self, root: Path, source: Source | None = None, latest: Callable[[], int] | None = None) -> None:
        self.root = root
        self._source, self._latest = source, latest
        self._lock = threading.Lock()
        self._catching_up = threading.Lock()  # one checkpoint taken at a time; those waiting use it
        self._current: Checkpoint | None = None
        self._leases: Counter[int] = Counter()
        self._on_disk: set[int] = set()

    @property
    def current(self) -> Checkpoint | None:
        return self._current

    def behind(self) -> bool:
        """Whether the store has generations no checkpoint holds yet (a write since the current one)."""
        current = self._current
        return self._latest is not None and (current is None or current[0] < self._latest())

    def catch_up(self, give_up: Callable[[], bool] | None = None) -> bool:
        """Take a checkpoint of the store as it is now, unless one of its generation exists: a burst of writes
        costs one checkpoint, taken by the first query that needs it (milliseconds: RocksDB flushes first).
        A caller that can `give_up` stops waiting for another thread's checkpoint once it says so (False): that
        thread may be reopening the store and waiting for this one to end (the server process's copy)."""
        if self._source is None or not self.behind():
            return True
        while not self._catching_up.acquire(timeout=0.1 if give_up else -1):
            if give_up():
                return False
        try:
            if self.behind():  # else taken while this thread waited
                with self._source() as (store, generation):
                    self.publish(store, generation)
        finally:
            self._catching_up.release()
        return True

    def publish(self, store: OxStore, generation: int) -> None:
        """Snapshot `store` as `generation` (RocksDB hard links: cheap) and make it the one handed out from now on."""
        target = self.root / f"gen-{generation}"
        _remove(self.root, {generation})  # left by an earlier run, with its dump
        self.root.mkdir(parents=True, exist_ok=True)
        store.backup(str(target))
        with self._lock:
            self._current = (generation, str(target))
            self._on_disk.add(generation)
            doomed = self._unused()
        _remove(self.root, doomed)

    def lease(self) -> Checkpoint:
        """The current checkpoint, leased to the caller until `release`."""
        with self._lock:
            if self._current is None:
                raise RuntimeError("no checkpoint has been published")
            self._leases[self._current[0]] += 1
            return self._current

    @contextmanager
    def leased(self, give_up: Callable[[], bool] | None = None) -> Iterator[Checkpoint | None]:
        """The checkpoint of the store as it is now (taken if a write came since), leased while the caller reads it;
        None if the caller gave up waiting for it (`catch_up`)."""
        if not self.catch_up(give_up):
            yield None
            return
        checkpoint = self.lease()
        try:
            yield checkpoint
        finally:
            self.release(checkpoint[0])

    def release(self, generation: int) -> None:
        with self._lock:
            self._leases[generation] -= 1
            if self._leases[generation] <= 0:
                del self._leases[generation]
            doomed = self._unused()
        _remove(self.root, doomed)

    def held(self) -> dict[int, int]:
        """Leases by generation (for readiness and tests)."""
        with self._lock:
            return dict(self._leases)

    def _unused(self) -> set[int]:
        """Generations neither current nor leased, forgotten here (under the lock) so that one thread removes each."""
        current = None if self._current is None else self._current[0]
        doomed = {g for g in self._on_disk if g != current and self._leases[g] <= 0}
        self._on_disk -= doomed
        return doomed


def _remove(root: Path, generations: set[int]) -> None:
    """Unlinks only (the files are hard links of the store's, or the files named after a checkpoint beside it: its
    dump, memory_copy.py), outside the lock: milliseconds."""
    for generation in generations:
        shutil.rmtree(root / f"gen-{generation}", ignore_errors=True)
        for beside in root.glob(f"gen-{generation}.*"):
            beside.unlink(missing_ok=True)

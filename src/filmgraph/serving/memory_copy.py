"""In-memory copies of the on-disk store, for the processes that answer queries.

pyoxigraph's in-memory store answers most queries 2–3× faster than its on-disk one (BENCHMARKS.md). The query
workers copy their read-only checkpoint (worker.py); the server process copies the same checkpoint for the inline
lane (`ServerCopy`). The engine builds a copy from a dump to N-Quads by a bulk load (both release the GIL): about
0.45 GB per million quads. One dump per checkpoint serves every copy of it (`copy_of_checkpoint`): the dump is
most of a copy's time (at 1M quads ~4 s of one core, the load ~3 s), and three copies each dumping for itself spent
three dumps' CPU. `FILMGRAPH_WORKER_STORE` decides: `disk` never copies, `memory` always does, `auto`
(the default) for graphs of up to AUTO_MEMORY_MAX_QUADS quads.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pyoxigraph import RdfFormat, Store as OxStore

from .checkpoints import Checkpoints

log = logging.getLogger(__name__)

AUTO_MEMORY_MAX_QUADS = 2_000_000  # `auto` copies graphs up to this size into memory
# A copy after writes is built once they pause this long: a copy is a whole dump and load (~1 s per 100k quads), and
# rebuilt after each of a burst of small writes it kept a core busy for copies already stale (BENCHMARKS.md).
WRITE_PAUSE_SECONDS = 1.0
# Small ground writes wait in `ServerCopy` until the copy is next read, then go in as one update: applied one by one
# they cost the write ~10 µs each (an update of the in-memory store, in the write's answer time), and a burst of
# writes with no read between them need not pay that at all. Past this many the write applies them itself.
MAX_PENDING_WRITES = 64


def wait_for_pause(last_write: Callable[[], float], pause: float, stop: Callable[[], bool]) -> None:
    """Return once `pause` seconds have passed since `last_write()` (monotonic), or at once when `stop()`."""
    while not stop() and (left := last_write() + pause - time.monotonic()) > 0:
        time.sleep(min(left, 0.25))


def wants_copy(store: OxStore, mode: str) -> bool:
    """Whether `mode` asks for an in-memory copy of `store`."""
    return mode == "memory" or (mode == "auto" and at_most(store, AUTO_MEMORY_MAX_QUADS))


def at_most(store: OxStore, quads: int) -> bool:
    """Whether the store holds at most `quads` quads, counting no further than that (in the engine, without the GIL:
    `len()` of a large store would hold it)."""
    rows = f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }} LIMIT {quads + 1}"
    return bool(store.query(f"ASK {{ {{ SELECT (COUNT(*) AS ?n) WHERE {{ {rows} }} }} FILTER(?n <= {quads}) }}"))


class Backoff:
    """Delays between the attempts of a failing copy: doubling from `first` to `longest` seconds, so that a copy
    that cannot fit (a huge literal, a full disk for the dump) costs a dump now and then, not all the time."""

    def __init__(self, first: float = 1.0, longest: float = 300.0) -> None:
        self.first, self.longest, self.delay = first, longest, first

    def reset(self) -> None:
        self.delay = self.first

    def sleep(self, stop: Callable[[], bool]) -> None:
        """Wait the next delay, checking `stop` twice a second (then return at once)."""
        until = time.monotonic() + self.delay
        self.delay = min(self.delay * 2, self.longest)
        while not stop() and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))


def dump_of(checkpoint: str) -> Path:
    """Where the dump of a checkpoint goes: beside it, named after it, so that it is removed with it
    (checkpoints.py). ~200 MB per million quads, on the store's disk (a RAM-backed /tmp would hold it in memory)."""
    directory = Path(checkpoint)
    return directory.with_name(f"{directory.name}.nq")


def copy_of_checkpoint(checkpoint: str, store: OxStore) -> OxStore:
    """An in-memory copy of the checkpoint at `checkpoint` (opened as `store`), bulk-loaded from its dump. Whoever
    asks first, a worker or the server process, dumps it, under a lock on a file beside it (held across processes,
    released if its holder dies); every other copy of that generation, a respawned worker's included, only loads the
    file. The caller holds a lease on the checkpoint (checkpoints.py): the dump stays as long as the checkpoint."""
    dump = dump_of(checkpoint)
    with _locked(dump.with_name(f"{dump.name}.lock")):
        if not dump.exists():
            partial = dump.with_name(f"{dump.name}.part")  # a dumper killed midway leaves only this: redone
            store.dump(str(partial), format=RdfFormat.N_QUADS)
            partial.rename(dump)
    in_memory = OxStore()
    in_memory.bulk_load(path=str(dump), format=RdfFormat.N_QUADS)
    return in_memory


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created if need be), for threads and processes alike: each call opens the file
    anew, and flock locks belong to the open file."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits without the GIL
        yield
    finally:
        os.close(descriptor)  # releases the lock


class ServerCopy:
    """The server process's in-memory copy of its read-write store, for the inline lane.

    The copy is made of the workers' checkpoint of the store as it is now (taken if a write came since, leased
    while it is copied), from the same dump as theirs, and tagged with the checkpoint's generation; `current` returns
    it only while that is still the store's generation: after a write the lane reads the disk until a copy of the
    new generation has been built, on a thread, one build at a time (a write during a build queues one more), once
    writes have paused for `pause` seconds (a burst of writes costs one copy, not one each). A build that fails
    (any exception, MemoryError included) is retried with backoff while the lane reads the disk; `state` says which
    of these is the case, for `/readyz`. Small ground writes the copy follows wait in `_pending` until it is read
    (`MAX_PENDING_WRITES`): the tag counts them, and `current` applies them before it hands the copy out.
    """

    def __init__(
        self,
        checkpoints: Checkpoints,
        mode: str,
        generation: Callable[[], int],
        backoff: Backoff | None = None,
        pause: float = WRITE_PAUSE_SECONDS,
    ) -> None:
        self._checkpoints, self._mode, self._generation = checkpoints, mode, generation
        self._pause, self._waits = pause, 0.0  # how long writes must pause before this build starts
        self._last_refresh = 0.0
        self._copy: tuple[int, OxStore] | None = None  # the generation it holds once `_pending` is applied
        self._pending: list[str] = []  # replayable updates the copy follows, not yet applied to it
        self._lock = threading.Lock()
        self._building = self._again = self._closed = False
        self._builder: threading.Thread | None = None
        self._backoff = backoff or Backoff()
        self.last_error: str | None = None  # of the latest attempt, None once one succeeded

    def current(self, generation: int) -> OxStore | None:
        """The copy, if it holds `generation` (the writes it follows applied first)."""
        copy = self._copy
        if copy is None or copy[0] != generation:
            return None
        if self._pending:
            with self._lock:
                if self._copy is not copy:
                    return None
                applied = self._apply_pending()
            if not applied:
                self.refresh(after_write=True)
                return None
        return copy[1]

    def _apply_pending(self) -> bool:
        """Apply the writes waiting for the copy, as one update (under the lock). False: it failed, and the copy
        may differ from the store now; the caller rebuilds it (`refresh`, outside the lock), the disk answers."""
        # A newline ends a comment the text may end in; a `;` it may end with is dropped (`; ;` does not parse).
        update, self._pending = "\n;\n".join(text.rstrip().removesuffix(";") for text in self._pending), []
        try:
            self._copy[1].update(update)
        except Exception as error:  # noqa: BLE001 - whatever it is, the copy is not to be read
            log.warning("could not apply writes to the in-memory copy (rebuilding it): %s", error)
            self._copy = None
            return False
        return True

    @property
    def state(self) -> str:
        """`ready` (a copy of the current generation), `building`, `failed-retrying` (the disk answers meanwhile),
        or `not-wanted` (the mode or the graph's size asks for none)."""
        if self.current(self._generation()) is not None:
            return "ready"
        if self.last_error is not None:
            return "failed-retrying"
        return "building" if self._building else "not-wanted"

    def refresh(self, after_write: bool = False) -> threading.Thread | None:
        """Copy the store as it is now (at start; `after_write`: once writes pause); the older copy is dropped at
        once. Returns the thread that builds it, unless a build under way takes the request."""
        with self._lock:
            self._copy, self._pending = None, []
            self._last_refresh = time.monotonic()
            if self._closed:
                return None
            if self._building:
                self._again = True
                if after_write:
                    self._waits = self._pause
                return None
            self._building = True
            self._waits = self._pause if after_write else 0.0
            self._builder = threading.Thread(target=self._build, daemon=True, name="inline-memory-copy")
            self._builder.start()  # under the lock: `close` joins only a started thread
            return self._builder

    def follow(self, update: str | None, generation: int) -> None:
        """After a write that made `generation`: the copy follows `update` too when it holds the generation just
        before and `update` is replayable (sparql_text.is_replayable: the same ground data, the same result), so a
        burst of small writes keeps the copy current; else rebuild it once writes pause. The update waits for the
        next read of the copy (`current`), or for MAX_PENDING_WRITES more."""
        with self._lock:
            copy = self._copy
            if update is not None and copy is not None and copy[0] == generation - 1 and not self._closed:
                self._pending.append(update)
                self._copy = (generation, copy[1])
                if len(self._pending) < MAX_PENDING_WRITES or self._apply_pending():
                    return
        self.refresh(after_write=True)

    def close(self) -> None:
        """Drop the copy and wait for a build under way: it holds the store, which may be reopened next."""
        with self._lock:
            self._closed, self._copy, self._pending = True, None, []
            builder = self._builder
        if builder is not None and builder is not threading.current_thread():
            builder.join()

    def _build(self) -> None:
        while True:
            wait_for_pause(lambda: self._last_refresh, self._waits, lambda: self._closed)
            with self._lock:
                self._again = False  # the writes so far are in the copy about to be taken
            generation, built, failed = self._attempt()
            with self._lock:
                if built is not None and not (self._closed or self._again):  # else it is already stale
                    self._copy, self._pending = (generation, built), []
                retry = failed and not (self._closed or self._again)
                if not (self._again or retry) or self._closed:
                    self._building = False
                    return
            if retry:  # a write meanwhile retries at once (the next attempt copies it too); `close` stops the wait
                self._backoff.sleep(lambda: self._closed or self._again)

    def _attempt(self) -> tuple[int, OxStore | None, bool]:
        """(the generation copied, the copy or None, whether the attempt failed). Any exception: this thread must
        not die of one."""
        try:
            with self._checkpoints.leased(give_up=lambda: self._closed) as held:
                if held is None:  # closed meanwhile, by a thread reopening the store that holds the checkpoints
                    return -1, None, False
                generation, checkpoint = held
                disk = OxStore.read_only(checkpoint)
                built = copy_of_checkpoint(checkpoint, disk) if wants_copy(disk, self._mode) else None
                del disk  # before the lease goes: the checkpoint may be removed then
        except Exception as error:  # noqa: BLE001 - e.g. MemoryError, no room for the dump: the lane reads the disk
            self.last_error = f"{type(error).__name__}: {error}"
            log.warning("no in-memory copy for the inline lane yet (retrying): %s", self.last_error)
            return -1, None, True
        self.last_error = None
        self._backoff.reset()
        return generation, built, False

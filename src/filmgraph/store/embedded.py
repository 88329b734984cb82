"""The embedded store: pyoxigraph on disk (or in memory), queries answered in the calling process.

The CLI, the build, notebooks and the library's tests use it as it is; `filmgraph serve` wraps it in a
`ServingStore` (filmgraph/serving/), which answers queries from worker processes and keeps this process's handle
for writes. A committed write is made durable (durability.py: the write-ahead log synced, or left to the operating
system), then the generation moves on, and whatever follows the engine (`EngineFollower`: the serving store's
in-memory copy and inline lane) hears of it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from pyoxigraph import DefaultGraph, NamedNode, Quad, Store as OxStore, Triple

from ..errors import QuerySyntaxError, StorageError, StoreInUse, UnsupportedFormat, is_held_elsewhere
from ..settings import Settings
from ..sparql_text import is_replayable, is_small_data_update
from .base import Dataset, QueryResult, SerializedResult, Store
from .dataset import DuplicateWatch
from .durability import PeriodicSync, WalSync
from .evaluation import QueryTask, evaluate, evaluation_failure, run_query
from .merged import MergedViews
from .rdf_files import Progress, UploadLimits, check_parses, graph_format, rdf_format_of
from .refusals import engine_refusal
from .storage_health import WriteHealth, is_storage_failure, storage_failure
from .unsendable import releasing_frames

log = logging.getLogger(__name__)


def _graph_name(graph: str | None) -> NamedNode | DefaultGraph:
    return DefaultGraph() if graph is None else NamedNode(graph)


def _as_quad(item: Quad | Triple, graph: NamedNode | DefaultGraph) -> Quad:
    return Quad(item.subject, item.predicate, item.object, graph)


def _open_engine(path: Path) -> OxStore:
    """The engine over a store directory; one clear line when another process holds it (a running server, a
    notebook), instead of RocksDB's "IO error: lock …/LOCK" traceback."""
    try:
        return OxStore(str(path))
    except OSError as error:
        if not is_held_elsewhere(error):
            raise
        raise StoreInUse(f"the store {path} is already open (a running `filmgraph serve`, another notebook?): the "
                         "embedded store opens in one process at a time (its directory lock); close or stop that "
                         "one, or ask its server") from None


class EngineFollower(Protocol):
    """What keeps state derived from the engine (the serving store: its in-memory copy, its inline lane)."""

    def written(self, replay: str | None, generation: int) -> None:
        """A write made `generation`; `replay`: the update, when a copy can apply it too (`is_replayable`)."""

    def releasing(self) -> None:
        """The engine is about to be reopened: let go of the old handle (RocksDB frees its lock with the last)."""

    def reopened(self, engine: OxStore) -> None:
        """The engine was reopened after a storage failure."""


class EmbeddedStore(Store):
    """pyoxigraph's store (on disk, or in memory when `path` is None); the query default graph is the union."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        min_free_bytes: int = 0,
        durability: str = "sync",
        sync_interval: float = 1.0,
    ) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._engine: OxStore | None = _open_engine(self.path)
        else:
            self._engine = OxStore()
        self._health = WriteHealth(self.path, min_free_bytes)
        self._wal = WalSync(self.path) if self.path is not None else None
        self._periodic_sync = (
            PeriodicSync(self._wal, sync_interval) if self._wal is not None and durability == "process" else None
        )
        self._unpublished = False  # a committed write whose checkpoint failed: published by the next write/probe
        self._duplicates = DuplicateWatch()
        self._merged = MergedViews()  # in-process queries only: the workers keep their own
        self._generation = 0
        self._write_lock = threading.RLock()
        self._follower: EngineFollower | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedStore:
        """The plain in-process store of the settings (the server's limits and workers: `ServingStore`)."""
        return cls(settings.store)

    @property
    def engine(self) -> OxStore:
        """The read-write engine; missing only while it is reopened after a storage failure (see `_reopen`)."""
        if self._engine is None:
            raise StorageError("the store is being reopened after a storage failure; retry in a moment")
        return self._engine

    _store = engine

    def follow(self, follower: EngineFollower) -> None:
        """Tell `follower` of every write and reopening from now on (one follower: the serving store)."""
        self._follower = follower

    @contextmanager
    def snapshot_source(self) -> Iterator[tuple[OxStore, int]]:
        """The engine and its generation, read before a snapshot (a checkpoint) is taken: the snapshot holds every
        write of that generation, and perhaps one committing meanwhile (a write concurrent with the read, never a
        rolled-back one). Not under the write lock: a checkpoint takes 10–50 ms here, and writes waited for it.
        After a storage failure the engine takes no snapshot until it is reopened: recover first, if the disk
        has room."""
        if self._health.reopen_needed or self._unpublished:
            self.storage_problem()
        generation = self._generation
        yield self._store, generation

    # --- reads -----------------------------------------------------------------------------------------
    def merge_needed(self, sparql: str, dataset: Dataset | None, quick: bool = False) -> bool | None:
        """Whether this union query must run on a merged view (store/dataset.py): only while some triple is held in
        several graphs, and only for answers that depend on multiplicity. `quick` (the event loop): only when that
        costs microseconds (known, or carried over a few small writes) and no lock is busy, else None."""
        return self._duplicates.merge_needed(sparql, dataset, self._generation, self._holds_duplicates, quick)

    def learn_duplicates(self) -> None:
        """Ask now whether the store holds a triple in several graphs (an ASK over it: 0.35 s at 100k quads), so
        that reads after small writes carry the answer over them instead of paying that ASK (the serving store)."""
        self._duplicates.learn(self._generation, self._holds_duplicates)

    def _holds_duplicates(self, quick: bool = False) -> tuple[int, bool] | None:
        """(generation, whether a triple is in several graphs), read under the write lock so the two agree; None if
        `quick` and the lock is busy or the answer needs more than a few lookups."""
        if not self._write_lock.acquire(blocking=not quick):
            return None
        try:
            present = self._duplicates.present(self._store, quick)
            return None if present is None else (self._generation, present)
        finally:
            self._write_lock.release()

    def evaluate(self, task: QueryTask) -> SerializedResult:
        """Evaluate and serialise in this process, on the merged view when the task asks for it."""
        return evaluate(self._merged.of(self._store, self._generation) if task.merge_union else self._store, task)

    @releasing_frames  # an error leaves with the engine's solutions dropped here, whichever thread it reaches
    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        merge = self.merge_needed(sparql, dataset)
        source = self._merged.of(self._store, self._generation) if merge else self._store
        result = run_query(source, sparql, bindings, dataset, merged=merge)
        try:
            return QueryResult.of(result)
        except (OSError, ValueError, RuntimeError) as error:  # evaluation is lazy: the engine fails while read
            raise evaluation_failure(error) from error

    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        """`media_type` may list several types (comma-separated, preferred first): the first that fits is used."""
        merge = self.merge_needed(sparql, dataset)
        return self.evaluate(QueryTask(sparql, media_type, bindings, dataset, merge_union=merge))

    def quads(self, graph=None) -> Iterator[Quad]:
        if graph:
            return iter(self._store.quads_for_pattern(None, None, None, NamedNode(graph)))
        return iter(self._store.quads_for_pattern(None, None, None))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, NamedNode))

    def has_graph(self, graph: str | None) -> bool:
        return graph is None or self._store.contains_named_graph(NamedNode(graph))

    def count(self, graph=None) -> int:
        if not graph:
            return len(self._store)
        counted = run_query(self._store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", None, Dataset((graph,)))
        return int(next(iter(counted))["n"].value)

    def dump_graph(self, graph: str | None, media_type: str) -> SerializedResult:
        rdf_format = graph_format(media_type)
        if rdf_format is None:
            raise UnsupportedFormat(f"cannot serialise one graph as {media_type}")
        body = self._store.dump(format=rdf_format, from_graph=_graph_name(graph))
        return SerializedResult("construct", rdf_format.media_type, body)

    @property
    def generation(self) -> int:
        return self._generation

    # --- writes: each one pyoxigraph transaction, acknowledged only once durable and published ----------------
    def update(self, sparql: str) -> None:
        def commit() -> None:
            try:
                self._store.update(sparql)
            except SyntaxError as error:
                raise QuerySyntaxError(str(error)) from error

        small = is_small_data_update(sparql)
        self._write("the update", commit, replay=sparql if is_replayable(sparql) else None, small=small)

    async def update_async(self, sparql: str) -> None:
        if not self.update_now(sparql):
            await super().update_async(sparql)

    def update_now(self, sparql: str) -> bool:
        """A small INSERT/DELETE DATA commits on the caller's thread (the event loop) when nothing waits on the
        disk: the write lock free, no recovery due, and no sync in the request (`durability=process`: a sync may
        wait on a busy disk for milliseconds, with every request of the loop behind it)."""
        if not self._commits_inline(sparql) or not self._write_lock.acquire(blocking=False):
            return False
        try:
            self.update(sparql)
        finally:
            self._write_lock.release()
        return True

    def _commits_inline(self, sparql: str) -> bool:
        syncs_now = self._wal is not None and self._periodic_sync is None
        recovering = self._health.reopen_needed or self._unpublished
        return not (syncs_now or recovering) and is_small_data_update(sparql)

    def replace_graph(self, graph, quads_or_triples: Iterable[Quad | Triple]) -> None:
        """Empty and refill a graph in one SPARQL Update (one transaction: a failed or killed PUT leaves the old
        graph whole), terms written by pyoxigraph. Emptied by DELETE WHERE rather than CLEAR: CLEAR deletes while
        it iterates inside the transaction, and replacing a 420k-triple graph took twice as long (architecture.md)."""
        name = _graph_name(graph)
        data = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in quads_or_triples)
        if isinstance(name, DefaultGraph):
            sparql = f"DELETE WHERE {{ ?s ?p ?o }} ; INSERT DATA {{ {data} }}"
        else:  # CREATE in the same transaction: an empty PUT still makes the graph
            sparql = (
                f"CREATE SILENT GRAPH {name} ; DELETE WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }} ; "
                f"INSERT DATA {{ GRAPH {name} {{ {data} }} }}"
            )
        self._write("replacing the graph", lambda: self._store.update(sparql))

    def add_to_graph(self, graph, quads_or_triples) -> None:
        name = _graph_name(graph)
        quads = [_as_quad(item, name) for item in quads_or_triples]

        def commit() -> None:  # one transaction either way: `extend` registers a named graph it writes into
            if quads:
                self._store.extend(quads)
            elif isinstance(name, NamedNode):
                self._store.add_graph(name)

        self._write("adding to the graph", commit)

    def drop_graph(self, graph) -> bool:
        name = _graph_name(graph)
        existed = True

        def commit() -> None:
            nonlocal existed
            existed = isinstance(name, DefaultGraph) or self._store.contains_named_graph(name)
            if isinstance(name, DefaultGraph):
                self._store.clear_graph(name)
            elif existed:
                self._store.remove_graph(name)

        self._write("dropping the graph", commit)
        return existed

    def load_file(
        self,
        path: Path,
        graph: str | None,
        *,
        replace: bool = False,
        progress: Progress | None = None,
        limits: UploadLimits = UploadLimits(),
    ) -> int:
        """Bulk-load an RDF file; triples go to `graph`. The whole file is parsed first, so a syntax error
        changes nothing. `progress` receives bytes read. Returns the number of triples or quads read."""
        rdf_format = rdf_format_of(path)
        with path.open("rb") as stream:
            read = check_parses(stream, rdf_format, path, progress, limits)
        name = _graph_name(graph)

        def commit() -> None:
            if replace:
                self._store.clear_graph(name) if isinstance(name, DefaultGraph) else self._store.remove_graph(name)
            self._store.bulk_load(path=str(path), format=rdf_format, to_graph=name)
            if isinstance(name, NamedNode):
                self._store.add_graph(name)
            # Compact what the bulk load left (~1 s per million triples): unoptimised, a freshly loaded store
            # answered cheap queries at half speed until RocksDB had compacted it (BENCHMARKS.md).
            self._store.optimize()

        self._write(f"loading {path.name}", commit, atomic=False)
        return read

    def _write(
        self,
        doing: str,
        commit: Callable[[], None],
        *,
        atomic: bool = True,
        replay: str | None = None,
        small: bool = False,
    ) -> None:
        """One write under the lock: recover from an earlier storage failure, refuse to start without room on the
        disk, commit, publish. Whatever fails, the error says truly whether anything was written: an atomic
        commit that raised wrote nothing, a bulk load may have written part. `replay`: the update, when an
        in-memory copy can apply it too (`EngineFollower.written`); `small`: a short INSERT/DELETE DATA, which
        need not measure the free space every time (`WriteHealth.check_room`)."""
        with self._write_lock:
            self._recover(doing)
            self._health.check_room(doing, small=small)
            try:
                commit()
            except (OSError, ValueError, RuntimeError) as error:  # a client's mistake, e.g. CLEAR of a missing graph
                if not atomic:
                    self._publish_part(doing)
                if not is_storage_failure(error):
                    raise engine_refusal(doing, error) from error
                failure = storage_failure(error, written=False if atomic else None, doing=doing)
                self._health.failed(failure, engine=True)
                raise failure from error
            ticket = self._publish(doing, flush=not atomic, replay=replay)
        if ticket is not None:
            self._sync_log(doing, ticket)

    def _sync_log(self, doing: str, ticket: int) -> None:
        """`sync` mode: the write-ahead log reaches the disk before the answer, outside the write lock, so that one
        sync covers every write committed before it (group commit, durability.py). A failed sync: the write is
        committed and seen, but not known to be on the disk; the next write or probe flushes it first."""
        try:
            self._wal.sync(ticket)
        except OSError as error:
            failure = storage_failure(error, written=True, doing=f"{doing} (syncing it to the disk)")
            with self._write_lock:
                self._unpublished = True
                self._health.failed(failure, engine=is_storage_failure(error))
            raise failure from error

    def _publish(self, doing: str, *, flush: bool = False, replay: str | None = None) -> int | None:
        """Make a committed write durable and visible (`_changed`). If that fails the write still stands and the
        answer says so (committed, not yet seen by readers); the next write or readiness probe publishes it.
        Returns the ticket of a log sync still to wait for (`_sync_log`)."""
        self._unpublished = True
        try:
            ticket = self._changed(flush, replay)
        except Exception as error:  # noqa: BLE001 - whatever fails now, the commit stands: never a bare 500 for it
            failure = storage_failure(error, written=True, doing=f"{doing} (making it durable and visible)")
            self._health.failed(failure, engine=is_storage_failure(error))
            raise failure from error
        self._unpublished = False
        self._health.succeeded()
        return ticket

    def _publish_part(self, doing: str) -> None:
        """A failed bulk load may have changed the store (`replace` even removed the graph): publish it at once, so
        that no cached result or copy of the old content is read; if even that fails, the next write or probe does."""
        try:
            self._publish(f"what {doing} wrote", flush=True)
        except StorageError as error:
            log.warning("%s", error)

    def _recover(self, doing: str) -> None:
        """After a storage failure, before the next write: reopen the engine once the disk has room again, then
        publish a committed write whose publication failed. Nothing of the new write is done if this fails."""
        if self._health.reopen_needed:
            self._health.check_room(doing)
            self._health.check_reopen(doing)
            self._reopen()
        if self._unpublished:
            try:
                self._publish("an earlier committed write", flush=True)
            except StorageError as error:
                raise type(error)(f"{doing} was refused, nothing of it was written: {error}", written=False) from error

    def _reopen(self) -> None:
        """Open the engine again: RocksDB refuses every write after one failed on the disk until it is reopened
        (every acknowledged write is there; a failed one is not: measured on a full tmpfs). What follows the engine
        lets go of the old handle first, since RocksDB frees its lock only when no handle is left."""
        assert self.path is not None  # an in-memory store has no disk to fail
        if self._follower is not None:
            self._follower.releasing()
        self._engine = None
        gc.collect()  # the failure's traceback is a cycle (frame -> exception -> frame) that holds the old handle
        try:
            self._engine = OxStore(str(self.path))
        except OSError as error:  # e.g. an export still streams from the old handle: the next write tries again
            raise storage_failure(error, written=False, doing="reopening the store after a storage failure") from error
        self._health.reopen_needed = False
        if self._follower is not None:
            self._follower.reopened(self._engine)
        log.warning("reopened the store after a storage failure")

    def storage_problem(self) -> str | None:
        """Why this store cannot write now, or None. The probe also recovers (reopen, publish a pending write) once
        the disk has room again, so writes and `/readyz` come back without a restart; never waits for a write."""
        if (self._health.reopen_needed or self._unpublished) and self._write_lock.acquire(blocking=False):
            try:
                self._recover("the readiness probe")
            except StorageError:
                pass  # still failing: `problem` says why
            finally:
                self._write_lock.release()
        if self._health.reopen_needed or self._unpublished:
            return f"the store has not recovered from a storage failure yet ({self._health.failure})"
        return self._health.problem()

    def _changed(self, flush: bool = False, replay: str | None = None) -> int | None:
        """Publish a write: the generation, which readers, caches and checkpoints key on, moves on. A commit is in
        RocksDB's write-ahead log, which it does not sync: `sync` mode syncs the log (~0.3 ms) before the answer,
        after the write lock is released (the returned ticket, `_sync_log`), `process` mode leaves it to a
        periodic sync (durability.py). A bulk load, which bypasses the log, and a write published late (after a
        storage failure) are flushed to synced files here instead. The follower hears of it (the serving store:
        its in-memory copy follows, its workers' next checkpoint is taken when a query needs it)."""
        ticket = None
        if self._wal is not None:
            if flush:
                self._store.flush()
            elif self._periodic_sync is None:
                ticket = self._wal.committed()
            else:
                self._periodic_sync.written()
        self._generation += 1
        self._duplicates.written(replay)
        if self._follower is not None:
            self._follower.written(replay, self._generation)
        return ticket

    def close(self) -> None:
        if self._periodic_sync is not None:
            self._periodic_sync.close()
        if self._engine is not None:
            try:
                self._engine.flush()
            except OSError as error:  # a full disk: every acknowledged write is already durable (see `_changed`)
                log.warning("could not flush the store on closing: %s", error)


"""The serving store: what `filmgraph serve` wraps around the embedded store, a `Store` itself.

Queries go to a pool of worker processes reading checkpoints of the store (pool.py, checkpoints.py), or, when
their shape is known to be cheap, to the inline lane in this process (inline.py); results are cached per
generation (cache.py). Writes go to the embedded store, which keeps the only read-write handle: a worker killed on
timeout never holds it, and a read that follows a write sees it (the workers' checkpoint is taken when a query
needs it after a write). README.md beside this file tells the whole of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from pyoxigraph import NamedNode, Quad, QueryResultsFormat, RdfFormat, Store as OxStore, parse, parse_query_results

from ..errors import FilmgraphError, QueryTimeout
from ..settings import Settings
from ..store import open_store
from ..formats import N_TRIPLES, SPARQL_JSON
from ..store.base import HealthCheck, QueryResult, SerializedResult, Store
from ..store.embedded import EmbeddedStore
from ..store.evaluation import QueryTask
from ..store.rdf_files import UploadLimits
from .answer import Answer
from .cache import ResultCache, cache_key
from .checkpoints import Checkpoints
from .choice import Copy, CopyChoice
from .inline import InlineLane, blank_constants, inline_shape
from .memory_copy import ServerCopy

TERMS_MEDIA_TYPES = f"{SPARQL_JSON.media_type}, {N_TRIPLES.media_type}"


def terms_of(result: SerializedResult) -> QueryResult:
    """Parse engine-serialised bytes (TERMS_MEDIA_TYPES) back into terms (the worker path of `Store.query`)."""
    body = b"".join(result.chunks())
    if result.kind == "construct":
        return QueryResult.of(parse(body, format=RdfFormat.N_TRIPLES))
    return QueryResult.of(parse_query_results(body, format=QueryResultsFormat.JSON))


class ServingStore(Store):
    """The embedded store at `path`, its queries answered by `workers` processes (none: in this process), under
    the query timeout and result limits, with a result cache and, with `inline_queries`, the inline lane."""

    def __init__(
        self,
        path: Path | str,
        *,
        workers: int = 0,
        worker_store: str = "disk",
        max_pending: int = 64,
        query_timeout: float = 30.0,
        max_result_bytes: int = 256 * 2**20,
        result_cache_size: int = 0,
        spill_bytes: int = 2**20,
        inline_queries: bool = False,
        inline_copy: bool = True,
        min_free_bytes: int = 0,
        durability: str = "sync",
        sync_interval: float = 1.0,
    ) -> None:
        self.disk = EmbeddedStore(path, min_free_bytes=min_free_bytes, durability=durability,
                                  sync_interval=sync_interval)  # fmt: skip
        self.path = self.disk.path
        self._worker_store = worker_store
        self._copies_inline = inline_copy and worker_store != "disk"  # the server process keeps a copy of its own
        self.query_timeout = query_timeout
        self.max_result_bytes = max_result_bytes
        self.spill_bytes = spill_bytes  # larger results travel through a spool file, not the pipe
        self._cache = ResultCache(result_cache_size)
        self._spool: str | None = None  # where workers write large results
        self.pool = None
        self.inline: InlineLane | None = None
        self._inline_copy: ServerCopy | None = None
        self._choice = CopyChoice() if workers and worker_store != "disk" else None  # which copy a worker reads
        self.disk.follow(self)
        if workers:
            # Whether a triple is in several graphs, asked once now beside the first copies: reads after small
            # writes then carry it over them in microseconds (store/dataset.py) instead of asking the store whole.
            duplicates = threading.Thread(target=self.disk.learn_duplicates, daemon=True, name="duplicates")
            duplicates.start()
            self._prepare_checkpoints()
            first_copy = self._start_inline_lane() if inline_queries else None
            self._start_pool(workers, worker_store, max_pending)
            for ready in (first_copy, duplicates):
                if ready is not None:
                    ready.join()  # as the workers' first copies: before the service reports ready

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingStore:
        """The store `filmgraph serve` uses: workers, limits and cache as the settings say."""
        return cls(
            settings.store,
            workers=settings.workers,
            worker_store=settings.worker_store,
            max_pending=settings.max_pending_queries,
            query_timeout=settings.query_timeout,
            max_result_bytes=settings.max_result_bytes,
            result_cache_size=settings.result_cache_size,
            inline_queries=settings.inline_queries,
            inline_copy=settings.inline_copy,
            min_free_bytes=settings.min_free_bytes,
            durability=settings.durability,
            sync_interval=settings.sync_interval,
        )

    # --- worker pool and checkpoints -------------------------------------------------------------------
    def _prepare_checkpoints(self) -> None:
        """An empty directory beside the store for checkpoints (and the dumps copies are made of) and spooled
        results, and the first checkpoint, which every first copy is made of."""
        if self.path is None:
            raise ValueError("query workers need an on-disk store (they read its checkpoints)")
        shutil.rmtree(self._checkpoints_root, ignore_errors=True)
        (self._checkpoints_root / "spool").mkdir(parents=True)
        self._spool = str(self._checkpoints_root / "spool")
        self._checkpoints = Checkpoints(self._checkpoints_root, self.disk.snapshot_source, lambda: self.generation)
        self._checkpoints.publish(self.disk.engine, self.generation)

    def _start_pool(self, workers: int, worker_store: str, max_pending: int) -> None:
        from .pool import QueryPool  # noqa: PLC0415 - processes only once workers are asked for

        self.pool = QueryPool(workers, self._checkpoints, worker_store, max_pending)
        self.pool.start()

    def _start_inline_lane(self) -> threading.Thread | None:
        """The lane evaluates on the read-write store, or, as the workers do in `memory` and `auto` mode (unless
        `inline_copy` is off), on an in-memory copy of it while the copy holds the current generation. Returns the
        thread building the first copy (alongside the workers' first copies, from the same dump)."""
        self.inline = InlineLane(self.disk.engine)
        return self._new_copy() if self._copies_inline else None

    def _new_copy(self) -> threading.Thread | None:
        self._inline_copy = ServerCopy(self._checkpoints, self._worker_store, lambda: self.generation)
        return self._inline_copy.refresh()

    @property
    def _checkpoints_root(self) -> Path:
        assert self.path is not None
        return self.path.parent / f".{self.path.name}-checkpoints"

    # --- what the embedded store tells of its engine (`EngineFollower`) -----------------------------------
    def written(self, replay: str | None, generation: int) -> None:
        """The in-memory copy applies a small ground INSERT/DELETE DATA too, else is rebuilt once writes pause
        (memory_copy.py): until then reads use the read-write store or a new checkpoint, never a stale copy. The
        workers hear of the generation: none copies a checkpoint a write has left behind."""
        if self._inline_copy is not None:
            self._inline_copy.follow(replay, generation)
        if self.pool is not None:
            self.pool.written(generation)

    def releasing(self) -> None:
        """The inline lane and its copy let go of the old handle first, since RocksDB frees its lock only when no
        handle is left."""
        if self._inline_copy is not None:
            self._inline_copy.close()
            self._inline_copy = None
        if self.inline is not None:
            self.inline.use_store(None)

    def reopened(self, engine: OxStore) -> None:
        if self.inline is not None:
            self.inline.use_store(engine)
            if self._copies_inline:
                self._new_copy()

    # --- reads -----------------------------------------------------------------------------------------
    def _task(self, sparql, media_types, bindings, dataset, merge: bool = False) -> QueryTask:
        spool = self._spool if self.pool is not None else None
        return QueryTask(sparql, media_types, bindings, dataset, self.max_result_bytes, spool, self.spill_bytes, merge)

    def _evaluate(self, task: QueryTask, timeout: float | None) -> SerializedResult:
        key = cache_key(self.generation, task.sparql, task.media_types, task.bindings, task.dataset)
        result = self._cache.get(key)
        if result is None:
            if self.pool is not None:
                result = self._evaluate_pooled(task, timeout or self.query_timeout).result
            else:
                result = self.disk.evaluate(task)
            self._cache.put(key, result)
        return result

    def _evaluate_pooled(self, task: QueryTask, timeout: float) -> Answer:
        """A thread's query (REST routes): inline if its shape is known cheap, so that lookups are answered even
        while runaway queries hold every worker; else by a worker."""
        shape = blank_constants(task.sparql)
        done = self._inline_first(shape, task, timeout, from_thread=True)
        if done is None:
            copy = self._copy_for(shape)
            with self._unanswered(shape, copy, timeout):
                done = self.pool.run(task, timeout, copy)
            self._learn(shape, done)
        return done

    def _inline_first(self, shape: str, task: QueryTask, timeout: float, from_thread: bool = False) -> Answer | None:
        """The answer from the inline lane if the lane admits the query's shape and it stayed in budget."""
        if self.inline is None or task.merge_union:  # a merged view lives in the workers only
            return None
        lane_shape = inline_shape(shape)
        if self.inline.admits(lane_shape, from_thread):
            return self.inline.run(lane_shape, task, timeout, self._current_copy(), from_thread)
        return None

    def _copy_for(self, shape: str) -> Copy:
        """The copy of a worker's graph (memory or disk) the shape runs faster on (choice.py)."""
        return "memory" if self._choice is None else self._choice.pick(shape)

    @contextlib.contextmanager
    def _unanswered(self, shape: str, copy: Copy, timeout: float) -> Iterator[None]:
        """Around a worker's query: one that got no answer still ends a try of its copy (choice.py)."""
        try:
            yield
        except FilmgraphError as error:
            if self._choice is not None:
                self._choice.failed(shape, copy, timeout if isinstance(error, QueryTimeout) else None)
            raise

    def _learn(self, shape: str, done: Answer) -> None:
        if self.inline is not None:
            self.inline.learn(inline_shape(shape), done.seconds, done.cold)
        if self._choice is not None:
            self._choice.record(shape, done.copy, done.seconds)

    def query_serialized_now(self, sparql, media_type, bindings=None, dataset=None, timeout=None):
        """A cache hit, or the inline lane's answer to a shape it knows to be cheap: on the event loop itself."""
        if self.pool is None:
            return None
        key = cache_key(self.generation, sparql, media_type, bindings, dataset)
        return self._answer_now(key, sparql, media_type, bindings, dataset, timeout)

    def _answer_now(self, key, sparql, media_type, bindings, dataset, timeout) -> SerializedResult | None:
        result = self._cache.get(key)
        if result is not None:
            return result
        merge = self.disk.merge_needed(sparql, dataset, quick=True)  # known, or carried over a few small writes
        if merge is None:  # an ASK over the store, or a busy write lock: not on the loop
            return None
        task = self._task(sparql, media_type, bindings, dataset, merge)
        done = self._inline_first(blank_constants(sparql), task, timeout or self.query_timeout)
        if done is None:
            return None
        self._cache.put(key, done.result)
        return done.result

    async def query_serialized_async(self, sparql, media_type, bindings=None, dataset=None, timeout=None):
        """What `query_serialized_now` cannot answer goes to a free worker, without a thread hop."""
        if self.pool is None:
            return await super().query_serialized_async(sparql, media_type, bindings, dataset, timeout)
        key = cache_key(self.generation, sparql, media_type, bindings, dataset)
        result = self._answer_now(key, sparql, media_type, bindings, dataset, timeout)
        if result is None:
            merge = self.disk.merge_needed(sparql, dataset, quick=True)  # known, or carried over a few small writes
            if merge is None:  # an ASK over the store, or a busy write lock: off the loop
                merge = await asyncio.to_thread(self.disk.merge_needed, sparql, dataset)
            task = self._task(sparql, media_type, bindings, dataset, merge)
            result = (await self._evaluate_async(task, timeout)).result
            self._cache.put(key, result)
        return result

    async def _evaluate_async(self, task: QueryTask, timeout: float | None) -> Answer:
        """The inline lane's answer if it takes the query now (a shape `_answer_now` could not try: the merge
        was not known yet), else a worker's."""
        timeout = timeout or self.query_timeout
        shape = blank_constants(task.sparql)
        done = self._inline_first(shape, task, timeout)
        if done is None:
            copy = self._copy_for(shape)
            with self._unanswered(shape, copy, timeout):
                done = await self.pool.run_async(task, timeout, copy)
            self._learn(shape, done)
        return done

    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        if self.pool is None:
            return self.disk.query(sparql, bindings, dataset, timeout)
        merge = self.disk.merge_needed(sparql, dataset)
        return terms_of(self._evaluate(self._task(sparql, TERMS_MEDIA_TYPES, bindings, dataset, merge), timeout))

    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        """`media_type` may list several types (comma-separated, preferred first): the first that fits is used.
        A large result from a worker comes as a stream of chunks read from its spool file."""
        merge = self.disk.merge_needed(sparql, dataset)
        return self._evaluate(self._task(sparql, media_type, bindings, dataset, merge), timeout)

    def quads(self, graph=None) -> Iterator[Quad]:
        """Streamed from the in-memory copy while it holds the current generation (exports: at 1M quads it is read
        in under a second, the disk in 7–8 s), else from the disk."""
        copy = self._current_copy()  # not `or`: a Store's truth is its length, and an empty copy is still current
        if copy is None:
            return self.disk.quads(graph)
        if graph:
            return iter(copy.quads_for_pattern(None, None, None, NamedNode(graph)))
        return iter(copy.quads_for_pattern(None, None, None))

    def _current_copy(self) -> OxStore | None:
        """The server process's in-memory copy, if there is one and it holds the current generation."""
        return self._inline_copy.current(self.generation) if self._inline_copy is not None else None

    def named_graphs(self) -> list[str]:
        return self.disk.named_graphs()

    def has_graph(self, graph: str | None) -> bool:
        return self.disk.has_graph(graph)

    def count(self, graph=None) -> int:
        return self.disk.count(graph)

    def dump_graph(self, graph: str | None, media_type: str) -> SerializedResult:
        return self.disk.dump_graph(graph, media_type)

    @property
    def generation(self) -> int:
        return self.disk.generation

    def health(self) -> list[HealthCheck]:
        """The pool answers while one worker runs; the in-memory copy never stops the service (the disk answers
        while it is built or failing), so it is reported, never failed."""
        checks = []
        if self.pool is not None:
            state = self.pool.state()
            state["checkpoint_leases"] = self._checkpoints.held()
            if not state["alive"]:
                state["error"] = "no query worker is running"
            checks.append(HealthCheck("query workers", state["alive"] > 0, state))
        if self._inline_copy is not None:
            copy = self._inline_copy
            checks.append(HealthCheck("in-memory copy", True, {"state": copy.state, "last_error": copy.last_error}))
        return checks

    # --- writes: the embedded store's -------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        self.disk.update(sparql)

    async def update_async(self, sparql: str) -> None:
        await self.disk.update_async(sparql)

    def update_now(self, sparql: str) -> bool:
        return self.disk.update_now(sparql)

    def replace_graph(self, graph, quads_or_triples) -> None:
        self.disk.replace_graph(graph, quads_or_triples)

    def add_to_graph(self, graph, quads_or_triples) -> None:
        self.disk.add_to_graph(graph, quads_or_triples)

    def drop_graph(self, graph) -> bool:
        return self.disk.drop_graph(graph)

    def load_file(self, path, graph, *, replace=False, progress=None, limits=UploadLimits()) -> int:
        return self.disk.load_file(path, graph, replace=replace, progress=progress, limits=limits)

    def storage_problem(self) -> str | None:
        return self.disk.storage_problem()

    def stop_taking_queries(self, within: float) -> None:
        if self.pool is not None:
            self.pool.stop_taking_queries(within)

    def close(self) -> None:
        if self._inline_copy is not None:
            self._inline_copy.close()
        if self.pool is not None:
            self.pool.close()
            self.pool = None
            shutil.rmtree(self._checkpoints_root, ignore_errors=True)
        self.disk.close()


def open_serving_store(settings: Settings) -> Store:
    """The store `filmgraph serve` serves: the embedded one wrapped in the serving engine, or the remote endpoint
    as it is (it has its own)."""
    if settings.backend == "remote":
        return open_store(settings)
    return ServingStore.from_settings(settings)

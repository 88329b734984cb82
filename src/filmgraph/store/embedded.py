"""The embedded store: pyoxigraph on disk, optionally answering queries from a pool of worker processes.

Without workers (CLI, build, notebooks) queries run in this process. With workers (`filmgraph serve`) this process
keeps the only read-write handle (writes, persistence); after every committed write it bumps the generation and
takes a RocksDB checkpoint (`Store.backup`, hard links: cheap), which the workers open read-only. A read that
follows a write therefore sees it, and a worker killed on timeout never holds the read-write store.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Store as OxStore,
    Triple,
    parse,
    parse_query_results,
)

from ..errors import BadRequest, QuerySyntaxError, UnsupportedFormat
from ..settings import Settings
from .base import Dataset, HealthCheck, QueryResult, SerializedResult, Store
from .cache import ResultCache, cache_key
from .checkpoints import Checkpoints
from .rdf_files import Progress, check_parses, graph_format, rdf_format_of
from .evaluation import Evaluated, QueryTask, evaluate, result_kind, run_query
from .inline import InlineLane, shape_of
from .memory_copy import InlineCopy

TERMS_MEDIA_TYPES = "application/sparql-results+json, application/n-triples"


def _graph_name(graph: str | None) -> NamedNode | DefaultGraph:
    return DefaultGraph() if graph is None else NamedNode(graph)


def _as_quad(item: Quad | Triple, graph: NamedNode | DefaultGraph) -> Quad:
    return Quad(item.subject, item.predicate, item.object, graph)


def terms_of(done: Evaluated) -> QueryResult:
    """Parse engine-serialised bytes back into terms (the worker path of `Store.query`)."""
    if done.spooled is not None:
        done = Evaluated(done.kind, done.media_type, b"".join(done.chunks()))
    if done.kind == "construct":
        return QueryResult("construct", triples=[q.triple for q in parse(done.body, format=RdfFormat.N_TRIPLES)])
    parsed = parse_query_results(done.body, format=QueryResultsFormat.JSON)
    if done.kind == "ask":
        return QueryResult("ask", boolean=bool(parsed))
    variables = [v.value for v in parsed.variables]
    rows = [{name: row[name] for name in variables if row[name] is not None} for row in parsed]
    return QueryResult("select", variables=variables, rows=rows)


def _serialized(done: Evaluated) -> SerializedResult:
    body = [done.body] if done.spooled is None else done.chunks()
    return SerializedResult(done.kind, done.media_type, body)


class EmbeddedStore(Store):
    """pyoxigraph's store (on disk, or in memory when `path` is None); the query default graph is the union."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        workers: int = 0,
        worker_store: str = "disk",
        max_pending: int = 64,
        query_timeout: float = 30.0,
        max_result_bytes: int = 256 * 2**20,
        result_cache_size: int = 0,
        spill_bytes: int = 2**20,
        inline_queries: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = OxStore(str(self.path))
        else:
            self._store = OxStore()
        self.query_timeout = query_timeout
        self.max_result_bytes = max_result_bytes
        self.spill_bytes = spill_bytes  # larger results travel through a spool file, not the pipe
        self._cache = ResultCache(result_cache_size)
        self._generation = 0
        self._write_lock = threading.RLock()
        self._spool: str | None = None  # where workers write large results
        self.pool = None
        self.inline: InlineLane | None = None
        self._inline_copy: InlineCopy | None = None
        if workers:
            self._prepare_checkpoints()
            first_copy = self._start_inline_lane(worker_store) if inline_queries else None
            self._start_pool(workers, worker_store, max_pending)
            if first_copy is not None:
                first_copy.join()  # as the workers' first copies: built before the service reports ready

    @classmethod
    def from_settings(cls, settings: Settings, *, serving: bool = False) -> EmbeddedStore:
        """The store `filmgraph serve` uses (workers, limits, cache) or, if not serving, a plain in-process one."""
        if not serving:
            return cls(settings.store, query_timeout=settings.query_timeout)
        return cls(
            settings.store,
            workers=settings.workers,
            worker_store=settings.worker_store,
            max_pending=settings.max_pending_queries,
            query_timeout=settings.query_timeout,
            max_result_bytes=settings.max_result_bytes,
            result_cache_size=settings.result_cache_size,
            inline_queries=settings.inline_queries,
        )

    # --- worker pool and checkpoints -------------------------------------------------------------------
    def _prepare_checkpoints(self) -> None:
        """An empty directory beside the store for checkpoints, spooled results and the dumps copies are made of."""
        if self.path is None:
            raise ValueError("query workers need an on-disk store (they read its checkpoints)")
        shutil.rmtree(self._checkpoints_root, ignore_errors=True)
        (self._checkpoints_root / "spool").mkdir(parents=True)
        self._spool = str(self._checkpoints_root / "spool")

    def _start_pool(self, workers: int, worker_store: str, max_pending: int) -> None:
        from .pool import QueryPool  # noqa: PLC0415 - only the server needs processes

        self._checkpoints = Checkpoints(self._checkpoints_root)
        self._checkpoint(self._generation)
        self.pool = QueryPool(workers, self._checkpoints, worker_store, max_pending)
        self.pool.start()

    def _start_inline_lane(self, worker_store: str) -> threading.Thread | None:
        """The lane evaluates on the read-write store, or, as the workers do in `memory` and `auto` mode, on an
        in-memory copy of it while the copy holds the current generation. Returns the thread building the first
        copy (alongside the workers' first copies)."""
        self.inline = InlineLane(self._store)
        if worker_store == "disk":
            return None
        self._inline_copy = InlineCopy(self._store, worker_store, lambda: self._generation, self._checkpoints_root)
        return self._inline_copy.refresh()

    @property
    def _checkpoints_root(self) -> Path:
        assert self.path is not None
        return self.path.parent / f".{self.path.name}-checkpoints"

    def _checkpoint(self, generation: int) -> None:
        """A consistent read-only snapshot of `generation` for the workers; older ones go once no worker leases
        them (checkpoints.py)."""
        self._checkpoints.publish(self._store, generation)

    # --- reads -----------------------------------------------------------------------------------------
    def _task(self, sparql, media_types, bindings, dataset) -> QueryTask:
        spool = self._spool if self.pool is not None else None
        return QueryTask(sparql, media_types, bindings, dataset, self.max_result_bytes, spool, self.spill_bytes)

    def _evaluate(self, task: QueryTask, timeout: float | None) -> Evaluated:
        key = cache_key(self._generation, task.sparql, task.media_types, task.bindings, task.dataset)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.pool is not None:
            done = self._evaluate_pooled(task, timeout or self.query_timeout)
        else:
            done = evaluate(self._store, task)
        self._cache.put(key, done)
        return done

    def _evaluate_pooled(self, task: QueryTask, timeout: float) -> Evaluated:
        """A thread's query (REST routes): inline if its shape is known cheap, so that lookups are answered even
        while runaway queries hold every worker; else by a worker."""
        shape, done = self._inline_first(task, timeout, from_thread=True)
        if done is None:
            done = self.pool.run(task, timeout)
            self._learn(shape, done)
        return done

    def _inline_first(
        self, task: QueryTask, timeout: float, from_thread: bool = False
    ) -> tuple[str | None, Evaluated | None]:
        """The query's shape, and its answer from the inline lane if the lane admits it and it stayed in budget."""
        if self.inline is None:
            return None, None
        shape = shape_of(task.sparql)
        if self.inline.admits(shape, from_thread):
            return shape, self.inline.run(shape, task, timeout, self._current_copy(), from_thread)
        return shape, None

    def _learn(self, shape: str | None, done: Evaluated) -> None:
        if self.inline is not None:
            self.inline.learn(shape, done.seconds)

    async def query_serialized_async(self, sparql, media_type, bindings=None, dataset=None, timeout=None):
        """Cache hits, and queries of a shape the inline lane knows to be cheap, are answered on the event loop
        itself; the others go to a free worker without a thread hop."""
        if self.pool is None:
            return await super().query_serialized_async(sparql, media_type, bindings, dataset, timeout)
        key = cache_key(self._generation, sparql, media_type, bindings, dataset)
        done = self._cache.get(key)
        if done is None:
            done = await self._evaluate_async(self._task(sparql, media_type, bindings, dataset), timeout)
            self._cache.put(key, done)
        return _serialized(done)

    async def _evaluate_async(self, task: QueryTask, timeout: float | None) -> Evaluated:
        timeout = timeout or self.query_timeout
        shape, done = self._inline_first(task, timeout)
        if done is None:
            done = await self.pool.run_async(task, timeout)
            self._learn(shape, done)
        return done

    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        if self.pool is not None:
            return terms_of(self._evaluate(self._task(sparql, TERMS_MEDIA_TYPES, bindings, dataset), timeout))
        result = run_query(self._store, sparql, bindings, dataset)
        kind = result_kind(result)
        if kind == "ask":
            return QueryResult(kind="ask", boolean=bool(result))
        if kind == "select":
            variables = [v.value for v in result.variables]
            rows = [{name: row[name] for name in variables if row[name] is not None} for row in result]
            return QueryResult(kind="select", variables=variables, rows=rows)
        return QueryResult(kind="construct", triples=list(result))

    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        """`media_type` may list several types (comma-separated, preferred first): the first that fits is used.
        A large result from a worker comes as a stream of chunks read from its spool file."""
        return _serialized(self._evaluate(self._task(sparql, media_type, bindings, dataset), timeout))

    def quads(self, graph=None) -> Iterator[Quad]:
        """Streamed from the in-memory copy while it holds the current generation (exports: at 1M quads it is read
        in under a second, the disk in 7–8 s), else from the disk."""
        copy = self._current_copy()  # not `or`: a Store's truth is its length, and an empty copy is still current
        source = self._store if copy is None else copy
        if graph:
            return iter(source.quads_for_pattern(None, None, None, NamedNode(graph)))
        return iter(source.quads_for_pattern(None, None, None))

    def _current_copy(self) -> OxStore | None:
        """The server process's in-memory copy, if there is one and it holds the current generation."""
        return self._inline_copy.current(self._generation) if self._inline_copy is not None else None

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
        return SerializedResult("construct", rdf_format.media_type, [body])

    @property
    def generation(self) -> int:
        return self._generation

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

    # --- writes: each one is a single pyoxigraph transaction, then a new generation ---------------------
    def update(self, sparql: str) -> None:
        with self._write_lock:
            try:
                self._store.update(sparql)
            except SyntaxError as error:
                raise QuerySyntaxError(str(error)) from error
            except (OSError, ValueError, RuntimeError) as error:  # e.g. CLEAR GRAPH of a graph that is not there
                raise BadRequest(f"the update failed and changed nothing: {error}") from error
            self._changed()

    def replace_graph(self, graph, quads_or_triples: Iterable[Quad | Triple]) -> None:
        """Drop and refill a graph in one SPARQL Update (one transaction), terms written by pyoxigraph."""
        name = _graph_name(graph)
        target = "DEFAULT" if isinstance(name, DefaultGraph) else f"GRAPH {name}"
        data = " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in quads_or_triples)
        inner = data if isinstance(name, DefaultGraph) else f"GRAPH {name} {{ {data} }}"
        with self._write_lock:
            self._store.update(f"CLEAR SILENT {target} ; INSERT DATA {{ {inner} }}")
            if isinstance(name, NamedNode):
                self._store.add_graph(name)
            self._changed()

    def add_to_graph(self, graph, quads_or_triples) -> None:
        name = _graph_name(graph)
        with self._write_lock:
            self._store.extend([_as_quad(item, name) for item in quads_or_triples])
            if isinstance(name, NamedNode):
                self._store.add_graph(name)
            self._changed()

    def drop_graph(self, graph) -> bool:
        name = _graph_name(graph)
        with self._write_lock:
            existed = isinstance(name, DefaultGraph) or self._store.contains_named_graph(name)
            if isinstance(name, DefaultGraph):
                self._store.clear_graph(name)
            elif existed:
                self._store.remove_graph(name)
            self._changed()
        return existed

    def load_file(
        self,
        path: Path,
        graph: str | None,
        *,
        replace: bool = False,
        progress: Progress | None = None,
    ) -> int:
        """Bulk-load an RDF file; triples go to `graph`. The whole file is parsed first, so a syntax error
        changes nothing. `progress` receives bytes read. Returns the number of triples or quads read."""
        rdf_format = rdf_format_of(path)
        with path.open("rb") as stream:
            read = check_parses(stream, rdf_format, path, progress)
        name = _graph_name(graph)
        with self._write_lock:
            try:
                if replace:
                    self._store.clear_graph(name) if isinstance(name, DefaultGraph) else self._store.remove_graph(name)
                self._store.bulk_load(path=str(path), format=rdf_format, to_graph=name)
                if isinstance(name, NamedNode):
                    self._store.add_graph(name)
                # Compact what the bulk load left (~1 s per million triples): unoptimised, a freshly loaded store
                # answered cheap queries at half speed until RocksDB had compacted it (BENCHMARKS.md).
                self._store.optimize()
            finally:  # a bulk load is not one transaction: even a failed one may have changed the store
                self._changed()
        return read

    def _changed(self) -> None:
        """Publish a write: the workers' checkpoint first, then the generation, so that no result of the old
        checkpoint is ever cached under the new generation."""
        if self.pool is not None:
            self._checkpoint(self._generation + 1)
        self._generation += 1
        if self._inline_copy is not None:
            self._inline_copy.refresh()

    def close(self) -> None:
        if self._inline_copy is not None:
            self._inline_copy.close()
        if self.pool is not None:
            self.pool.close()
            self.pool = None
            shutil.rmtree(self._checkpoints_root, ignore_errors=True)
        self._store.flush()


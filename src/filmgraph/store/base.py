"""The one data-access interface: routes, CLI, build and exporters talk to a `Store`, never to an engine.

Two implementations: `EmbeddedStore` (pyoxigraph on disk, the default) and `RemoteStore` (any SPARQL 1.1
endpoint). Query parameters are always bound as RDF terms (`bindings`), never spliced into query text.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal as TypingLiteral

from pyoxigraph import (
    BlankNode, DefaultGraph, Literal, NamedNode, Quad, QueryBoolean, QuerySolutions, Triple, parse, serialize,
)

from ..errors import UnsupportedFormat
from .rdf_files import Progress, UploadLimits, check_parses, graph_format, rdf_format_of

Term = NamedNode | BlankNode | Literal | Triple
Row = dict[str, Term]
QueryKind = TypingLiteral["select", "ask", "construct"]


def result_kind(result: object) -> QueryKind:
    """The kind of pyoxigraph's answer: a query's result, or results parsed (`parse_query_results`, `parse`)."""
    if isinstance(result, QueryBoolean):
        return "ask"
    return "select" if isinstance(result, QuerySolutions) else "construct"


@dataclass
class QueryResult:
    """A fully read query result: rows for SELECT, a boolean for ASK, triples for CONSTRUCT/DESCRIBE."""

    kind: QueryKind
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)

    @classmethod
    def of(cls, result: QueryBoolean | QuerySolutions | Iterable[Triple | Quad]) -> QueryResult:
        """Read pyoxigraph's answer whole: a query's result (solutions, boolean, triples), or one parsed from the
        wire (`parse_query_results`; `parse`, whose quads give their triples). The one conversion to terms."""
        kind = result_kind(result)
        if kind == "ask":
            return cls("ask", boolean=bool(result))
        if kind == "select":
            variables = [v.value for v in result.variables]
            rows = [{name: row[name] for name in variables if row[name] is not None} for row in result]
            return cls("select", variables=variables, rows=rows)
        return cls("construct", triples=[item.triple if isinstance(item, Quad) else item for item in result])


@dataclass(frozen=True)  # one object may answer many requests (the result cache)
class SerializedResult:
    """A query result already serialised by the engine: what the SPARQL protocol sends on the wire. The one shape
    of an answer from the engine to the HTTP response. Its bytes are `body`, or, for a large result a query worker
    wrote to a file (serving/), that file, `spooled` (then `body` is empty): `chunks` reads either."""

    kind: QueryKind
    media_type: str
    body: bytes = field(repr=False)
    spooled: str | None = None

    def chunks(self, size: int = 2**16) -> Iterator[bytes]:
        """The bytes; a spooled result's read from its file, which is removed afterwards (it is read once)."""
        if self.spooled is None:
            yield self.body
            return
        try:
            with open(self.spooled, "rb") as stream:
                while chunk := stream.read(size):
                    yield chunk
        finally:
            Path(self.spooled).unlink(missing_ok=True)


@dataclass
class HealthCheck:
    """One part of readiness (`/readyz`): its name, whether it lets the service answer, and what it reports."""

    name: str
    ok: bool
    detail: dict[str, object] = field(default_factory=dict)


# Reserved graph names (Jena's), usable in FROM, default-graph-uri and GRAPH: the store's own default graph, and
# the RDF merge of every graph (what the query default graph is in union mode). store/dataset.py applies them.
DEFAULT_GRAPH_IRI = "urn:x-arq:DefaultGraph"
UNION_GRAPH_IRI = "urn:x-arq:UnionGraph"


@dataclass(frozen=True)
class Dataset:
    """A SPARQL protocol dataset (default-graph-uri / named-graph-uri; either may be a reserved IRI above).
    `query_default` is the default graph when neither these nor the query's FROM name one: the union for
    filmgraph's own queries (None dataset), the configured mode for the SPARQL endpoint."""

    default_graphs: Sequence[str] = ()
    named_graphs: Sequence[str] = ()
    query_default: str = UNION_GRAPH_IRI


class Store(ABC):
    """Everything filmgraph reads from or writes to an RDF store."""

    @abstractmethod
    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Term] | None = None,
        dataset: Dataset | None = None,
        timeout: float | None = None,
    ) -> QueryResult:
        """Run a query and return its whole result as terms (for the REST API, exports, CLI)."""

    @abstractmethod
    def query_serialized(
        self,
        sparql: str,
        media_type: str,
        bindings: Mapping[str, Term] | None = None,
        dataset: Dataset | None = None,
        timeout: float | None = None,
    ) -> SerializedResult:
        """Run a query and return it serialised in `media_type` (for the SPARQL protocol).

        `media_type` may list several types, comma-separated, preferred first (e.g. a results type and a graph
        type, since the query's kind is known only after parsing): the first that fits the result is used,
        else NotAcceptable. `timeout` (seconds) stops the query's work where the backend can."""

    async def query_serialized_async(
        self,
        sparql: str,
        media_type: str,
        bindings: Mapping[str, Term] | None = None,
        dataset: Dataset | None = None,
        timeout: float | None = None,
    ) -> SerializedResult:
        """`query_serialized` for async callers (the SPARQL route); by default in a thread, so the loop never blocks."""
        return await asyncio.to_thread(self.query_serialized, sparql, media_type, bindings, dataset, timeout)

    def query_serialized_now(
        self,
        sparql: str,
        media_type: str,
        bindings: Mapping[str, Term] | None = None,
        dataset: Dataset | None = None,
        timeout: float | None = None,
    ) -> SerializedResult | None:
        """The answer if it can be had at once on the caller's thread, which may be the event loop (a cached result,
        a query known to be cheap): no wait for a worker, a thread or the disk. None when it cannot; by default."""
        return None

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Apply a SPARQL Update atomically: on any error the store is left as it was."""

    async def update_async(self, sparql: str) -> None:
        """`update` for async callers (the SPARQL route); by default in a thread, so the loop never blocks."""
        await asyncio.to_thread(self.update, sparql)

    def update_now(self, sparql: str) -> bool:
        """Apply the update at once on the caller's thread, which may be the event loop, if it costs no wait (a
        small INSERT/DELETE DATA, nothing to sync, the write lock free); False, having done nothing, when it
        cannot. By default it cannot."""
        return False

    @abstractmethod
    def replace_graph(self, graph: str | None, quads_or_triples: Iterable[Quad | Triple]) -> None:
        """Atomically replace a named graph (or the default graph when `graph` is None)."""

    @abstractmethod
    def add_to_graph(self, graph: str | None, quads_or_triples: Iterable[Quad | Triple]) -> None:
        """Atomically add triples to a graph."""

    @abstractmethod
    def drop_graph(self, graph: str | None) -> bool:
        """Remove a graph; returns whether it existed."""

    @abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """All quads, or those of one graph ('' or None = every graph), streamed."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs."""

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Number of quads in the store or in one graph."""

    def has_graph(self, graph: str | None) -> bool:
        """Whether a named graph exists (the default graph always does)."""
        return graph is None or graph in self.named_graphs()

    def dump_graph(self, graph: str | None, media_type: str) -> SerializedResult:
        """One graph (None = the store's own default graph) serialised by the engine (Graph Store GET)."""
        rdf_format = graph_format(media_type)
        if rdf_format is None:
            raise UnsupportedFormat(f"cannot serialise one graph as {media_type}")
        triples = (q.triple for q in self.quads(graph) if graph is not None or isinstance(q.graph_name, DefaultGraph))
        return SerializedResult("construct", rdf_format.media_type, serialize(triples, format=rdf_format))

    def load_file(
        self,
        path: Path,
        graph: str | None,
        *,
        replace: bool = False,
        progress: Progress | None = None,
        limits: UploadLimits = UploadLimits(),
    ) -> int:
        """Load an RDF file (format from its extension); triples of its default graph go to `graph`.

        The whole file is parsed before the store is touched, so a syntax error changes nothing. `progress`
        receives bytes read; `limits` caps its literals and triples. Returns the number of triples or quads.
        Backends may override with a bulk loader."""
        rdf_format = rdf_format_of(path)
        with path.open("rb") as stream:
            read = check_parses(stream, rdf_format, path, progress, limits)
        by_graph: dict[str | None, list[Triple]] = {}
        with path.open("rb") as stream:
            for quad in parse(stream, format=rdf_format):
                name = graph if isinstance(quad.graph_name, DefaultGraph) else quad.graph_name.value
                by_graph.setdefault(name, []).append(quad.triple)
        (self.replace_graph if replace else self.add_to_graph)(graph, by_graph.pop(graph, []))
        for name, triples in by_graph.items():
            self.add_to_graph(name, triples)
        return read

    def storage_problem(self) -> str | None:
        """Why the store cannot write now (readiness fails on it), or None; a backend with no disk of its own says
        None."""
        return None

    @property
    @abstractmethod
    def generation(self) -> int:
        """A number that changes whenever the store's content changes (for ETags and caches)."""

    def health(self) -> list[HealthCheck]:
        """The states of the parts that answer queries (the embedded store: its workers, its in-memory copy)."""
        return []

    def stop_taking_queries(self, within: float) -> None:  # noqa: B027 - optional for implementations
        """The server shuts down: refuse queries waiting or new (503); those in flight get `within` seconds."""

    def close(self) -> None:  # noqa: B027 - optional for implementations
        """Release resources."""

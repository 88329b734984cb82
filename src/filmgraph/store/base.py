"""The one data-access interface: routes, CLI, build and exporters talk to a `Store`, never to an engine.

Two implementations: `EmbeddedStore` (pyoxigraph on disk, the default) and `RemoteStore` (any SPARQL 1.1
endpoint). Query parameters are always bound as RDF terms (`bindings`), never spliced into query text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

Term = NamedNode | BlankNode | Literal | Triple
Row = dict[str, Term]
QueryKind = TypingLiteral["select", "ask", "construct"]


@dataclass
class QueryResult:
    """A fully read query result: rows for SELECT, a boolean for ASK, triples for CONSTRUCT/DESCRIBE."""

    kind: QueryKind
    variables: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)


@dataclass
class SerializedResult:
    """A query result already serialised by the engine: what the SPARQL protocol sends on the wire."""

    kind: QueryKind
    media_type: str
    body: Iterable[bytes]


@dataclass(frozen=True)
class Dataset:
    """A SPARQL protocol dataset (default-graph-uri / named-graph-uri); empty lists mean the store's default."""

    default_graphs: Sequence[str] = ()
    named_graphs: Sequence[str] = ()


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
        """Run a query and return it serialised in `media_type` (for the SPARQL protocol)."""

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Apply a SPARQL Update atomically: on any error the store is left as it was."""

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

    @property
    @abstractmethod
    def generation(self) -> int:
        """A number that changes whenever the store's content changes (for ETags and caches)."""

    def close(self) -> None:  # noqa: B027 - optional for implementations
        """Release resources."""

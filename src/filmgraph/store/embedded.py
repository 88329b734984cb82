"""The embedded store: pyoxigraph on disk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store as OxStore,
    Triple,
    Variable,
)

from ..errors import QuerySyntaxError, UnsupportedFormat
from .base import Dataset, QueryResult, SerializedResult, Store, Term


def _graph_name(graph: str | None) -> NamedNode | DefaultGraph:
    return DefaultGraph() if graph is None else NamedNode(graph)


def _as_quad(item: Quad | Triple, graph: NamedNode | DefaultGraph) -> Quad:
    if isinstance(item, Quad):
        return Quad(item.subject, item.predicate, item.object, graph)
    return Quad(item.subject, item.predicate, item.object, graph)


class EmbeddedStore(Store):
    """pyoxigraph's on-disk store. The default graph of queries is the union of all graphs."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._store = OxStore(str(self.path))
        else:
            self._store = OxStore()
        self._generation = 0

    # --- reads -----------------------------------------------------------------------------------------
    def _run(self, sparql: str, bindings: Mapping[str, Term] | None, dataset: Dataset | None):
        kwargs: dict = {"use_default_graph_as_union": True}
        if dataset and dataset.default_graphs:
            kwargs = {"default_graph": [NamedNode(g) for g in dataset.default_graphs]}
        if dataset and dataset.named_graphs:
            kwargs["named_graphs"] = [NamedNode(g) for g in dataset.named_graphs]
        if bindings:
            kwargs["substitutions"] = {Variable(name): term for name, term in bindings.items()}
        try:
            return self._store.query(sparql, **kwargs)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from error

    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        result = self._run(sparql, bindings, dataset)
        if isinstance(result, QueryBoolean):
            return QueryResult(kind="ask", boolean=bool(result))
        if isinstance(result, QuerySolutions):
            variables = [v.value for v in result.variables]
            rows = [
                {name: solution[name] for name in variables if solution[name] is not None}
                for solution in result
            ]
            return QueryResult(kind="select", variables=variables, rows=rows)
        return QueryResult(kind="construct", triples=list(result))

    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        result = self._run(sparql, bindings, dataset)
        if isinstance(result, (QueryBoolean, QuerySolutions)):
            kind = "ask" if isinstance(result, QueryBoolean) else "select"
            results_format = QueryResultsFormat.from_media_type(media_type)
            if results_format is None:
                raise UnsupportedFormat(f"cannot serialise {kind} results as {media_type}")
            return SerializedResult(kind, results_format.media_type, [result.serialize(format=results_format)])
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise UnsupportedFormat(f"cannot serialise a graph as {media_type}")
        return SerializedResult("construct", rdf_format.media_type, [result.serialize(format=rdf_format)])

    def quads(self, graph=None) -> Iterator[Quad]:
        if graph:
            return iter(self._store.quads_for_pattern(None, None, None, NamedNode(graph)))
        return iter(self._store.quads_for_pattern(None, None, None))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, NamedNode))

    def count(self, graph=None) -> int:
        return sum(1 for _ in self.quads(graph))

    @property
    def generation(self) -> int:
        return self._generation

    # --- writes ----------------------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from error
        self._changed()

    def replace_graph(self, graph, quads_or_triples: Iterable[Quad | Triple]) -> None:
        name = _graph_name(graph)
        new_quads = [_as_quad(item, name) for item in quads_or_triples]
        old_quads = list(self._store.quads_for_pattern(None, None, None, name))
        # pyoxigraph's `update` is one transaction; removal and insertion must land together.
        for quad in old_quads:
            self._store.remove(quad)
        self._store.extend(new_quads)
        if isinstance(name, NamedNode) and not new_quads:
            self._store.add_graph(name)
        self._changed()

    def add_to_graph(self, graph, quads_or_triples) -> None:
        name = _graph_name(graph)
        self._store.extend([_as_quad(item, name) for item in quads_or_triples])
        self._changed()

    def drop_graph(self, graph) -> bool:
        name = _graph_name(graph)
        existed = isinstance(name, DefaultGraph) or self._store.contains_named_graph(name)
        if isinstance(name, DefaultGraph):
            self._store.clear_graph(name)
        elif existed:
            self._store.remove_graph(name)
        self._changed()
        return existed

    def _changed(self) -> None:
        self._generation += 1

    def close(self) -> None:
        self._store.flush()

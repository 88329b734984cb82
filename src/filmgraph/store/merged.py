"""A merged view of a store, for union queries whose answer depends on multiplicity while some triple is held in
several graphs (store/dataset.py): an in-memory store whose default graph is the RDF merge of all graphs, its
named graphs as they are. Built from the store in one pass (bulk loads), kept per generation by its user.

`MergedViews` is not a `PerVersion` value (store/derived.py): a view is a whole copy of the graph, so the old one is
let go before the next is built (`PerVersion` keeps it while computing, and may compute twice at once), and it is
kept for a pyoxigraph engine with the generation its caller read (a worker's checkpoint is not a `Store`)."""

from __future__ import annotations

from pyoxigraph import DefaultGraph, NamedNode, Quad, Store as OxStore


def merged_view(source: OxStore) -> OxStore:
    """A new in-memory store: every named graph of `source`, and as default graph the set of all its triples."""
    view = OxStore()
    view.bulk_extend(source.quads_for_pattern(None, None, None))
    view.bulk_extend(
        Quad(quad.subject, quad.predicate, quad.object)
        for quad in source.quads_for_pattern(None, None, None)
        if not isinstance(quad.graph_name, DefaultGraph)
    )
    for graph in source.named_graphs():  # empty ones too: GRAPH ?g {} lists them
        if isinstance(graph, NamedNode):
            view.add_graph(graph)
    return view


class MergedViews:
    """The view of the latest generation asked for (one at a time: it holds a whole copy of the graph)."""

    def __init__(self) -> None:
        self._generation, self._view = -1, None

    def of(self, source: OxStore, generation: int) -> OxStore:
        if self._view is None or self._generation != generation:
            self._view, self._generation = None, -1
            self._view, self._generation = merged_view(source), generation
        return self._view

    def forget(self) -> None:
        self._view, self._generation = None, -1

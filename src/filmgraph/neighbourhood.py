"""The part of the graph that decides a node's inferences, checks and shapes: what makes ingest cost in proportion
to the source, and the full build linear.

The ontology's rules join at most two edges (property chains of length 2, someValuesFrom restrictions: a node's
type can depend on its neighbour's type, which depends on the neighbour's own edges). So a node's OWL 2 RL
inferences follow from its incident edges plus the incident edges of its *join neighbours*: the nodes it is linked
to by an edge that can derive a property a chain or restriction starts from (`join_properties`). A changed edge
therefore affects its two ends and their join neighbours, and their inferences are recomputed over the incident
edges of those and of their join neighbours: a context bounded by the degree of what the source touches, not by
the corpus. Hubs (a state, the publisher) add their incident edges once, never their neighbours' neighbours.

Reads go through the `Store` interface (SPARQL over the source graphs, terms written by pyoxigraph into VALUES),
with some source graphs replaced by their new content in memory: the state the store will be in after a write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Quad

from .lookup import values_block
from .store import Store
from .vocab import ID, INFERRED_GRAPH, SOURCE_GRAPH_PREFIX

_MAX_VALUES = 500
_IN_SOURCES = f"FILTER (STRSTARTS(STR(?g), {Literal(SOURCE_GRAPH_PREFIX)}))"
_INCIDENT = (
    "SELECT ?s ?p ?o ?g WHERE { {values} GRAPH ?g { { ?n ?p ?o BIND (?n AS ?s) } UNION { ?s ?p ?n BIND (?n AS ?o) } } "
    + _IN_SOURCES + " }"
)  # fmt: skip
_OUTGOING = "SELECT ?s ?p ?o ?g WHERE { {values} GRAPH ?g { ?n ?p ?o BIND (?n AS ?s) } " + _IN_SOURCES + " }"
_INFERRED = (
    "SELECT ?s ?p ?o ?g WHERE { {values} GRAPH ?g { ?n ?p ?o BIND (?n AS ?s) } "
    f"FILTER (?g = {NamedNode(INFERRED_GRAPH)}) }}"
)
_HOLDERS = "SELECT ?s ?p ?o ?g WHERE { {values} GRAPH ?g { ?s ?p ?o } " + _IN_SOURCES + " }"


def is_data_node(term: object) -> bool:
    return isinstance(term, NamedNode) and term.value.startswith(ID)


def endpoints(quads: Iterable[Quad]) -> set[NamedNode]:
    """The data nodes at either end of the quads."""
    return {term for q in quads for term in (q.subject, q.object) if is_data_node(term)}


@dataclass
class View:
    """The source graphs of `store`, with the graphs in `replaced` read from memory instead (their new content)."""

    store: Store
    replaced: dict[str, list[Quad]] = field(default_factory=dict)

    def _rows(self, template: str, variable: str, terms: Iterable[object]) -> list[Quad]:
        unique = sorted(set(terms), key=str)
        quads = []
        for start in range(0, len(unique), _MAX_VALUES):
            block = values_block(variable, unique[start : start + _MAX_VALUES])
            for row in self.store.query(template.replace("{values}", block)).rows:
                quads.append(Quad(row["s"], row["p"], row["o"], row["g"]))
        return quads

    def _stored(self, quads: list[Quad]) -> list[Quad]:
        return [q for q in quads if q.graph_name.value not in self.replaced]

    def _in_memory(self, keep) -> list[Quad]:
        return [q for quads in self.replaced.values() for q in quads if keep(q)]

    def incident(self, nodes: set[NamedNode]) -> list[Quad]:
        """Every source-graph quad with one of `nodes` as subject or object."""
        if not nodes:
            return []
        stored = self._stored(self._rows(_INCIDENT, "n", nodes))
        return stored + self._in_memory(lambda q: q.subject in nodes or q.object in nodes)

    def outgoing(self, nodes: set[NamedNode]) -> list[Quad]:
        """Every source-graph quad with one of `nodes` as subject."""
        if not nodes:
            return []
        return self._stored(self._rows(_OUTGOING, "n", nodes)) + self._in_memory(lambda q: q.subject in nodes)

    def inferred_about(self, nodes: set[NamedNode]) -> list[Quad]:
        """The store's inferred quads whose subject is one of `nodes`."""
        return self._rows(_INFERRED, "n", nodes) if nodes else []

    def holders(self, quads: list[Quad]) -> list[Quad]:
        """The stored source-graph quads holding the same triples as `quads` (any graph, replaced ones too)."""
        triples = sorted({(q.subject, q.predicate, q.object) for q in quads}, key=str)
        found = []
        for start in range(0, len(triples), _MAX_VALUES):
            rows = " ".join(f"({s} {p} {o})" for s, p, o in triples[start : start + _MAX_VALUES])
            block = f"VALUES (?s ?p ?o) {{ {rows} }}"
            for row in self.store.query(_HOLDERS.replace("{values}", block)).rows:
                found.append(Quad(row["s"], row["p"], row["o"], row["g"]))
        return found


def join_neighbours(quads: Iterable[Quad], nodes: set[NamedNode], join: frozenset[str]) -> set[NamedNode]:
    """The data nodes linked to one of `nodes` by an edge whose property is in `join`."""
    found = set()
    for q in quads:
        if q.predicate.value in join:
            if q.subject in nodes and is_data_node(q.object):
                found.add(q.object)
            if q.object in nodes and is_data_node(q.subject):
                found.add(q.subject)
    return found


def affected(view: View, changed: set[NamedNode], join: frozenset[str]) -> set[NamedNode]:
    """The nodes whose inferences a change at `changed` can alter: those nodes and their join neighbours."""
    return changed | join_neighbours(view.incident(changed), changed, join)


def context(view: View, nodes: set[NamedNode], join: frozenset[str]) -> list[Quad]:
    """The asserted quads the inferences and consistency of `nodes` follow from: the incident edges of the nodes
    and of their join neighbours (deduplicated by triple: a triple lives in one source graph)."""
    near = view.incident(nodes)
    wider = join_neighbours(near, nodes, join) - nodes
    return list({(q.subject, q.predicate, q.object): q for q in [*near, *view.incident(wider)]}.values())


def shape_context(view: View, focus: set[NamedNode], inferred: Callable[[set[NamedNode]], list[Quad]]) -> list[Quad]:
    """What SHACL needs to validate `focus` (the shapes' paths are one step long): the focus nodes' edges, the
    outgoing edges of their values (types for sh:class, a span's source text) and the inferences about both."""
    near = view.incident(focus)
    values = {q.object for q in near if q.subject in focus and is_data_node(q.object)} - focus
    return [*near, *view.outgoing(values), *inferred(focus | values)]


def batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

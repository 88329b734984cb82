"""Who owns which graph: the build and ingest own the ontology, the shapes, every source graph, the inferred graph
and the reference graph; every other graph of the store, and its default graph, belongs to its users.

The rule lives here once. `filmgraph build` carries the users' graphs over into the store it writes, and ingest
replaces only owned graphs; user writes (Graph Store, SPARQL Update, `filmgraph load`) into an owned graph are
refused, because the next build or ingest would overwrite them, and because they skip the checks a curation file
passes (a one-party agreement PUT into a source graph would show in /api/agreements).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from pyoxigraph import NamedNode, parse

from .errors import OwnedGraphWrite
from .store.rdf_files import DATASET_ONLY, rdf_format_of
from .update_targets import graphs_of, written_graphs
from .vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, REFERENCE_GRAPH, SHAPES_GRAPH, SOURCE_GRAPH_PREFIX

OWNED_GRAPHS = frozenset({ONTOLOGY_GRAPH, SHAPES_GRAPH, INFERRED_GRAPH, REFERENCE_GRAPH})
OWNED_PREFIXES = (SOURCE_GRAPH_PREFIX,)
_HOW_TO_CHANGE = {
    ONTOLOGY_GRAPH: "edit ontology/filmdiplomacy.ttl and run `filmgraph build`",
    SHAPES_GRAPH: "edit ontology/shapes.ttl and run `filmgraph build`",
    INFERRED_GRAPH: "it is computed from the source graphs by the reasoner: change a source instead",
    REFERENCE_GRAPH: "edit data/reference/ and run `filmgraph build`",
}
_CHANGE_A_SOURCE = (
    "change the source's curation file (data/claims/<source-id>.yaml) and run `filmgraph ingest FILE` "
    "or send it to POST /api/sources"
)
USER_GRAPHS_HINT = "write your own data into a graph of your own (any other IRI, e.g. under graph/load/)"


def is_owned(graph: str | None) -> bool:
    """Whether the build and ingest own this graph (None is the default graph, which users own)."""
    return graph is not None and (graph in OWNED_GRAPHS or graph.startswith(OWNED_PREFIXES))


def user_graphs(named_graphs: Iterable[str]) -> list[str]:
    """The named graphs that belong to users, in the given order."""
    return [graph for graph in named_graphs if not is_owned(graph)]


def how_to_change(graph: str) -> str:
    return _HOW_TO_CHANGE.get(graph, _CHANGE_A_SOURCE)


def refuse_owned(graphs: Iterable[str | None], operation: str) -> None:
    """409 naming the first owned graph among `graphs` that a user's `operation` would write."""
    for graph in graphs:
        if is_owned(graph):
            raise OwnedGraphWrite(
                f"{operation} would write <{graph}>, which the build owns: {how_to_change(graph)}; "
                f"{USER_GRAPHS_HINT}"
            )


def refuse_owned_update(update: str, named_graphs: Callable[[], Iterable[str]]) -> None:
    """409 when a user's SPARQL Update may write an owned graph: a template `GRAPH ?var` always may (its WHERE
    clause can bind any IRI, even a new source graph's), `DROP/CLEAR ALL|NAMED` when the store has an owned graph.
    `named_graphs` is asked only for ALL/NAMED. A parse failure is a 400 (filmgraph.update_targets)."""
    written = written_graphs(update)
    if written.variable_graph:
        raise OwnedGraphWrite(
            f"{written.variable_graph} may write a graph the build owns (the ontology, shapes, source or "
            f"inferred graphs): name the graph it writes with GRAPH <iri>; {USER_GRAPHS_HINT}"
        )
    refuse_owned(sorted_graphs(graphs_of(written, named_graphs() if written.all_named else ())), "this update")


def sorted_graphs(graphs: Iterable[str | None]) -> list[str | None]:
    """A stable order for messages: the default graph first, then by IRI."""
    return sorted(graphs, key=lambda graph: (graph is not None, graph or ""))


def refuse_owned_graphs_in(path: Path) -> None:
    """409 when a TriG or N-Quads file names a graph the build owns: a bulk load keeps the graphs a dataset file
    names, whatever graph it was asked to load into. A file that does not parse is left to the load to report."""
    rdf_format = rdf_format_of(path)
    if rdf_format not in DATASET_ONLY:
        return
    with path.open("rb") as stream:
        try:
            named = {q.graph_name.value for q in parse(stream, format=rdf_format) if isinstance(q.graph_name, NamedNode)}
        except SyntaxError:
            return
    refuse_owned(sorted(named), f"filmgraph load {path.name}")

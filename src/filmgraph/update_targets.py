"""The graphs a SPARQL Update writes, read from its parsed form (rdflib's update algebra), before it is applied.

The SPARQL route refuses a user's update that would write a graph the build owns (filmgraph.ownership); for that
it needs every graph each operation can change:

- INSERT DATA / DELETE DATA / DELETE WHERE / DELETE-INSERT: the `GRAPH <iri>` blocks of the data or templates,
  and the default graph (or the `WITH` graph) for triples outside them. A template `GRAPH ?var` can write any
  graph, even one that does not exist yet (the WHERE clause may BIND any IRI), so it is `variable_graph`, which
  the route refuses: name the graph in the template.
- LOAD (INTO GRAPH), CLEAR, DROP, CREATE: the graph named, or the default graph; `ALL` and `NAMED` write every
  graph the store has (`all_named`).
- ADD and COPY write their target; MOVE writes its target and empties its source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyparsing import ParseBaseException
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.term import Variable

from .errors import QuerySyntaxError

DEFAULT = None  # the default graph, as in the Store interface


@dataclass
class WrittenGraphs:
    """What one update can write: named graphs (None = default graph), or every graph of the store."""

    graphs: set[str | None] = field(default_factory=set)
    all_named: bool = False  # DROP / CLEAR ALL or NAMED
    variable_graph: str | None = None  # the template that writes GRAPH ?var, if any


def written_graphs(update: str) -> WrittenGraphs:
    """Parse `update` and collect every graph it may write; a parse failure is a 400, never a 500 (deep nesting
    makes rdflib's recursive parser and translator overflow the stack)."""
    try:
        parsed = translateUpdate(parseUpdate(update))
    except ParseBaseException as error:
        raise QuerySyntaxError(f"the update does not parse: {error}") from None
    except RecursionError:
        raise QuerySyntaxError("the update is nested too deeply to analyse") from None
    written = WrittenGraphs()
    for operation in parsed.algebra:
        _collect(operation, written)
    return written


def _collect(operation, written: WrittenGraphs) -> None:
    name = operation.name
    if name in ("InsertData", "DeleteData", "DeleteWhere"):
        _template(operation, DEFAULT, written, name)
    elif name == "Modify":
        target = _graph(_part(operation, "withClause"))
        for clause in (_part(operation, "delete"), _part(operation, "insert")):
            if clause is not None:
                _template(clause, target, written, "a DELETE/INSERT template")
    elif name in ("Load", "Clear", "Drop", "Create"):
        _graph_ref(_part(operation, "graphiri") or "DEFAULT", written)
    elif name in ("Add", "Copy", "Move"):
        source, target = operation.graph
        written.graphs.add(_graph(target))
        if name == "Move":
            written.graphs.add(_graph(source))


def _template(clause, default_target: str | None, written: WrittenGraphs, what: str) -> None:
    if _part(clause, "triples"):
        written.graphs.add(default_target)
    for graph in _part(clause, "quads") or {}:
        if isinstance(graph, Variable):
            written.variable_graph = f"{what} with GRAPH ?{graph}"
        else:
            written.graphs.add(str(graph))


def _graph_ref(reference, written: WrittenGraphs) -> None:
    if reference in ("ALL", "NAMED"):
        written.all_named = True
    else:
        written.graphs.add(_graph(reference))


def _part(value, key: str):
    """A part of an algebra node, raw: rdflib's CompValue.get resolves variables and answers odd values for
    missing keys."""
    return dict.get(value, key)


def _graph(reference) -> str | None:
    return None if reference is None or reference == "DEFAULT" else str(reference)


def graphs_of(written: WrittenGraphs, named_graphs: Iterable[str]) -> set[str | None]:
    """The graphs the update writes, with `all_named` spelled out as the store's named graphs and default graph."""
    return {*written.graphs, DEFAULT, *named_graphs} if written.all_named else set(written.graphs)

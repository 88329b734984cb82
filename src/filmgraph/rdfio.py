"""Moving RDF between files, rdflib and pyoxigraph without losing determinism.

The build writes with pyoxigraph, the reasoner and SHACL read rdflib graphs; blank nodes of the Turtle files get
canonical (content-hashed) labels so that building twice gives identical stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, serialize
from rdflib.compare import to_canonical_graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from .errors import BuildError

OxTerm = NamedNode | BlankNode | Literal


def to_oxigraph(node: rdflib.term.Node) -> OxTerm:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(node, rdflib.URIRef):
        return NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        return BlankNode(str(node))
    if isinstance(node, rdflib.Literal):
        if node.language:
            return Literal(str(node), language=node.language)
        if node.datatype:
            return Literal(str(node), datatype=NamedNode(str(node.datatype)))
        return Literal(str(node))
    raise TypeError(f"not an RDF term: {node!r}")


def read_turtle(path: Path) -> rdflib.Graph:
    """Parse a Turtle file; a syntax error names the file and line."""
    graph = rdflib.Graph()
    try:
        graph.parse(path, format="turtle")
    except BadSyntax as error:
        raise BuildError(f"{path}:{error.lines + 1}: Turtle syntax error: {error.message}") from error
    except OSError as error:
        raise BuildError(f"{path}: cannot read: {error}") from error
    except Exception as error:  # noqa: BLE001 - rdflib raises several unrelated types for bad input
        raise BuildError(f"{path}: cannot parse as Turtle: {error}") from error
    return graph


def canonical_quads(graph: rdflib.Graph, graph_name: str) -> list[Quad]:
    """The graph's triples as quads of one named graph, blank nodes relabelled canonically, sorted."""
    name = NamedNode(graph_name)
    quads = [
        Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), name)  # type: ignore[arg-type]
        for s, p, o in to_canonical_graph(graph)
    ]
    return sorted(quads, key=str)


def to_rdflib(triples: Iterable[Quad | Triple], into: rdflib.Graph | None = None) -> rdflib.Graph:
    """Triples (graph names dropped) as an rdflib graph, via N-Triples so every term survives exactly."""
    graph = into if into is not None else rdflib.Graph()
    data = serialize([Triple(t.subject, t.predicate, t.object) for t in triples], format=RdfFormat.N_TRIPLES)
    graph.parse(data=data.decode("utf-8"), format="nt")
    return graph

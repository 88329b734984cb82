"""The ontology's HTML documentation, by pyLODE: the page a release ships and `/ontology` serves.

The same ontology gives the same bytes (a release is rebuilt byte for byte), each `fg:` term's anchor is its local
name (so `https://w3id.org/filmgraph/ontology#Agreement` lands on its entry), and the page is about the ontology
itself, not one of its concept schemes.
"""

from __future__ import annotations

import logging
import threading

from pyoxigraph import RdfFormat, parse
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from .export import stable_order, to_rdflib
from .vocab import FG

_PYLODE = threading.Lock()  # one page at a time: the fix below patches pyLODE's module while it runs


class _InsertionOrderedSet(dict):
    """What pyLODE's `set()` of HTML elements should be: it lists an intersection's classes in the order of a set
    of objects hashed by address, so the page changed at every run. Iterating in insertion order fixes it."""

    def add(self, item: object) -> None:
        self[item] = None


def ontology_for_docs(turtle: bytes) -> Graph:
    """The ontology as pyLODE should read it: blank nodes keep their canonical labels (its pages link them by
    label) and statements come in a fixed order. Its concept schemes stay out of the `skos:ConceptScheme` class,
    which pyLODE takes for the document's subject: with them the page was titled by one scheme ("stances"), its
    heading ran four scheme titles into the ontology's and its IRI was a scheme's."""
    graph = Graph()
    for triple in stable_order(parse(turtle, format=RdfFormat.TURTLE)):
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    graph.remove((None, RDF.type, SKOS.ConceptScheme))
    return graph


def term_anchors(graph: Graph) -> dict[str, str]:
    """Each `fg:` term's fragment id on the page: its local name, as in its IRI (pyLODE would use its label)."""
    return {str(term): str(term)[len(FG):] for term in set(graph.subjects()) if str(term).startswith(FG)}


def ontology_docs_html(turtle: bytes) -> str:
    """The documentation page of an ontology given as Turtle."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    import pylode.utils  # noqa: PLC0415 - heavy import: only when documenting
    from pylode import OntPub  # noqa: PLC0415

    root.handlers[:], root.level = handlers, level  # pylode configures root logging at import; undo that
    graph = ontology_for_docs(turtle)
    with _PYLODE:
        pylode.utils.set = _InsertionOrderedSet  # type: ignore[attr-defined]  # shadows the builtin there only
        try:
            page = OntPub(ontology=graph)
            page.fids.update(term_anchors(graph))  # pyLODE keeps an id it is given
            return page.make_html()
        finally:
            del pylode.utils.set  # type: ignore[attr-defined]

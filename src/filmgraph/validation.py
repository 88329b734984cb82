"""SHACL validation with pySHACL: the graph must conform to ontology/shapes.ttl before it is written.

The data graph is every source graph, the inferred graph (so shapes see inferred types) and the ontology (its
concept individuals such as fg:Asserted, and rdfs:subClassOf for sh:class checks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import rdflib
from pyoxigraph import NamedNode, Quad
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH

from .errors import ValidationFailed
from .rdfio import to_rdflib
from .vocab import SHAPES_GRAPH, curie


def _prepare_queries_once() -> None:
    """Make rdflib translate each SPARQL text once per process, not once per call.

    pySHACL evaluates a SPARQL-based constraint (shapes.ttl's span/offset check) by sending its text with each
    focus node's binding, and rdflib parses it every time (~0.15 s): 90% of a build's SHACL time. A translated
    query is reusable with other bindings (rdflib's own prepareQuery relies on it), so the translation is kept."""
    from rdflib.plugins.sparql import processor  # noqa: PLC0415

    original = processor.SPARQLProcessor.query
    if getattr(original, "prepares_once", False):
        return
    prepared: dict[tuple, object] = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803 - rdflib's
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
            if key not in prepared:
                if len(prepared) > 256:
                    prepared.clear()
                prepared[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    query.prepares_once = True  # type: ignore[attr-defined]
    processor.SPARQLProcessor.query = query


_prepare_queries_once()


@dataclass(frozen=True, order=True)
class Violation:
    """One SHACL result, in the terms a curator needs: which node, which path, what is wrong."""

    focus_node: str
    path: str
    message: str
    value: str

    def __str__(self) -> str:
        value = f" (value: {self.value})" if self.value else ""
        return f"{self.focus_node} {self.path}: {self.message}{value}"


def _compact(node: rdflib.term.Node | None) -> str:
    if node is None:
        return ""
    text = curie(str(node)) if isinstance(node, rdflib.URIRef) else str(node)
    return text if len(text) <= 80 else text[:77] + "..."


def _violations(results: rdflib.Graph) -> list[Violation]:
    found = []
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        messages = [str(m) for m in results.objects(result, SH.resultMessage)]
        found.append(
            Violation(
                focus_node=_compact(results.value(result, SH.focusNode)),
                path=_compact(results.value(result, SH.resultPath)) or "(node)",
                message="; ".join(sorted(messages)) or _compact(results.value(result, SH.sourceConstraintComponent)),
                value=_compact(results.value(result, SH.value)),
            )
        )
    return sorted(found)


def check_graphs(
    graphs: dict[str, list[Quad]], shapes: rdflib.Graph, focus_nodes: Iterable[NamedNode] | None = None
) -> list[Violation]:
    """The SHACL violations of the graphs (an empty list when they conform); only of `focus_nodes` if given
    (their neighbourhood is then all the data pySHACL needs: filmgraph.neighbourhood.shape_context)."""
    data = rdflib.Graph()
    for name, quads in graphs.items():
        if name != SHAPES_GRAPH:
            to_rdflib(quads, into=data)
    focus = None if focus_nodes is None else [rdflib.URIRef(node.value) for node in sorted(set(focus_nodes), key=str)]
    if focus == []:
        return []
    conforms, results, _ = shacl_validate(
        data, shacl_graph=shapes, inference="none", allow_warnings=True, focus_nodes=focus
    )
    return [] if conforms else _violations(results)


def validate(
    graphs: dict[str, list[Quad]], shapes: rdflib.Graph, focus_nodes: Iterable[NamedNode] | None = None
) -> None:
    """Fail the build with a readable report when the graphs (or the focus nodes) do not conform."""
    violations = check_graphs(graphs, shapes, focus_nodes)
    if violations:
        report = "\n".join(f"  - {violation}" for violation in violations)
        raise ValidationFailed(f"SHACL validation failed with {len(violations)} violation(s):\n{report}")

"""Oracles for the export tests, written independently of filmgraph.export: what each subset should contain, and
isomorphism checks that go through a second serialiser/parser pair (pyoxigraph N-Quads -> rdflib)."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph
import rdflib
from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, Triple
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from service_support import BIN

from filmgraph.store import EmbeddedStore, Store
from filmgraph.vocab import FG, ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES, SOURCE_GRAPH_PREFIX, source_graph

SUBSETS = ["all", "asserted", "inferred", "ontology", "source:{source}", "entity:{entity}"]
EVIDENCE = FG + "evidence"
IN_SENTENCE = FG + "inSentence"
XSD_STRING = PREFIXES["xsd"] + "string"
PROVENANCE_LINKS = {PREFIXES["prov"] + "wasDerivedFrom", PREFIXES["nif"] + "referenceContext"}


def graph_iri(quad: Quad) -> str:
    return quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""


def store_of(quads: Iterable[Quad]) -> EmbeddedStore:
    """A fresh in-memory store holding these quads, safe to change."""
    copy = EmbeddedStore(None)
    by_graph: dict[str, list[Quad]] = defaultdict(list)
    for quad in quads:
        by_graph[graph_iri(quad)].append(quad)
    for graph, items in by_graph.items():
        copy.add_to_graph(graph or None, items)
    return copy


def neighbourhood(store: Store, entity: str) -> set[Quad]:
    """An entity's quads in and out (and of its blank nodes), plus its claims' nodes, spans, sentences and sources."""
    iri = ID + entity
    quads = [q for q in store.quads() if graph_iri(q)]
    around = {q for q in quads if _value(q.subject) == iri or _value(q.object) == iri}
    evidence = {_value(q.subject) for q in quads if q.predicate.value == EVIDENCE}
    claims = {_value(q.subject) for q in around if _value(q.subject) in evidence} | ({iri} & evidence)
    spans = {_value(q.object) for q in quads if q.predicate.value == EVIDENCE and _value(q.subject) in claims}
    sentences = {_value(q.object) for q in quads if q.predicate.value == IN_SENTENCE and _value(q.subject) in spans}
    sources = {
        _value(q.object) for q in quads if q.predicate.value in PROVENANCE_LINKS and _value(q.subject) in claims | spans
    }
    described = claims | spans | sentences | sources
    blank = {q.object for q in quads if _value(q.subject) == iri and isinstance(q.object, BlankNode)}
    return around | {q for q in quads if _value(q.subject) in described or q.subject in blank}


def _value(term: object) -> str | None:
    return term.value if isinstance(term, NamedNode) else None


def expected_quads(store: Store, subset: str) -> list[Quad]:
    """The store's content for a subset, computed by filtering quads (not through filmgraph.export)."""
    kind, _, argument = subset.partition(":")
    everything = list(store.quads())
    if kind == "all":
        return everything
    if kind == "asserted":
        return [q for q in everything if graph_iri(q) != INFERRED_GRAPH]
    if kind == "entity":
        return sorted(neighbourhood(store, argument), key=str)
    graph = {"inferred": INFERRED_GRAPH, "ontology": ONTOLOGY_GRAPH}.get(kind) or source_graph(argument)
    return [q for q in everything if graph_iri(q) == graph]


def rdflib_graphs(items: Iterable[Quad | Triple], keep_graphs: bool) -> dict[str, rdflib.Graph]:
    """rdflib graphs (one per named graph, or one merged) from pyoxigraph terms, via pyoxigraph's N-Quads writer."""
    grouped: dict[str, list[Triple]] = defaultdict(list)
    for item in items:
        name = graph_iri(item) if keep_graphs and isinstance(item, Quad) else ""
        grouped[name].append(Triple(item.subject, item.predicate, item.object))
    graphs = {}
    for name, triples in grouped.items():
        graph = rdflib.Graph()
        graph.parse(data=pyoxigraph.serialize(triples, format=RdfFormat.N_TRIPLES).decode(), format="nt")
        graphs[name] = graph
    return graphs


def rdflib_parse(data: bytes, rdflib_format: str, keep_graphs: bool) -> dict[str, rdflib.Graph]:
    """Parse an export with rdflib: a Dataset for quad formats (one graph per name), a Graph otherwise."""
    if not keep_graphs:
        graph = rdflib.Graph()
        graph.parse(data=data, format=rdflib_format)
        return {"": graph} if len(graph) else {}
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format=rdflib_format)
    graphs = {}
    for context in dataset.graphs():
        name = "" if context.identifier == DATASET_DEFAULT_GRAPH_ID else str(context.identifier)
        if len(context):
            graphs[name] = context
    return graphs


def assert_same_graphs(actual: dict[str, rdflib.Graph], expected: dict[str, rdflib.Graph]) -> None:
    assert sorted(actual) == sorted(expected)
    for name, graph in expected.items():
        assert len(actual[name]) == len(graph), name
        assert isomorphic(actual[name], graph), name


# --- what the tests export --------------------------------------------------------------------------------------
ENTITY = "russian-state-fund"


def subset_names(store: Store) -> list[str]:
    """Every subset form, with a real source id and entity of the store."""
    source = next(g for g in store.named_graphs() if g.startswith(SOURCE_GRAPH_PREFIX))
    fill = {"source": source.removeprefix(SOURCE_GRAPH_PREFIX), "entity": ENTITY}
    return [subset.format(**fill) for subset in SUBSETS]


# --- processes --------------------------------------------------------------------------------------------------
def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the installed `filmgraph` command as a user would."""
    result = subprocess.run([str(BIN / "filmgraph"), *args], capture_output=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr.decode()
    return result


def result_set(json_body: bytes) -> list[tuple]:
    """SPARQL JSON results as a sorted multiset of rows, comparable across engines (blank nodes anonymised)."""
    body = json.loads(json_body)
    if "boolean" in body:
        return [("boolean", body["boolean"])]
    rows = []
    for binding in body["results"]["bindings"]:
        row = []
        for name in sorted(binding):
            term = binding[name]
            datatype = term.get("datatype")
            row.append((name, term["type"].replace("typed-literal", "literal"),
                        "_" if term["type"] == "bnode" else term["value"],
                        None if datatype == XSD_STRING else datatype, term.get("xml:lang")))
        rows.append(tuple(row))
    return sorted(rows)

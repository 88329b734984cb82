"""The SPARQL 1.1 Service Description of `/sparql`, built as an RDF graph with rdflib (not a template string).

It tells clients which languages, formats and features the endpoint has, whether its default graph is the
union of all graphs (sd:UnionDefaultGraph, FILMGRAPH_UNION_DEFAULT_GRAPH), the two reserved graph names (as named
graphs of the default dataset, each with a label saying what it stands for), and the named graphs. Its blank
nodes carry fixed labels and the named graphs come sorted, so the same service is described by the same bytes in
every format (a client can save, diff or cite it).
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from ..formats import GRAPH_FORMATS, RESULTS_FORMATS, W3C_FORMATS
from ..store.base import DEFAULT_GRAPH_IRI, UNION_GRAPH_IRI

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace(W3C_FORMATS)

# W3C format IRIs of what the endpoint's negotiation offers.
FORMAT_IRIS = tuple(URIRef(f.iri) for f in (*RESULTS_FORMATS, *GRAPH_FORMATS))

RESERVED_GRAPHS = {
    DEFAULT_GRAPH_IRI: "the store's own default graph (usable in FROM, default-graph-uri and GRAPH)",
    UNION_GRAPH_IRI: "the RDF merge of all graphs, the default graph included (usable in FROM, default-graph-uri "
    "and GRAPH)",
}


def describe_service(
    endpoint: str, named_graphs: list[str], writable: bool, federated: bool = True, union_default: bool = True
) -> Graph:
    """The description of the endpoint at `endpoint`; Update is listed only when a write token is configured,
    basic federated query only when SERVICE is allowed, sd:UnionDefaultGraph only in union mode."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    service = URIRef(endpoint + "#service")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, URIRef(endpoint)))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if writable:
        graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    # FROM <url> is not fetched from the web, so no sd:DereferencesURIs.
    if union_default:
        graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if federated:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    for iri in FORMAT_IRIS:
        graph.add((service, SD.resultFormat, iri))
    graph.add((service, SD.defaultDataset, _dataset(graph, named_graphs)))
    return graph


def _dataset(graph: Graph, named_graphs: list[str]) -> BNode:
    dataset, default = BNode("dataset"), BNode("default-graph")
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    for number, name in enumerate([*RESERVED_GRAPHS, *sorted(named_graphs)], start=1):
        named = BNode(f"named-graph-{number}")
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        if name in RESERVED_GRAPHS:
            graph.add((named, RDFS.comment, Literal(RESERVED_GRAPHS[name], lang="en")))
    return dataset

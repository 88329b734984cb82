"""Every format filmgraph reads or writes, once: media types (with the aliases clients send), file extension,
`format=` / `--format` names, rdflib serialiser name, and which query forms it carries.

Built on pyoxigraph's `RdfFormat` and `QueryResultsFormat`, which already know their media types, extensions and
W3C format IRIs, so the engine and this table cannot disagree. The routers (what each resource offers, in its
order of preference: api/negotiation.py chooses), the CLI and the exports all look formats up here; a `format=`
name means the same on every route (`json` is SPARQL results JSON for solutions, JSON-LD for a graph).
`tests/test_formats.py` fails when a media-type literal appears anywhere else in the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyoxigraph import QueryResultsFormat, RdfFormat

QueryForm = Literal["solutions", "boolean", "graph"]
RESULTS_FORMS: frozenset[QueryForm] = frozenset({"solutions", "boolean"})  # SELECT, ASK
GRAPH_FORMS: frozenset[QueryForm] = frozenset({"graph"})  # CONSTRUCT, DESCRIBE, a graph or dataset
W3C_FORMATS = "http://www.w3.org/ns/formats/"


@dataclass(frozen=True)
class Format:
    """One format: how clients name it (media types, `format=` names, extension) and what writes it."""

    name: str  # the `format=` and `--format` name
    media_type: str  # the one the answer carries
    extension: str
    forms: frozenset[QueryForm]  # the query results it can carry (none: a page or a record, not a query result)
    aliases: tuple[str, ...] = ()  # other media types clients ask for it by
    other_names: tuple[str, ...] = ()  # other `format=` names clients send (SPARQLWrapper's, short ones)
    rdf: RdfFormat | None = None
    results: QueryResultsFormat | None = None
    rdflib: str | None = None  # rdflib's serialiser name, where rdflib writes (service description, VoID)
    iri: str | None = None  # its W3C format IRI (http://www.w3.org/ns/formats/), for the service description

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


def _rdf(rdf: RdfFormat, name: str, rdflib: str, *, names: tuple[str, ...] = (), iri: str | None = None) -> Format:
    return Format(name, rdf.media_type, rdf.file_extension, GRAPH_FORMS, other_names=names, rdf=rdf, rdflib=rdflib,
                  iri=iri or rdf.iri)  # fmt: skip


def _results(results: QueryResultsFormat, name: str, *, names: tuple[str, ...] = (), aliases: tuple[str, ...] = ()
             ) -> Format:  # fmt: skip
    media_type = results.media_type.split(";")[0]  # pyoxigraph adds "; charset=utf-8" to CSV and TSV
    return Format(name, media_type, results.file_extension, RESULTS_FORMS, aliases, names, results=results,
                  iri=results.iri)  # fmt: skip


# SPARQL results, in the endpoint's order of preference; application/json and application/xml are what generic
# clients send (pyoxigraph reads them as these formats too).
SPARQL_JSON = _results(QueryResultsFormat.JSON, "json", names=("srj",), aliases=("application/json",))
SPARQL_XML = _results(QueryResultsFormat.XML, "xml", names=("srx",), aliases=("application/xml",))
CSV = _results(QueryResultsFormat.CSV, "csv")
TSV = _results(QueryResultsFormat.TSV, "tsv")

# RDF graphs and datasets. `json` and `xml` name JSON-LD and RDF/XML when the answer is a graph.
TURTLE = _rdf(RdfFormat.TURTLE, "turtle", "turtle", names=("ttl", "n3"))  # Turtle is N3's RDF subset
N_TRIPLES = _rdf(RdfFormat.N_TRIPLES, "ntriples", "nt", names=("nt",))
# (pyoxigraph's JSON-LD IRI is …/formats/data/JSON-LD; the W3C list, and our service description, have this one)
JSON_LD = _rdf(RdfFormat.JSON_LD, "jsonld", "json-ld", names=("json-ld", "json"), iri=W3C_FORMATS + "JSON-LD")
RDF_XML = _rdf(RdfFormat.RDF_XML, "rdfxml", "xml", names=("rdf+xml", "rdf", "xml"))
TRIG = _rdf(RdfFormat.TRIG, "trig", "trig")
N_QUADS = _rdf(RdfFormat.N_QUADS, "nquads", "nquads")
# N-Triples under RDF 1.0's media type: offered for graphs only, last (pyoxigraph would read it as CSV for
# solutions: a client asking for text/plain gets a graph, or 406 for solutions, never CSV under another name).
PLAIN_TEXT = "text/plain"

# Not query results: pages for browsers, and the REST API's own JSON (on /api/queries, plain `rows` of strings).
HTML = Format("html", "text/html", "html", frozenset())
PLAIN_JSON = Format("rows", "application/json", "json", frozenset())

FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV, TURTLE, N_TRIPLES, JSON_LD, RDF_XML, TRIG, N_QUADS,
                               HTML, PLAIN_JSON)  # fmt: skip
RESULTS_FORMATS = tuple(f for f in FORMATS if f.forms == RESULTS_FORMS)
GRAPH_FORMATS = tuple(f for f in FORMATS if f.forms == GRAPH_FORMS)
TRIPLE_FORMATS = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)  # one graph at a time (JSON-LD: pyoxigraph's default graph)

# What `/sparql` offers for each kind of result, in its order of preference (ties in q-values go to the first).
SPARQL_RESULTS_TYPES: tuple[str, ...] = tuple(t for f in RESULTS_FORMATS for t in f.media_types)
SPARQL_GRAPH_TYPES: tuple[str, ...] = (*(f.media_type for f in GRAPH_FORMATS), PLAIN_TEXT)


def named(name: str, form: QueryForm | None = None, among: tuple[Format, ...] = FORMATS) -> Format | None:
    """The format a `format=` name means (for results of `form`: `json` is SPARQL JSON, or JSON-LD for a graph)."""
    name = name.strip().lower()
    return next((f for f in among if (form is None or form in f.forms) and name in f.names), None)


def by_media_type(media_type: str, among: tuple[Format, ...] = FORMATS) -> Format | None:
    """The format a media type (parameters ignored; aliases count) names, or None."""
    media_type = media_type.split(";")[0].strip().lower()
    return next((f for f in among if media_type in f.media_types), None)


def by_extension(extension: str, among: tuple[Format, ...] = FORMATS) -> Format | None:
    return next((f for f in among if f.extension == extension), None)


def media_types(formats: tuple[Format, ...]) -> tuple[str, ...]:
    """The formats' own media types, in order: what a resource that offers them negotiates over."""
    return tuple(f.media_type for f in formats)

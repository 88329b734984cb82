"""Dereferenceable ontology terms: each `fg:` IRI reaches `/ontology`, which answers the documentation page (the
term's local name is its anchor) to browsers and the ontology graph to RDF clients."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib import OWL, RDF

from filmgraph.vocab import FG, ONTOLOGY

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PATH = "/ontology"  # the path of https://w3id.org/filmgraph/ontology under the service's base


@pytest.fixture(scope="module")
def ontology(rest) -> rdflib.Graph:
    response = rest.get(PATH, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert "Accept" in response.headers["vary"]
    return rdflib.Graph().parse(data=response.content, format="turtle")


@pytest.fixture(scope="module")
def page(rest) -> str:
    response = rest.get(PATH, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    return response.text


def _terms(graph: rdflib.Graph) -> set[str]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    return {str(t) for kind in kinds for t in graph.subjects(RDF.type, kind) if str(t).startswith(FG)}


def test_rdf_clients_get_the_ontology_graph(ontology):
    assert (rdflib.URIRef(ONTOLOGY), RDF.type, OWL.Ontology) in ontology
    assert len(_terms(ontology)) > 50


def test_every_term_iri_lands_on_its_own_entry_of_the_documentation(ontology, page):
    anchors = set(re.findall(r'\bid="([^"]+)"', page))
    terms = _terms(ontology)
    assert sorted(iri for iri in terms if iri.removeprefix(FG) not in anchors) == []
    assert re.findall(r"<title>(.*?)</title>", page) == ["Film diplomacy ontology"]


@pytest.mark.parametrize(("suffix", "media_type", "rdflib_format"), [
    (".ttl", "text/turtle", "turtle"),
    (".nt", "application/n-triples", "nt"),
    (".jsonld", "application/ld+json", "json-ld"),
    (".rdf", "application/rdf+xml", "xml"),
])
def test_each_rdf_format_by_extension_and_by_accept(rest, ontology, suffix, media_type, rdflib_format):
    for response in (rest.get(PATH + suffix), rest.get(PATH, headers={"Accept": media_type})):
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
        graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
        assert len(graph) == len(ontology) and _terms(graph) == _terms(ontology)


def test_html_by_extension_unknown_extensions_and_unacceptable_types(rest, page):
    assert rest.get(PATH + ".html", headers={"Accept": "text/turtle"}).text == page
    unknown = rest.get(PATH + ".png")
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    refused = rest.get(PATH, headers={"Accept": "image/png"})
    assert refused.status_code == 406 and refused.headers["content-type"] == "application/problem+json"

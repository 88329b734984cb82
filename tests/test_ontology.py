"""The ontology: loads in owlready2, is consistent, documents every term, keeps agents disjoint."""

from __future__ import annotations

import owlready2
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from filmgraph.settings import PROJECT_ROOT
from filmgraph.vocab import FG

ONTOLOGY = PROJECT_ROOT / "ontology" / "filmdiplomacy.ttl"


@pytest.fixture(scope="module")
def graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY, format="turtle")


def test_loads_in_owlready2_and_is_consistent(tmp_path) -> None:
    ntriples = tmp_path / "ontology.nt"
    rdflib.Graph().parse(ONTOLOGY, format="turtle").serialize(ntriples, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(ntriples.as_uri()).load(format="ntriples")
    assert ontology.search_one(iri=FG + "Agreement") is not None
    owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)  # raises if inconsistent
    assert list(world.inconsistent_classes()) == []


def test_metadata(graph: rdflib.Graph) -> None:
    ontology = rdflib.URIRef("https://w3id.org/filmgraph/ontology")
    assert (ontology, RDF.type, OWL.Ontology) in graph
    assert graph.value(ontology, OWL.versionIRI) is not None
    assert graph.value(ontology, rdflib.URIRef("http://purl.org/dc/terms/license")) is not None
    assert graph.value(ontology, rdflib.URIRef("http://purl.org/dc/terms/description")) is not None
    assert not list(graph.objects(ontology, OWL.imports))  # no network at build time


def test_every_own_term_has_an_english_label_and_a_definition(graph: rdflib.Graph) -> None:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {s for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(FG)}
    assert len(terms) > 60
    for term in terms:
        labels = [l for l in graph.objects(term, RDFS.label) if getattr(l, "language", None) == "en"]
        assert labels, f"{term} has no English rdfs:label"
        assert graph.value(term, SKOS.definition) is not None, f"{term} has no skos:definition"


def test_states_institutions_and_people_are_disjoint(graph: rdflib.Graph) -> None:
    members = set()
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members |= set(rdflib.collection.Collection(graph, graph.value(axiom, OWL.members)))
    for name in ("State", "Institution", "Person", "UnnamedParty", "Publication"):
        assert rdflib.URIRef(FG + name) in members


@pytest.mark.parametrize(
    ("term", "aligned"),
    [
        ("Post", "http://www.w3.org/ns/org#Post"),
        ("Person", "http://xmlns.com/foaf/0.1/Person"),
        ("Agent", "http://www.w3.org/ns/prov#Agent"),
        ("EvidenceSpan", "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#OffsetBasedString"),
        ("TimeExpression", "http://www.w3.org/2006/time#TemporalEntity"),
        ("NewsArticle", "https://schema.org/NewsArticle"),
        ("EpistemicStatus", "http://www.w3.org/2004/02/skos/core#Concept"),
    ],
)
def test_alignments(graph: rdflib.Graph, term: str, aligned: str) -> None:
    assert (rdflib.URIRef(FG + term), RDFS.subClassOf, rdflib.URIRef(aligned)) in graph

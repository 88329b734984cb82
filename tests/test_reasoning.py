"""Reasoning on a small graph: only new triples come back; an inconsistency or a missing Java is a build error."""

from __future__ import annotations

import shutil
from pathlib import Path

import owlready2
import pytest
from pyoxigraph import NamedNode, Quad

from filmgraph.errors import BuildError, InconsistentOntology
from filmgraph.build import build_store
from filmgraph.reasoning import infer
from filmgraph.settings import PROJECT_ROOT, Settings
from filmgraph.vocab import FG, ID, INFERRED_GRAPH

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OWL = "http://www.w3.org/2002/07/owl#"
RDFS_SUBCLASS = NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
G = NamedNode("urn:test")


def q(s: str, p: NamedNode, o: str) -> Quad:
    return Quad(NamedNode(s), p, NamedNode(o), G)


ONTOLOGY = [
    q(FG + "Person", RDF_TYPE, OWL + "Class"),
    q(FG + "State", RDF_TYPE, OWL + "Class"),
    q(FG + "Agent", RDF_TYPE, OWL + "Class"),
    q(FG + "Person", RDFS_SUBCLASS, FG + "Agent"),
    q(FG + "Person", NamedNode(OWL + "disjointWith"), FG + "State"),
]


def test_infers_only_what_is_not_asserted() -> None:
    data = [q(ID + "avdeev", RDF_TYPE, FG + "Person"), q(ID + "russia", RDF_TYPE, FG + "State")]
    inferred = infer(ONTOLOGY, data)
    assert inferred == [Quad(NamedNode(ID + "avdeev"), RDF_TYPE, NamedNode(FG + "Agent"), NamedNode(INFERRED_GRAPH))]


def test_an_inconsistency_names_the_individual_and_classes() -> None:
    data = [q(ID + "russia", RDF_TYPE, FG + "State"), q(ID + "russia", RDF_TYPE, FG + "Person")]
    with pytest.raises(InconsistentOntology, match=f"{ID}russia is in disjoint classes {FG}Person, {FG}State"):
        infer(ONTOLOGY, data)


def test_a_missing_java_is_a_clear_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(owlready2, "JAVA_EXE", "/nonexistent/java")
    with pytest.raises(BuildError, match="needs Java"):
        infer(ONTOLOGY, [q(ID + "avdeev", RDF_TYPE, FG + "Person")])


def test_a_clash_through_a_range_names_the_individual_and_classes() -> None:
    """The academy is only typed State; that it is a Person follows from the range of fg:headedBy."""
    headed_by = FG + "headedBy"
    ontology = [
        *ONTOLOGY,
        q(headed_by, RDF_TYPE, OWL + "ObjectProperty"),
        q(headed_by, NamedNode("http://www.w3.org/2000/01/rdf-schema#range"), FG + "Person"),
    ]
    data = [q(ID + "academy", RDF_TYPE, FG + "State"), q(ID + "russia", RDF_TYPE, FG + "State"),
            q(ID + "russia", NamedNode(headed_by), ID + "academy")]
    with pytest.raises(InconsistentOntology, match=f"{ID}academy is in disjoint classes {FG}Person, {FG}State"):
        infer(ontology, data)


def test_the_academy_typed_as_a_state_is_named_with_both_classes(tmp_path: Path) -> None:
    """The real data: an academy is an Institution through its type's super-classes, which State is disjoint with."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    [claims] = (data / "claims").glob("screendaily-2010-russia-european-coproduction.yaml")
    entry = "  - id: russian-german-film-academy\n    type: fg:BinationalFilmAcademy"
    assert entry in claims.read_text()
    claims.write_text(claims.read_text().replace(entry, "  - id: russian-german-film-academy\n    type: fg:State"))
    academy, institution, state = ID + "russian-german-film-academy", FG + "Institution", FG + "State"
    with pytest.raises(InconsistentOntology, match=f"{academy} is in disjoint classes {institution}, {state}"):
        build_store(tmp_path / "store", Settings(data_dir=data))
    assert not (tmp_path / "store").exists()


def test_the_rl_reasoner_gives_hermits_inferences_on_the_first_source(built_store) -> None:
    """The inferred graph comes from OWL 2 RL (reasonable + the ontology's property chains); on the real data it
    is exactly what HermiT entails, and it is not empty (chains, defined classes, inverses are in it)."""
    from filmgraph.reasoning import materialise
    from filmgraph.vocab import ONTOLOGY_GRAPH, SOURCE_GRAPH_PREFIX

    ontology = list(built_store.quads(ONTOLOGY_GRAPH))
    graphs = [g for g in built_store.named_graphs() if g.startswith(SOURCE_GRAPH_PREFIX)]
    asserted = [q for g in graphs for q in built_store.quads(g)]
    rl = materialise(ontology, asserted)
    assert rl == infer(ontology, asserted)
    assert any(q.predicate.value == FG + "worksFor" for q in rl)  # a property chain, which reasonable lacks
    assert sorted(map(str, built_store.quads(INFERRED_GRAPH))) == sorted(map(str, rl))

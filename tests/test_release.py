"""Release bundles: every file present and verifiable, a VoID + DCAT description that matches the store."""

from __future__ import annotations

import gc
import re
import shutil
from datetime import datetime, time, timezone
import subprocess

import pytest
import rdflib
import yaml
from export_support import (
    assert_same_graphs,
    expected_quads,
    rdflib_graphs,
    rdflib_parse,
    run_cli,
)
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, XSD

from filmgraph import __version__
from filmgraph.errors import BadRequest
from filmgraph.release import DATASET, DCAT_VERSION, VOID, write_release
from filmgraph.settings import get_settings
from filmgraph.store import EmbeddedStore
from filmgraph.vocab import FG, ONTOLOGY

EXPECTED_FILES = {
    "CITATION.cff", "SHA256SUMS", "context.jsonld", "docs/ontology.html", "filmgraph.nq", "filmgraph.ttl",
    "ontology.ttl", "void.ttl",
}


@pytest.fixture(scope="module")
def release_dir(export_store_dir, tmp_path_factory):
    """A release written by the command a user runs."""
    target = tmp_path_factory.mktemp("releases") / "filmgraph-release"
    base_url = "https://filmgraph.example.org/"
    result = run_cli("release", str(target), "--store", str(export_store_dir), "--base-url", base_url)
    assert b"sha256sum -c SHA256SUMS" in result.stderr
    return target


@pytest.fixture(scope="module")
def void(release_dir) -> rdflib.Graph:
    return rdflib.Graph().parse(release_dir / "void.ttl", format="turtle")


def test_release_holds_every_file(release_dir):
    files = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES


def test_checksums_verify_with_sha256sum_and_catch_a_changed_file(release_dir, tmp_path):
    verified = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=release_dir, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count(": OK") == len(EXPECTED_FILES) - 1
    tampered = shutil.copytree(release_dir, tmp_path / "tampered")
    with (tampered / "filmgraph.ttl").open("a") as data:
        data.write("# edited\n")
    failed = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tampered, capture_output=True, text=True)
    assert failed.returncode != 0 and "filmgraph.ttl: FAILED" in failed.stdout


def test_citation_file_is_valid_cff(release_dir):
    citation = yaml.safe_load((release_dir / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == __version__
    assert citation["license"] == "CC-BY-4.0"
    assert citation["title"] and citation["authors"] and citation["date-released"]


@pytest.mark.parametrize(("name", "format_name", "subset", "keep_graphs"), [
    ("filmgraph.nq", "nquads", "all", True),
    ("filmgraph.ttl", "turtle", "all", False),
    ("ontology.ttl", "turtle", "ontology", False),
])
def test_data_files_hold_the_store(release_dir, export_store, name, format_name, subset, keep_graphs):
    expected = rdflib_graphs(expected_quads(export_store, subset), keep_graphs)
    assert_same_graphs(rdflib_parse((release_dir / name).read_bytes(), format_name, keep_graphs), expected)


def test_void_counts_triples_per_graph(void, export_store):
    assert void.value(DATASET, VOID.triples).toPython() == export_store.count()
    subsets = set(void.objects(DATASET, VOID.subset))
    assert {str(s) for s in subsets} == set(export_store.named_graphs())
    for subset in subsets:
        assert void.value(subset, VOID.triples).toPython() == export_store.count(str(subset))


def test_void_describes_the_dataset_for_a_catalogue(void):
    assert (DATASET, RDF.type, DCAT.Dataset) in void and (DATASET, RDF.type, VOID.Dataset) in void
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.license):
        assert void.value(DATASET, predicate) is not None, predicate
    created = void.value(DATASET, DCTERMS.created)
    assert created.datatype == XSD.date
    assert str(void.value(DATASET, DCAT_VERSION)) == __version__
    assert str(void.value(DATASET, VOID.sparqlEndpoint)) == "https://filmgraph.example.org/sparql"
    assert len(list(void.objects(DATASET, VOID.exampleResource))) >= 1


def test_void_lists_the_classes_and_properties_used(void, export_store):
    classes = {void.value(p, VOID["class"]) for p in void.objects(DATASET, VOID.classPartition)}
    properties = {void.value(p, VOID.property) for p in void.objects(DATASET, VOID.propertyPartition)}
    used_properties = {rdflib.URIRef(q.predicate.value) for q in export_store.quads()}
    used_classes = {rdflib.URIRef(q.object.value) for q in export_store.quads() if q.predicate.value == str(RDF.type)}
    assert properties == used_properties and classes == used_classes
    assert void.value(DATASET, VOID.classes).toPython() == len(used_classes)


def test_void_lists_the_distributions_with_their_sizes(void, release_dir):
    sizes = {}
    for distribution in void.objects(DATASET, DCAT.distribution):
        size = void.value(distribution, DCAT.byteSize)
        if size is not None:
            sizes[str(distribution).rsplit("/", 1)[1]] = int(size)
    assert sizes == {name: (release_dir / name).stat().st_size for name in ("filmgraph.nq", "filmgraph.ttl",
                                                                           "ontology.ttl")}


def test_ontology_documentation_names_the_ontology_classes(release_dir, export_store):
    html = (release_dir / "docs" / "ontology.html").read_text(encoding="utf-8")
    ontology = rdflib.Graph().parse(release_dir / "ontology.ttl")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {term for kind in kinds for term in ontology.subjects(RDF.type, kind) if str(term).startswith(FG)}
    labels = {str(label) for term in terms for label in ontology.objects(term, rdflib.RDFS.label)}
    assert html.startswith("<!DOCTYPE html>") and len(labels) > 50
    assert sorted(label for label in labels if label not in html) == []


def test_ontology_documentation_is_the_ontology_s_page_not_a_concept_scheme_s(release_dir):
    page = (release_dir / "docs" / "ontology.html").read_text(encoding="utf-8")
    ontology = rdflib.Graph().parse(release_dir / "ontology.ttl")
    [title] = ontology.objects(rdflib.URIRef(ONTOLOGY), DCTERMS.title)
    assert re.findall(r"<title>(.*?)</title>", page) == [str(title)] == re.findall(r"<h1>(.*?)</h1>", page)
    shown = re.search(r"<strong>IRI</strong>\s*</dt>\s*<dd>\s*<code>(.*?)</code>", page)
    assert shown and shown.group(1) == ONTOLOGY  # the IRI shown is the ontology's, not a concept scheme's


def test_release_without_a_base_url_warns_that_void_names_a_loopback_endpoint(export_store_dir, tmp_path):
    result = run_cli("release", str(tmp_path / "local"), "--store", str(export_store_dir))
    assert b"warning: void.ttl will name the SPARQL endpoint http://127.0.0.1:8000/sparql" in result.stderr
    assert b"--base-url" in result.stderr
    assert b"warning" not in run_cli("release", str(tmp_path / "public"), "--store", str(export_store_dir),
                                     "--base-url", "https://filmgraph.example.org").stderr


def test_release_refuses_a_directory_that_is_not_empty_and_leaves_it_alone(export_store, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    with pytest.raises(BadRequest, match="not an empty directory"):
        write_release(export_store, occupied, get_settings())
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["occupied"]  # no staging directory left behind


def test_two_releases_of_one_store_and_date_are_byte_identical(release_dir, export_store_dir, tmp_path, monkeypatch):
    created = yaml.safe_load((release_dir / "CITATION.cff").read_text())["date-released"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime.combine(created, time(12), timezone.utc).timestamp())))
    settings = get_settings().model_copy(update={"base_url": "https://filmgraph.example.org/"})
    store = EmbeddedStore(export_store_dir)  # the same store the command released, this time in this process
    try:
        again = write_release(store, tmp_path / "again", settings)
    finally:
        store.close()
        del store
        gc.collect()  # let later commands open the directory again
    assert (again / "void.ttl").read_bytes() == (release_dir / "void.ttl").read_bytes()
    files = sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    assert files == sorted(EXPECTED_FILES)
    assert [f for f in files if (again / f).read_bytes() != (release_dir / f).read_bytes()] == []  # byte for byte
    assert b"_:" not in (again / "void.ttl").read_bytes()  # partitions have IRIs: diffs stay local

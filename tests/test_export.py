"""Exports: every format x subset round-trips through two parsers; Turtle is byte-stable; large exports stream."""

from __future__ import annotations

import difflib
import gc
import io
import json
import re
import shutil
import os
import stat
import sys
import threading

import pyoxigraph
import pytest
from export_support import (
    ENTITY,
    assert_same_graphs,
    expected_quads,
    neighbourhood,
    rdflib_graphs,
    rdflib_parse,
    result_set,
    run_cli,
    store_of,
    subset_names,
)
from pyld import jsonld
from service_support import oxigraph_process
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat

from filmgraph.errors import BadRequest, InvalidParameter, NotFound, UnsupportedFormat
from filmgraph.export import (
    CHUNK_SIZE,
    CONTEXT_IRI,
    FORMATS,
    SUBSET_FORMS,
    jsonld_document_loader,
    load_context,
    parse_subset,
    prepare_export,
)
from filmgraph.named_queries import (
    NamedQuery,
    load_named_queries,
    parse_named_query,
    run_named_query_serialized,
    to_term,
)
from filmgraph.settings import get_settings
from filmgraph.store import Store
from filmgraph.store.remote import Endpoints, RemoteStore
from filmgraph.vocab import ID, PREFIXES

RDFLIB_FORMATS = {
    "turtle": "turtle",
    "ntriples": "nt",
    "trig": "trig",
    "nquads": "nquads",
    "jsonld": "json-ld",
    "rdfxml": "xml",
}
SUBSET_INDEXES = range(6)  # SUBSETS in export_support, resolved against the store


def _subset(store, index: int) -> str:
    return subset_names(store)[index]


@pytest.mark.parametrize("format_name", list(FORMATS))
@pytest.mark.parametrize("subset_index", SUBSET_INDEXES)
def test_every_export_parses_with_rdflib_and_pyoxigraph_to_the_subset(export_store, format_name, subset_index):
    subset = _subset(export_store, subset_index)
    export = prepare_export(export_store, format_name, subset)
    data = export.to_bytes()
    keep_graphs = export.format.keeps_graphs
    expected = rdflib_graphs(expected_quads(export_store, subset), keep_graphs)
    assert expected, f"the fixture has no content for {subset}"

    assert_same_graphs(rdflib_parse(data, RDFLIB_FORMATS[format_name], keep_graphs), expected)
    rdf_format = export.format.rdf_format or RdfFormat.JSON_LD
    assert_same_graphs(rdflib_graphs(pyoxigraph.parse(data, rdf_format), keep_graphs), expected)


@pytest.mark.parametrize("subset_index", SUBSET_INDEXES)
def test_jsonld_uses_the_published_context_and_expands_with_pyld(export_store, subset_index):
    subset = _subset(export_store, subset_index)
    document = json.loads(prepare_export(export_store, "jsonld", subset).to_bytes())
    assert document["@context"] == load_context()["@context"]
    loader = jsonld_document_loader()
    nquads = jsonld.to_rdf(jsonld.expand(document, {"documentLoader": loader}), {"format": "application/n-quads"})
    expected = rdflib_graphs(expected_quads(export_store, subset), keep_graphs=False)
    assert_same_graphs(rdflib_parse(nquads.encode(), "nt", keep_graphs=False), expected)


def test_published_context_is_the_project_prefixes_and_loads_by_its_iri():
    assert load_context()["@context"] == PREFIXES
    loader = jsonld_document_loader()
    expanded = jsonld.expand({"@context": CONTEXT_IRI, "@id": "fgid:x", "rdfs:label": "x"}, {"documentLoader": loader})
    assert expanded[0]["@id"] == ID + "x"
    with pytest.raises(BadRequest, match="refusing to fetch"):
        loader("https://example.org/other-context.jsonld", {})


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_two_exports_of_one_store_are_byte_identical(export_store, format_name):
    first = prepare_export(export_store, format_name, "all").to_bytes()
    assert first == prepare_export(export_store, format_name, "all").to_bytes()


@pytest.mark.parametrize("format_name", ["turtle", "trig", "jsonld"])
def test_sorted_formats_do_not_depend_on_the_order_the_store_was_filled(export_store, format_name):
    reloaded = store_of(reversed(list(export_store.quads())))
    original = prepare_export(export_store, format_name, "all").to_bytes()
    assert original == prepare_export(reloaded, format_name, "all").to_bytes()


def test_turtle_uses_project_prefixes_and_groups_each_subject_once(export_store):
    text = prepare_export(export_store, "turtle", "all").to_bytes().decode()
    assert f"@prefix fgid: <{ID}> ." in text
    assert f"fgid:{ENTITY} a " in text
    assert text.count(f"\nfgid:{ENTITY} ") == 1
    assert "_:" not in text.replace("_:c14n", "")  # blank nodes only with canonical (RDFC-1.0) labels


def test_changing_one_fact_changes_only_its_line(export_store):
    label = next(q for q in export_store.quads() if q.predicate.value == PREFIXES["skos"] + "prefLabel")
    changed = Quad(label.subject, label.predicate, Literal(label.object.value + " (renamed)", language="en"),
                   label.graph_name)
    altered = store_of([changed if q == label else q for q in export_store.quads()])
    before = prepare_export(export_store, "turtle", "all").to_bytes().decode().splitlines()
    after = prepare_export(altered, "turtle", "all").to_bytes().decode().splitlines()
    diff = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"]
    removed = [line for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line for line in diff if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == 1 and label.object.value in removed[0]
    assert len(added) == 1 and "(renamed)" in added[0]


def test_entity_neighbourhood_holds_its_description_and_the_provenance_of_its_claims(export_store):
    quads = set(pyoxigraph.parse(prepare_export(export_store, "nquads", f"entity:{ENTITY}").to_bytes(),
                                 RdfFormat.N_QUADS))
    assert quads == neighbourhood(export_store, ENTITY)
    predicates = {q.predicate.value for q in quads}
    nif = PREFIXES["nif"]
    assert {nif + "anchorOf", nif + "beginIndex", nif + "endIndex", PREFIXES["fg"] + "inSentence"} <= predicates
    assert any(q.subject == NamedNode(ID + ENTITY) for q in quads)


@pytest.mark.parametrize(
    ("subset", "error"),
    [
        ("entity:no-such-entity", NotFound),
        ("entity:has space", NotFound),
        ("entity:trailing\n", NotFound),
        ("source:no-such-source", NotFound),
        ("everything", BadRequest),
        ("entity:", BadRequest),
        ("all:x", BadRequest),
    ],
)
def test_bad_subsets_are_refused_with_the_valid_ones(export_store, subset, error):
    with pytest.raises(error) as raised:
        prepare_export(export_store, "turtle", subset)
    if error is BadRequest:
        assert all(form in str(raised.value) for form in SUBSET_FORMS)


def test_unknown_format_lists_the_valid_ones(export_store):
    with pytest.raises(UnsupportedFormat) as raised:
        prepare_export(export_store, "csv", "all")
    assert all(name in str(raised.value) for name in FORMATS)


def test_subset_names_round_trip():
    for text in ("all", "asserted", "inferred", "ontology", "source:a-b", "entity:c"):
        assert str(parse_subset(text)) == text


@pytest.fixture(scope="module")
def large_store():
    """About 60,000 triples: several streaming chunks' worth in every format."""
    quads = [
        Quad(NamedNode(f"{ID}thing-{i}"), NamedNode(f"{PREFIXES['fg']}p{i % 7}"), Literal(f"value {i} " * 3),
             NamedNode(f"https://w3id.org/filmgraph/graph/source/s{i % 3}"))
        for i in range(60_000)
    ]
    return store_of(quads)


@pytest.mark.parametrize("format_name", ["ntriples", "nquads", "turtle", "rdfxml"])
def test_large_exports_stream_in_bounded_chunks(large_store, format_name):
    export = prepare_export(large_store, format_name, "all")
    chunks = list(export.chunks())
    assert len(chunks) > 10
    assert max(len(chunk) for chunk in chunks) <= 2 * CHUNK_SIZE
    assert b"".join(chunks) == export.to_bytes()


def test_progress_reports_every_quad(large_store):
    seen: list[int] = []
    export = prepare_export(large_store, "ntriples", "all")
    export.write_to(io.BytesIO(), seen.append)
    assert sum(seen) == export.size == 60_000 and len(seen) > 1


def test_a_reader_that_stops_early_stops_the_serialiser(large_store):
    stream = prepare_export(large_store, "nquads", "all").chunks()
    next(stream)
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "filmgraph-export"]


def test_an_abandoned_export_drops_the_stores_iterators_on_the_thread_that_made_them(large_store, monkeypatch):
    """pyoxigraph's iterators may be dropped only by their own thread: the serialiser's error, raised when the
    reader went away, carried them (in its chained tracebacks) to the reader's thread or the garbage collector."""
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: unraisable.append(str(hook.exc_value)))
    stream = prepare_export(large_store, "nquads", "all").chunks()
    next(stream)
    stream.close()
    gc.collect()
    assert unraisable == []


# --- the command line -------------------------------------------------------------------------------------------
def test_cli_exports_are_byte_identical_across_processes_and_report_progress(export_store_dir):
    first = run_cli("export", "--store", str(export_store_dir), "--format", "turtle")
    second = run_cli("export", "--store", str(export_store_dir), "--format", "turtle")
    assert first.stdout == second.stdout and first.stdout.startswith(b"@prefix")
    assert b"exported" in first.stderr and b"quads (all) as turtle" in first.stderr


def test_cli_writes_the_output_file_only_when_the_export_succeeds(export_store_dir, tmp_path):
    target = tmp_path / "entity.trig"
    run_cli("export", "--store", str(export_store_dir), "-f", "trig", "-s", f"entity:{ENTITY}", "-o", str(target))
    assert target.read_bytes().startswith(b"@prefix")
    missing = run_cli("export", "--store", str(export_store_dir), "-s", "entity:nobody", "-o", str(tmp_path / "x"),
                      check=False)
    assert missing.returncode != 0 and b"no entity fgid:nobody" in missing.stderr
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--format", "csv", b"valid formats: turtle, ntriples, trig, nquads, jsonld, rdfxml"),
    ("--subset", "everything", b"valid subsets: all, asserted, inferred, ontology, source:<id>, entity:<local-name>"),
])
def test_cli_refuses_unknown_formats_and_subsets(export_store_dir, option, value, message):
    result = run_cli("export", "--store", str(export_store_dir), option, value, check=False)
    assert result.returncode != 0 and message in result.stderr and not result.stdout


# --- done when: the exported Turtle answers the research questions like filmgraph --------------------------------
CHECK_QUESTIONS = {  # asked besides queries/*.rq, so that the comparison never runs empty
    "labels": "SELECT ?s ?label WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }",
    "evidence": "SELECT ?claim ?quote WHERE { ?claim <https://w3id.org/filmgraph/ontology#evidence>/"
    "<http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#anchorOf> ?quote }",
    "classes": "SELECT ?class (COUNT(*) AS ?n) WHERE { ?s a ?class } GROUP BY ?class",
}
NAMES_GRAPHS = re.compile(r"\b(GRAPH|FROM)\b", re.IGNORECASE)
JSON_RESULTS = "application/sparql-results+json"


def research_questions() -> dict[str, NamedQuery]:
    checks = {name: parse_named_query(name, f"# title: {name}\n{text}") for name, text in CHECK_QUESTIONS.items()}
    return {**checks, **load_named_queries(get_settings().queries_dir)}


QUESTIONS = research_questions()


# A date a query only compares with (agreement-status-as-of) is no value of its answers: ask with this one.
EXAMPLE_VALUES = {"date": "2010-12-31"}


def example_parameters(store: Store, query: NamedQuery) -> list[dict[str, str]]:
    """What to ask with: no parameters (unless one is required), and the values of the query's first answer."""
    cases = [] if any(p.required for p in query.parameters) else [{}]
    rows = store.query(query.text).rows if query.parameters else []
    if not rows:
        return cases
    first = min(rows, key=lambda row: sorted(str(term) for term in row.values()))
    sample = {}
    for parameter in query.parameters:
        if parameter.name not in first and parameter.type in EXAMPLE_VALUES:
            sample[parameter.name] = EXAMPLE_VALUES[parameter.type]
        if parameter.name in first:
            try:
                to_term(parameter, first[parameter.name].value)
            except InvalidParameter:
                continue
            sample[parameter.name] = first[parameter.name].value
    if sample and all(p.name in sample for p in query.parameters if p.required):
        cases.append(sample)
    return cases


@pytest.fixture(scope="module")
def exported_to_oxigraph(export_store_dir, tmp_path_factory):
    """The store's Turtle and N-Quads exports, each loaded into a fresh Oxigraph server (`oxigraph load`, then
    `serve`), reached through filmgraph's remote backend so both sides bind parameters the same way."""
    directory = tmp_path_factory.mktemp("oxigraph")
    turtle, nquads = directory / "filmgraph.ttl", directory / "filmgraph.nq"
    run_cli("export", "--store", str(export_store_dir), "--format", "turtle", "--output", str(turtle))
    run_cli("export", "--store", str(export_store_dir), "--format", "nquads", "--output", str(nquads))
    with (
        oxigraph_process(turtle, directory / "from-turtle") as turtle_base,
        oxigraph_process(nquads, directory / "from-nquads") as nquads_base,
    ):
        stores = {name: RemoteStore(Endpoints(f"{base}/query", f"{base}/update", f"{base}/store"), timeout=30)
                  for name, base in (("turtle", turtle_base), ("nquads", nquads_base))}
        yield stores
        for store in stores.values():
            store.close()


def _answers(store: Store, query: NamedQuery, params: dict[str, str]) -> list[tuple]:
    return result_set(run_named_query_serialized(store, query, JSON_RESULTS, params).body)


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_exported_turtle_loaded_into_oxigraph_answers_the_research_questions_like_filmgraph(
    export_store, exported_to_oxigraph, name
):
    query = QUESTIONS[name]
    cases = example_parameters(export_store, query)
    answered = 0
    for params in cases:
        ours = _answers(export_store, query, params)
        answered += bool(ours)
        assert _answers(exported_to_oxigraph["nquads"], query, params) == ours, params
        if not NAMES_GRAPHS.search(query.text):  # a merged Turtle file has no named graphs to ask about
            assert _answers(exported_to_oxigraph["turtle"], query, params) == ours, params
    assert cases and answered, f"{name} has no answer in filmgraph: nothing to compare"


def test_cli_refuses_to_export_a_store_that_does_not_exist(tmp_path):
    missing = tmp_path / "no-store"
    result = run_cli("export", "--store", str(missing), check=False)
    assert result.returncode == 2 and b"run `filmgraph build` first" in result.stderr
    assert not missing.exists()


def with_fresh_blank_nodes(quads):
    """The same content as a rebuild would give it: every blank node relabelled at random."""
    fresh: dict = {}

    def relabel(term):
        return fresh.setdefault(term, BlankNode()) if isinstance(term, BlankNode) else term

    return [Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name) for q in quads]


@pytest.mark.parametrize("format_name", ["turtle", "trig", "jsonld"])
def test_sorted_formats_survive_a_rebuild_that_relabels_blank_nodes(export_store, format_name):
    assert any(isinstance(q.subject, BlankNode) for q in export_store.quads()), "the fixture needs blank nodes"
    rebuilt = store_of(with_fresh_blank_nodes(export_store.quads()))
    original = prepare_export(export_store, format_name, "all").to_bytes()
    assert original == prepare_export(rebuilt, format_name, "all").to_bytes()


# --- both backends ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("subset_index", SUBSET_INDEXES)
def test_the_remote_backend_exports_what_the_embedded_one_does(embedded_store, remote_store, subset_index):
    subset = _subset(embedded_store, subset_index)
    turtle = prepare_export(embedded_store, "turtle", subset).to_bytes()
    assert turtle == prepare_export(remote_store, "turtle", subset).to_bytes()  # sorted: byte for byte
    quads = [pyoxigraph.parse(prepare_export(store, "nquads", subset).to_bytes(), RdfFormat.N_QUADS)
             for store in (embedded_store, remote_store)]  # streamed in store order, blank nodes as stored
    assert_same_graphs(rdflib_graphs(quads[1], keep_graphs=True), rdflib_graphs(quads[0], keep_graphs=True))


def test_cli_explains_a_store_held_by_a_running_server(export_store_dir, tmp_path):
    held = shutil.copytree(export_store_dir, tmp_path / "held")
    server_handle = pyoxigraph.Store(str(held))  # what `filmgraph serve` keeps open
    try:
        result = run_cli("export", "--store", str(held), check=False)
    finally:
        del server_handle
        gc.collect()
    assert result.returncode == 2 and b"stop `filmgraph serve`, or use its GET /export" in result.stderr


def _blank_node_lines(body: bytes) -> list[bytes]:
    return sorted(line for line in body.splitlines() if b"_:" in line or b"nodeID" in line)


@pytest.mark.parametrize("format_name", ["nquads", "ntriples", "rdfxml"])
def test_streamed_formats_give_blank_nodes_canonical_labels_stable_across_rebuilds(export_store, format_name):
    """Streamed in store order (which differs between stores), but each blank node has its RDFC-1.0 label, the same
    after a rebuild or a write that gave them fresh ones: the same lines, whatever their order."""
    rebuilt = store_of(with_fresh_blank_nodes(export_store.quads()))
    original = prepare_export(export_store, format_name, "all").to_bytes()
    again = prepare_export(rebuilt, format_name, "all").to_bytes()
    assert sorted(original.splitlines()) == sorted(again.splitlines()) or format_name == "rdfxml"  # grouped
    assert _blank_node_lines(original) == _blank_node_lines(again)
    stored_labels = {q.subject.value for q in export_store.quads() if isinstance(q.subject, BlankNode)}
    written = set(re.findall(rb"_:(c14n\d+)", original)) | set(re.findall(rb'nodeID="(c14n\d+)"', original))
    assert written and not stored_labels & {label.decode() for label in written}  # RDFC-1.0 labels, not the store's


def test_cli_output_file_gets_the_usual_permissions(export_store_dir, tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "all.nq"
    run_cli("export", "--store", str(export_store_dir), "-f", "nquads", "-o", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask

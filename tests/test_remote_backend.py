"""One Store interface, two backends: the embedded store (with its workers) and a real Oxigraph server must answer
alike, bind parameters as terms, and write atomically through the Graph Store Protocol."""

from __future__ import annotations

import uuid

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from filmgraph.errors import InvalidParameter, NotAcceptable, QuerySyntaxError
from filmgraph.store import Dataset, EmbeddedStore, Store
from filmgraph.serving.serving_store import ServingStore
from filmgraph.store.remote import RemoteStore, with_values

ID = "https://w3id.org/filmgraph/id/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
INFERRED = "https://w3id.org/filmgraph/graph/inferred"


def test_select_with_bound_parameters(any_store: Store):
    result = any_store.query(
        f"SELECT ?entity ?label WHERE {{ ?entity <{SKOS}prefLabel> ?label }}", bindings={"entity": NamedNode(ID + "russia")}
    )
    assert result.kind == "select"
    assert [row["label"] for row in result.rows] == [Literal("Russia", language="en")]


def test_a_bound_literal_cannot_change_the_query_shape(any_store: Store):
    hostile = Literal('x" } UNION { ?entity ?p ?label } #')
    result = any_store.query(f"SELECT ?entity ?label WHERE {{ ?entity <{SKOS}altLabel> ?label }}", bindings={"label": hostile})
    assert result.rows == []


def test_ask_construct_and_counts_agree_across_backends(embedded_store: Store, remote_store: Store):
    ask = f"ASK {{ <{ID}cinecitta-luce> <{SKOS}altLabel> 'Cinecitta Luce'@en }}"
    assert embedded_store.query(ask).boolean is remote_store.query(ask).boolean is True
    construct = f"CONSTRUCT {{ ?s <{SKOS}prefLabel> ?o }} WHERE {{ ?s <{SKOS}prefLabel> ?o }}"
    assert set(embedded_store.query(construct).triples) == set(remote_store.query(construct).triples)
    assert embedded_store.named_graphs() == remote_store.named_graphs()
    assert embedded_store.count(INFERRED) == remote_store.count(INFERRED) > 0
    assert embedded_store.count() == remote_store.count()
    assert set(embedded_store.quads(INFERRED)) == set(remote_store.quads(INFERRED))


def test_dataset_selection(any_store: Store):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only_inferred = any_store.query(query, dataset=Dataset(default_graphs=[INFERRED]))
    assert int(only_inferred.rows[0]["n"].value) == any_store.count(INFERRED)


def test_serialized_results_pick_the_type_that_fits(any_store: Store):
    select = any_store.query_serialized("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "text/csv, text/turtle")
    assert select.media_type.startswith("text/csv") and select.body.startswith(b"s\r\n")
    graph = any_store.query_serialized("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "text/csv, application/n-triples")
    assert graph.media_type.startswith("application/n-triples") and graph.body.strip().endswith(b".")


def test_errors_are_the_same_types(any_store: Store):
    with pytest.raises(QuerySyntaxError):
        any_store.query("SELECT WHERE")
    with pytest.raises(NotAcceptable):
        any_store.query_serialized("SELECT * WHERE { ?s ?p ?o }", "image/png")


def test_trailing_values_are_written_by_pyoxigraph():
    text = with_values("SELECT * WHERE { ?s ?p ?o } # comment", {"s": NamedNode("http://a/"), "o": Literal('q"')})
    assert text.endswith('\nVALUES (?s ?o) { (<http://a/> "q\\"") }\n')
    with pytest.raises(ValueError):
        with_values("SELECT * {}", {"bad name": Literal("x")})
    from pyoxigraph import BlankNode  # noqa: PLC0415

    with pytest.raises(InvalidParameter):
        with_values("SELECT * {}", {"s": BlankNode()})


def _write_round_trip(store: Store) -> None:
    graph = f"urn:test:{uuid.uuid4()}"
    first = Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("one"))
    second = Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("two"))
    before = store.generation
    assert not store.has_graph(graph)
    store.add_to_graph(graph, [first])
    assert store.has_graph(graph) and store.count(graph) == 1
    store.replace_graph(graph, [second])
    assert [q.triple for q in store.quads(graph)] == [second]
    assert store.query("ASK { <urn:a> <urn:p> 'two' }").boolean  # the next read sees the write
    store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> 'three' }} }}")
    assert store.count(graph) == 2
    with pytest.raises(QuerySyntaxError):
        store.update("INSERT DATA { broken")
    assert store.count(graph) == 2
    assert store.drop_graph(graph) is True
    assert store.drop_graph(graph) is False
    assert not store.query("ASK { <urn:a> ?p ?o }").boolean
    assert store.generation > before


def test_writes_on_the_remote_backend(remote_store: Store):
    _write_round_trip(remote_store)


def test_writes_on_the_embedded_backend_with_workers(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1)
    try:
        _write_round_trip(store)
        checkpoints = list((tmp_path / ".store-checkpoints").glob("gen-*"))
        assert 1 <= len(checkpoints) <= 2  # old checkpoints are cleaned up
    finally:
        store.close()
    assert not (tmp_path / ".store-checkpoints").exists()


def test_a_remote_answer_that_breaks_off_is_a_502_not_a_crash(remote_store: RemoteStore):
    """Oxigraph answers 200 and then cuts the body when SERVICE fails (or its timeout fires); Virtuoso answers a
    500 at once: both are the engine's failure (502), not a crash."""
    from filmgraph.errors import BackendUnavailable  # noqa: PLC0415

    said = "broke off" if remote_store.engine.name == "generic" else "Connection Error in HTTP Client"
    with pytest.raises(BackendUnavailable, match=said):
        remote_store.query("SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }")


def test_our_protocol_in_front_of_the_remote_backend(remote_store: Store):
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from filmgraph.api import create_app  # noqa: PLC0415
    from filmgraph.settings import Settings  # noqa: PLC0415

    client = TestClient(create_app(Settings(backend="remote"), remote_store))
    query = f"SELECT ?label WHERE {{ <{ID}russia> <{SKOS}prefLabel> ?label }}"
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert answer.status_code == 200 and answer.text.splitlines() == ["label", "Russia"]
    malformed = client.get("/sparql", params={"query": "SELECT WHERE"})
    assert malformed.status_code == 400
    graph = client.get("/graph-store", params={"graph": INFERRED}, headers={"Accept": "application/n-triples"})
    assert graph.status_code == 200 and len(graph.text.splitlines()) == remote_store.count(INFERRED)
    assert client.get("/graph-store", params={"graph": "urn:test:absent"}).status_code == 404
    assert client.get("/readyz").json()["status"] == "ready"
    # text/plain is N-Triples for graphs on both backends, never CSV for solutions
    plain = client.get("/sparql", params={"query": query}, headers={"Accept": "text/plain"})
    assert plain.status_code == 406, plain.text

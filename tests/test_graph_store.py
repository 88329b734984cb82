"""The Graph Store HTTP Protocol at /graph-store: read, replace, add, drop, with the right status codes; a body
that does not parse changes nothing."""

from __future__ import annotations

import rdflib
from service_support import TOKEN

GRAPH = "urn:test:graph-store"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
INFERRED = "https://w3id.org/filmgraph/graph/inferred"


def read(client, graph: str = GRAPH, accept: str = "application/n-triples") -> rdflib.Graph:
    response = client.get("/graph-store", params={"graph": graph}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return rdflib.Graph().parse(data=response.content, format={"application/n-triples": "nt"}.get(accept, accept))


def test_put_creates_then_replaces_post_adds_delete_drops(writable_service):
    client, store = writable_service
    created = client.put("/graph-store", params={"graph": GRAPH}, content="<urn:a> <urn:p> 'one' .", headers=TURTLE)
    assert created.status_code == 201
    replaced = client.put("/graph-store", params={"graph": GRAPH}, content="<urn:a> <urn:p> 'two' .", headers=TURTLE)
    assert replaced.status_code == 204
    assert {str(o) for o in read(client).objects()} == {"two"}
    added = client.post(
        "/graph-store", params={"graph": GRAPH}, content='<urn:a> <urn:p> "three" .',
        headers={**AUTH, "Content-Type": "application/n-triples"},
    )  # fmt: skip
    assert added.status_code == 204
    assert {str(o) for o in read(client).objects()} == {"two", "three"}
    # the SPARQL endpoint sees the same graph
    ask = client.get("/sparql", params={"query": f"ASK {{ GRAPH <{GRAPH}> {{ <urn:a> <urn:p> 'three' }} }}"})
    assert ask.json()["boolean"] is True
    assert client.delete("/graph-store", params={"graph": GRAPH}, headers=AUTH).status_code == 204
    assert client.get("/graph-store", params={"graph": GRAPH}).status_code == 404
    assert client.delete("/graph-store", params={"graph": GRAPH}, headers=AUTH).status_code == 404


def test_read_a_graph_in_each_format(writable_service):
    client, store = writable_service
    expected = store.count(INFERRED)
    for accept in ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"):
        response = client.get("/graph-store", params={"graph": INFERRED}, headers={"Accept": accept})
        assert response.headers["content-type"].startswith(accept)
        rdflib_format = {"text/turtle": "turtle", "application/n-triples": "nt"}.get(accept, accept)
        assert len(rdflib.Graph().parse(data=response.content, format=rdflib_format)) == expected
    head = client.head("/graph-store", params={"graph": INFERRED})
    assert head.status_code == 200 and head.content == b""


def test_the_default_graph_is_addressed_with_default(writable_service):
    client, store = writable_service
    put = client.put("/graph-store", params={"default": ""}, content="<urn:d> <urn:p> <urn:o> .", headers=TURTLE)
    assert put.status_code == 204
    response = client.get("/graph-store", params={"default": ""}, headers={"Accept": "application/n-triples"})
    assert response.text.strip() == "<urn:d> <urn:p> <urn:o> ."


def test_a_body_that_does_not_parse_is_400_and_changes_nothing(writable_service):
    client, store = writable_service
    before = (store.count(), store.generation)
    response = client.put(
        "/graph-store", params={"graph": INFERRED}, content="<urn:a> <urn:p> 'unterminated .", headers=TURTLE
    )
    assert response.status_code == 400 and "does not parse" in response.json()["detail"]
    assert (store.count(), store.generation) == before


def test_protocol_errors(writable_service):
    client, _ = writable_service
    assert client.get("/graph-store").status_code == 400  # neither ?graph nor ?default
    assert client.get("/graph-store", params={"graph": GRAPH, "default": ""}).status_code == 400
    assert client.get("/graph-store", params={"graph": "not an iri"}).status_code == 400
    assert client.get("/graph-store", params={"graph": "urn:test:missing"}).status_code == 404
    accept_png = client.get("/graph-store", params={"graph": INFERRED}, headers={"Accept": "image/png"})
    assert accept_png.status_code == 406
    wrong_type = client.put("/graph-store", params={"graph": GRAPH}, content="x", headers={**AUTH, "Content-Type": "text/csv"})
    assert wrong_type.status_code == 415
    dataset = client.put(
        "/graph-store", params={"graph": GRAPH}, content="", headers={**AUTH, "Content-Type": "application/trig"}
    )
    assert dataset.status_code == 415
    assert client.patch("/graph-store", params={"graph": GRAPH}, headers=AUTH).status_code == 405


def test_an_upload_over_the_limit_is_413_and_changes_nothing(writable_service):
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from filmgraph.api import create_app  # noqa: PLC0415
    from filmgraph.settings import Settings  # noqa: PLC0415

    _, store = writable_service
    client = TestClient(create_app(Settings(store=store.path, token=TOKEN, max_upload_bytes=100), store))
    before = store.count()
    body = "<urn:a> <urn:p> 'x' .\n" * 10
    response = client.put("/graph-store", params={"graph": GRAPH}, content=body, headers=TURTLE)
    assert response.status_code == 413
    assert store.count() == before and not store.has_graph(GRAPH)


def test_put_replaces_only_its_graph_and_an_empty_put_still_makes_the_graph(writable_service):
    client, store = writable_service
    named = store.count(INFERRED)
    client.put("/graph-store", params={"default": ""}, content="<urn:d> <urn:p> 'old' .", headers=TURTLE)
    replaced = client.put("/graph-store", params={"default": ""}, content="<urn:d> <urn:p> 'new' .", headers=TURTLE)
    assert replaced.status_code == 204
    response = client.get("/graph-store", params={"default": ""}, headers={"Accept": "application/n-triples"})
    assert response.text.strip() == '<urn:d> <urn:p> "new" .'
    assert store.count(INFERRED) == named, "emptying the default graph touched a named graph"
    empty = "urn:test:empty-put"
    assert client.put("/graph-store", params={"graph": empty}, content=b"", headers=TURTLE).status_code == 201
    assert client.get("/graph-store", params={"graph": empty}).status_code == 200

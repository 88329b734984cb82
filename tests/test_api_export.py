"""GET /export, /.well-known/void and /context.jsonld, through the real app (in process and on a real server)."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pyoxigraph
import pytest
import rdflib
import uvicorn
from export_support import (
    ENTITY,
    assert_same_graphs,
    expected_quads,
    rdflib_graphs,
    store_of,
)
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat
from service_support import free_port

from filmgraph.api import create_app
from filmgraph.export import FORMATS, load_context
from filmgraph.release import DATASET, VOID
from filmgraph.settings import get_settings
from filmgraph.vocab import ID, PREFIXES


@pytest.fixture(scope="module")
def client(export_store):
    return TestClient(create_app(get_settings(), export_store))


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_export_answers_every_format_with_its_media_type_and_a_file_name(client, export_store, format_name):
    export_format = FORMATS[format_name]
    response = client.get("/export", params={"format": format_name, "subset": "asserted"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == export_format.media_type
    disposition = response.headers["content-disposition"]
    assert disposition == f'attachment; filename="filmgraph-asserted.{export_format.extension}"'
    parsed = pyoxigraph.parse(response.content, export_format.rdf_format or RdfFormat.JSON_LD)
    expected = rdflib_graphs(expected_quads(export_store, "asserted"), export_format.keeps_graphs)
    assert_same_graphs(rdflib_graphs(parsed, export_format.keeps_graphs), expected)


def test_export_negotiates_the_format_from_accept(client):
    assert client.get("/export", headers={"Accept": "application/n-quads"}).headers["content-type"].startswith(
        "application/n-quads")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert client.get("/export", headers={"Accept": browser}).headers["content-type"].startswith("text/turtle")
    refused = client.get("/export", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "text/turtle" in refused.json()["detail"]


@pytest.mark.parametrize(("params", "status", "listed"), [
    ({"format": "csv"}, 400, list(FORMATS)),
    ({"subset": "everything"}, 400, ["all", "asserted", "inferred", "ontology", "source:<id>", "entity:<local-name>"]),
    ({"subset": "entity:no-such-entity"}, 404, ["no-such-entity"]),
    ({"subset": "entity:'} UNION {?s ?p ?o'"}, 404, []),
    ({"subset": "source:no-such-source"}, 404, ["no-such-source"]),
])
def test_bad_requests_get_a_problem_that_says_what_is_valid(client, params, status, listed):
    response = client.get("/export", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert all(item in response.json()["detail"] for item in listed)


def test_entity_export_is_its_neighbourhood(client):
    response = client.get("/export", params={"format": "nquads", "subset": f"entity:{ENTITY}"})
    subjects = {q.subject.value for q in pyoxigraph.parse(response.content, RdfFormat.N_QUADS)}
    assert ID + ENTITY in subjects and len(subjects) > 1


def test_void_is_turtle_by_default_and_matches_the_store(client, export_store):
    response = client.get("/.well-known/void")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    void = rdflib.Graph().parse(data=response.text, format="turtle")
    assert void.value(DATASET, VOID.triples).toPython() == export_store.count()
    assert str(void.value(DATASET, VOID.sparqlEndpoint)) == "http://127.0.0.1:8000/sparql"
    dumps = {str(d) for d in void.objects(DATASET, VOID.dataDump)}
    assert dumps == {"http://127.0.0.1:8000/export?format=turtle", "http://127.0.0.1:8000/export?format=nquads"}


def test_void_negotiates_jsonld(client):
    response = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    void = rdflib.Graph().parse(data=response.text, format="json-ld")
    assert (rdflib.URIRef(DATASET), rdflib.RDF.type, VOID.Dataset) in void
    assert client.get("/.well-known/void", headers={"Accept": "text/csv"}).status_code == 406


def test_void_follows_changes_to_the_store(export_store):
    store = store_of(export_store.quads())
    client = TestClient(create_app(get_settings(), store))
    before = rdflib.Graph().parse(data=client.get("/.well-known/void").text, format="turtle")
    label = Quad(NamedNode(ID + "new-thing"), NamedNode(PREFIXES["skos"] + "prefLabel"), Literal("New"))
    store.add_to_graph(next(iter(store.named_graphs())), [label])
    after = rdflib.Graph().parse(data=client.get("/.well-known/void").text, format="turtle")
    assert after.value(DATASET, VOID.triples).toPython() == before.value(DATASET, VOID.triples).toPython() + 1


def test_context_is_published(client):
    response = client.get("/context.jsonld")
    assert response.status_code == 200 and response.headers["content-type"] == "application/ld+json"
    assert json.loads(response.content) == load_context()


# --- a real server ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def large_server():
    """filmgraph on 127.0.0.1 over a store of 60,000 triples, stopped at the end of the module."""
    quads = [Quad(NamedNode(f"{ID}thing-{i}"), NamedNode(PREFIXES["rdfs"] + "label"), Literal(f"thing number {i}"),
                  NamedNode("https://w3id.org/filmgraph/graph/source/big")) for i in range(60_000)]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(get_settings(), store_of(quads)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_large_export_streams_over_http_and_an_abandoned_one_does_not_hurt(large_server):
    with httpx.stream("GET", f"{large_server}/export", params={"format": "ntriples"}, timeout=30) as response:
        assert response.status_code == 200 and "content-length" not in response.headers
        next(response.iter_bytes())  # read a little, then hang up
    with httpx.stream("GET", f"{large_server}/export", params={"format": "ntriples"}, timeout=30) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        chunks = list(response.iter_raw())
    assert len(chunks) > 10
    assert len(list(pyoxigraph.parse(b"".join(chunks), RdfFormat.N_TRIPLES))) == 60_000


@pytest.mark.parametrize("path", ["/export?format=trig", "/.well-known/void"])
def test_reads_answer_conditional_gets(client, path):
    first = client.get(path)
    assert first.status_code == 200 and first.headers["etag"]
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_export_negotiated_by_accept_says_vary_accept(client):
    response = client.get("/export", params={"subset": "ontology"}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200 and "accept" in response.headers["vary"].casefold()

"""One meaning per status (issue 14 item 3): a malformed query or update is 400 "Malformed SPARQL" with the parser's
message; a well-formed one that cannot be carried out is 404 (a missing graph) or 409, with a title saying so, and
changes nothing; the remote backend passes its engine's message on and does not call a well-formed request
malformed (Oxigraph started with --union-default-graph refuses every update with USING or WITH)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from service_support import SAMPLE, TOKEN, oxigraph_process

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore, Store
from filmgraph.store.remote import Endpoints, RemoteStore

WRITE = {"Authorization": f"Bearer {TOKEN}"}
CASES = [  # (update, status, title)
    ("INSERT DATA { <urn:a> <urn:b> }", 400, "Malformed SPARQL"),
    ("INSERT DATA { GRAPH ?g { <urn:s> <urn:p> <urn:o> } }", 400, "Malformed SPARQL"),  # before the ownership check
    ("DROP GRAPH <urn:test:absent>", 404, "Graph not found"),
    ("CLEAR GRAPH <urn:test:absent>", 404, "Graph not found"),
    ("MOVE <urn:test:absent> TO <urn:test:other>", 404, "Graph not found"),
    ("CREATE GRAPH <urn:test:present>", 409, "Graph already exists"),
]


@pytest.fixture
def embedded_client(tmp_path) -> Iterator[tuple[TestClient, Store]]:
    store = EmbeddedStore(tmp_path / "store")
    store.update("INSERT DATA { GRAPH <urn:test:present> { <urn:s> <urn:p> <urn:o> } }")
    with TestClient(create_app(Settings(store=store.path, token=TOKEN), store)) as client:
        yield client, store
    store.close()


@pytest.mark.parametrize(("update", "status", "title"), CASES)
def test_embedded_updates_answer_what_went_wrong(embedded_client, update, status, title):
    client, store = embedded_client
    before = sorted(map(str, store.quads()))
    response = client.post("/sparql", data={"update": update}, headers=WRITE)
    assert (response.status_code, response.json()["title"]) == (status, title), response.text
    if status == 400:
        assert "expected" in response.json()["detail"]  # the parser's own message
    assert sorted(map(str, store.quads())) == before and store.has_graph("urn:test:present")


@pytest.mark.parametrize("update", [u for u, status, _ in CASES if status != 400])
def test_with_silent_the_same_updates_succeed(embedded_client, update):
    client, _ = embedded_client
    keyword = update.split()[0]
    silent = update.replace(keyword, f"{keyword} SILENT", 1)
    assert client.post("/sparql", data={"update": silent}, headers=WRITE).status_code == 204


def test_embedded_queries_malformed_or_not_executable(embedded_client):
    client, _ = embedded_client
    malformed = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert (malformed.status_code, malformed.json()["title"]) == (400, "Malformed SPARQL")
    unknown_function = client.get("/sparql", params={"query": "SELECT (<urn:f>(1) AS ?x) {}"})
    assert unknown_function.status_code == 409, unknown_function.text
    assert "not supported" in unknown_function.json()["detail"]


@pytest.fixture(scope="module")
def union_oxigraph(tmp_path_factory) -> Iterator[RemoteStore]:
    """A writable Oxigraph server started with --union-default-graph, as the README's example does."""
    with oxigraph_process(SAMPLE, tmp_path_factory.mktemp("oxigraph-union") / "store") as base:
        store = RemoteStore(Endpoints(f"{base}/query", f"{base}/update", f"{base}/store"), timeout=10)
        yield store
        store.close()


def test_remote_refusals_keep_their_meaning(union_oxigraph):
    client = TestClient(create_app(Settings(backend="remote", token=TOKEN), union_oxigraph))
    using = "INSERT { <urn:a> <urn:b> <urn:c> } USING <urn:test:g> WHERE { ?s ?p ?o }"
    refused = client.post("/sparql", data={"update": using}, headers=WRITE)
    assert refused.status_code == 409, refused.text
    assert refused.json()["title"] != "Malformed SPARQL" and "USING" in refused.json()["detail"]  # Oxigraph's words
    malformed = client.post("/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> }"}, headers=WRITE)
    assert (malformed.status_code, malformed.json()["title"]) == (400, "Malformed SPARQL")
    assert "expected" in malformed.json()["detail"]
    missing = client.post("/sparql", data={"update": "DROP GRAPH <urn:test:absent>"}, headers=WRITE)
    assert (missing.status_code, missing.json()["title"]) == (404, "Graph not found"), missing.text
    query = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert (query.status_code, query.json()["title"]) == (400, "Malformed SPARQL")

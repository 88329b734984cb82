"""HTTP manners of the REST API and entity pages: problems, validation, injection, conditional GET, OpenAPI."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from pyoxigraph import Literal, NamedNode, Quad

from filmgraph.api import create_app
from filmgraph.store import EmbeddedStore
from filmgraph.vocab import ID, PREFIXES, source_graph

INJECTIONS = [
    'russia" } UNION { ?s ?p ?o } #',
    "russia> } UNION { ?s ?p ?o . <x",
    "} UNION {",
    "russia'; DROP ALL",
    "https://w3id.org/filmgraph/id/russia with spaces",
    "{?s ?p ?o}",
]


def test_unknown_entity_is_a_404_problem(rest):
    for url in ("/api/entities/no-such-entity", "/api/entities/no-such-entity/relations", "/id/no-such-entity"):
        response = rest.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404 and "no-such-entity" in response.json()["detail"]
    response = rest.get("/api/paths", params={"from": "russia", "to": "no-such-entity"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/entities", {"limit": "0"}),
        ("/api/entities", {"limit": "many"}),
        ("/api/entities", {"offset": "-1"}),
        ("/api/entities/russia/relations", {"direction": "sideways"}),
        ("/api/paths", {"from": "russia", "to": "italy", "max_hops": "9"}),
        ("/api/paths", {"from": "russia"}),
        ("/api/agreements", {"from": "summer 2010"}),
        ("/api/agreements", {"from": "2010-12-31", "to": "2010-01-01"}),
    ],
)
def test_invalid_parameters_are_422_and_say_what_is_wrong(rest, url, params):
    response = rest.get(url, params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] == "Invalid parameter"
    named = {"from", "to", "limit", "offset", "direction", "max_hops"} & {*params, "to"}
    assert any(name in problem["detail"] for name in named), problem["detail"]


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_through_ids_is_refused(rest, attack):
    for url in (f"/api/entities/{quote(attack, safe='')}", f"/id/{quote(attack, safe='')}"):
        assert rest.get(url).status_code in (404, 422)
    for params in ({"from": attack, "to": "russia"}, {"from": "russia", "to": attack}):
        assert rest.get("/api/paths", params=params).status_code == 422
    assert rest.get("/api/agreements", params={"party": attack}).status_code == 422


@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_through_text_is_only_text_and_changes_nothing(rest, any_store, attack):
    """Search text is matched as words (the same hits as its words alone); a property filter matches nothing and a
    status filter is refused as an unknown status (422)."""
    before = any_store.count()
    words = " ".join(re.findall(r"\w+", attack))
    as_text = rest.get("/api/entities", params={"q": attack, "limit": 100}).json()["items"]
    assert as_text == rest.get("/api/entities", params={"q": words, "limit": 100}).json()["items"]
    assert rest.get("/api/entities", params={"type": attack}).json()["total"] == 0
    assert rest.get("/api/entities/russia/relations", params={"property": attack}).json()["relations"] == []
    assert rest.get("/api/entities/russia/relations", params={"status": attack}).status_code == 422
    assert rest.get("/api/agreements", params={"status": attack}).status_code == 422
    assert any_store.count() == before


def test_conditional_get_answers_304_until_the_store_changes():
    store = EmbeddedStore(None)
    node = NamedNode(ID + "lonely")
    store.add_to_graph(source_graph("t"), [Quad(node, NamedNode(PREFIXES["skos"] + "prefLabel"), Literal("Lonely"))])
    client = TestClient(create_app(store=store))
    first = client.get("/api/entities/lonely")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.status_code == 200 and first.json()["label"] == "Lonely"
    again = client.get("/api/entities/lonely", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert again.headers["vary"] == "Accept"  # as the 200 does: the ETag depends on Accept
    assert client.get("/api/entities/lonely", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/api/entities/lonely", headers={"If-None-Match": '"other"'}).status_code == 200
    html = client.get("/id/lonely", headers={"Accept": "text/html"})
    turtle = client.get("/id/lonely", headers={"Accept": "text/turtle"})
    assert html.headers["etag"] != turtle.headers["etag"]
    store.add_to_graph(source_graph("t"), [Quad(node, NamedNode(PREFIXES["skos"] + "altLabel"), Literal("Alone"))])
    changed = client.get("/api/entities/lonely", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert {"value": "Alone", "lang": None, "kind": "alt", "kinds": ["alt"]} in changed.json()["labels"]


def test_openapi_schema_is_valid_and_lists_every_endpoint(rest):
    schema = rest.get("/openapi.json").json()
    validate(schema)
    paths = set(schema["paths"])
    for path in (
        "/api/entities",
        "/api/entities/{id}",
        "/api/entities/{id}/relations",
        "/api/paths",
        "/api/agreements",
        "/api/timeline",
        "/api/sources",
        "/api/sources/{id}",
        "/id/{name}",
        "/api/queries",
        "/api/queries/who-heads-what",
    ):
        assert path in paths, path
    assert rest.get("/docs").status_code == 200


def test_a_change_within_the_same_second_is_still_newer():
    store = EmbeddedStore(None)
    node = NamedNode(ID + "quick")
    label = NamedNode(PREFIXES["skos"] + "prefLabel")
    store.add_to_graph(source_graph("t"), [Quad(node, label, Literal("Quick"))])
    client = TestClient(create_app(store=store))
    modified = client.get("/api/entities/quick").headers["last-modified"]
    store.add_to_graph(source_graph("t"), [Quad(node, label, Literal("Quicker"))])
    assert client.get("/api/entities/quick", headers={"If-Modified-Since": modified}).status_code == 200


class RecordingStore:
    """Passes everything to a real store and remembers the text of every query sent to it."""

    def __init__(self, store):
        self._store = store
        self.texts: list[str] = []

    def query(self, sparql, *args, **kwargs):
        self.texts.append(sparql)
        return self._store.query(sparql, *args, **kwargs)

    def query_serialized(self, sparql, *args, **kwargs):
        self.texts.append(sparql)
        return self._store.query_serialized(sparql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.mark.parametrize("attack", INJECTIONS)
@pytest.mark.parametrize(
    ("url", "name", "benign"),
    [
        ("/api/entities", "q", "russian fund"),
        ("/api/entities", "type", "State"),
        ("/api/entities/russia/relations", "property", "fg:party"),
        ("/api/entities/russia/relations", "status", "Planned"),
        ("/api/agreements", "status", "signed"),
        ("/api/queries/postponed-agreements", "agreement", "agreement-russia-germany-co-production"),
    ],
)
def test_injection_never_changes_the_query_text(built_store, url, name, benign, attack):
    """The SPARQL sent for an attack is text the benign request sends too: the attack reaches no query, whether it
    is answered (200) or refused (422, after at most the fixed lookups that check a value, such as the statuses)."""
    recorder = RecordingStore(built_store)
    client = TestClient(create_app(store=recorder))
    assert client.get(url, params={name: benign}).status_code == 200
    benign_texts, recorder.texts = set(recorder.texts), []
    response = client.get(url, params={name: attack})
    assert response.status_code in (200, 422)
    assert set(recorder.texts) <= benign_texts
    if response.status_code == 422:
        assert all(attack not in text for text in recorder.texts)

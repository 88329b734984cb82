"""The Reconciliation Service API v0.2 at /reconcile, asked as OpenRefine 3.x asks it (the manifest by JSON and by
JSONP, POST form `queries=` batches of "q0".."q9" with `type` + `type_strict: should` and property columns, the
suggest widget's JSONP `prefix=` calls, the preview iframe, propose_properties and POST form `extend=`).

Answers are validated against JSON schemas written from the spec's text (tests/data/reconcile/schemas-0.2.json:
no registry package ships the spec's own); expected values are read from the graph, not from today's data.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore
from fastapi.testclient import TestClient

SCHEMAS = json.loads((Path(__file__).parent / "data" / "reconcile" / "schemas-0.2.json").read_text())
SKOS = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX fg: <https://w3id.org/filmgraph/ontology#> "


def valid(kind: str, document) -> None:
    Draft202012Validator({**SCHEMAS, "$ref": f"#/$defs/{kind}"}).validate(document)


def jsonp(text: str, callback: str):
    match = re.fullmatch(r"/\*\*/" + re.escape(callback) + r"\((.*)\);", text, re.S)
    assert match, text[:80]
    return json.loads(match.group(1))


def post_queries(client, batch: dict) -> dict:
    valid("queryBatch", batch)  # the request is what the spec (and OpenRefine) sends
    response = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 200, response.text
    body = response.json()
    valid("resultBatch", body)
    assert set(body) == set(batch)
    for result in body.values():
        scores = [candidate["score"] for candidate in result["result"]]
        assert scores == sorted(scores, reverse=True)
    return body


def label_of(store, entity_id: str) -> str:
    [row] = store.query(SKOS + f"SELECT ?l WHERE {{ <https://w3id.org/filmgraph/id/{entity_id}> skos:prefLabel ?l }}").rows
    return row["l"].value


def test_the_manifest_by_json_and_by_jsonp_with_cors(rest):
    response = rest.get("/reconcile")
    manifest = response.json()
    valid("manifest", manifest)
    assert response.headers["access-control-allow-origin"] == "*"
    assert manifest["identifierSpace"] == "https://w3id.org/filmgraph/id/"
    assert {"entity", "type", "property"} == set(manifest["suggest"])
    wrapped = rest.get("/reconcile", params={"callback": "jQuery3600_1700000000"})
    assert wrapped.headers["content-type"].startswith("application/javascript")
    assert jsonp(wrapped.text, "jQuery3600_1700000000") == manifest
    for template in (manifest["view"]["url"], manifest["preview"]["url"]):
        assert rest.get(urllib.parse.urlsplit(template.replace("{{id}}", "russia")).path + "?" +
                        urllib.parse.urlsplit(template.replace("{{id}}", "russia")).query).status_code == 200


def test_a_batch_as_openrefine_sends_it(rest, any_store):
    """Ten queries, typed and untyped, one per cell; exact names match, a typo is a candidate but not a match."""
    fund, person = label_of(any_store, "russian-state-fund"), label_of(any_store, "sergei-tolstikov")
    cells = [fund, fund.upper(), person, person[:-1] + "f", "no such thing at all", "Q159", fund, person, "x", fund]
    batch = {f"q{i}": {"query": cell} for i, cell in enumerate(cells)}
    batch["q2"] |= {"type": "fg:Person", "type_strict": "should"}
    batch["q6"] |= {"type": "fg:Person", "type_strict": "should"}
    batch["q7"] |= {"type": ["fg:Institution", "fg:Person"], "limit": 1}
    body = post_queries(rest, batch)
    first = {key: (result["result"] or [None])[0] for key, result in body.items()}
    assert first["q0"]["id"] == first["q1"]["id"] == "russian-state-fund" and first["q0"]["match"] is True
    assert first["q2"]["id"] == "sergei-tolstikov" and first["q2"]["match"] is True
    assert {"id": "fg:Person", "name": "person"} in first["q2"]["type"]
    assert first["q3"]["id"] == "sergei-tolstikov" and first["q3"]["match"] is False and first["q3"]["score"] < 100
    assert body["q4"]["result"] == []
    assert all(c["id"] != "russian-state-fund" for c in body["q6"]["result"])  # type is a filter
    assert len(body["q7"]["result"]) == 1
    q159 = any_store.query(SKOS + "SELECT ?e WHERE { ?e skos:exactMatch <http://www.wikidata.org/entity/Q159> }").rows
    assert [c["id"] for c in body["q5"]["result"][:1]] == [row["e"].value.rsplit("/", 1)[1] for row in q159][:1]


def test_property_constraints_filter_by_a_reconciled_id_or_by_name(rest, any_store):
    """As OpenRefine sends a column: `v` a string (typos allowed) or a reconciled cell {"id", "name"}."""
    [row] = any_store.query(SKOS + "SELECT ?state WHERE { <https://w3id.org/filmgraph/id/russian-state-fund> "
                                   "fg:associatedWithState ?state }").rows
    state = row["state"].value.rsplit("/", 1)[1]
    fund = label_of(any_store, "russian-state-fund")
    other = next(s for s in ("italy", "france", "germany", "spain") if s != state)
    batch = {
        "q0": {"query": fund, "properties": [{"pid": "fg:associatedWithState", "v": {"id": state, "name": "x"}}]},
        "q1": {"query": fund, "properties": [{"pid": "fg:associatedWithState", "v": label_of(any_store, state)[:-1]}]},
        "q2": {"query": fund, "properties": [{"pid": "fg:associatedWithState", "v": {"id": other, "name": other}}]},
        "q3": {"properties": [{"pid": "state", "v": [state]}]},
    }
    body = post_queries(rest, batch)
    assert body["q0"]["result"][0]["id"] == body["q1"]["result"][0]["id"] == "russian-state-fund"
    assert all(c["id"] != "russian-state-fund" for c in body["q2"]["result"])
    assert "russian-state-fund" in [c["id"] for c in rest.post("/reconcile", data={"queries": json.dumps(
        {"q": {**batch["q3"], "limit": 100}})}).json()["q"]["result"]]


def _film_offices(tmp_path: Path) -> EmbeddedStore:
    """A store written for this test: two entities named "Film Office", one "Film Board"."""
    data = tmp_path / "offices.ttl"
    data.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix fgid: <https://w3id.org/filmgraph/id/> .\n"
        'fgid:office-a skos:prefLabel "Film Office"@en . fgid:office-b skos:prefLabel "Film Office"@en .\n'
        'fgid:film-board skos:prefLabel "Film Board"@en ; skos:altLabel "the Board"@en .\n'
    )
    store = EmbeddedStore(tmp_path / "store")
    store.load_file(data, "https://w3id.org/filmgraph/graph/source/test")
    return store


def test_match_only_for_an_unambiguous_exact_name_or_identifier(tmp_path):
    store = _film_offices(tmp_path)
    try:
        with TestClient(create_app(Settings(store=tmp_path / "store"), store)) as client:
            body = post_queries(client, {"q0": {"query": "Film Office"}, "q1": {"query": "film board"},
                                         "q2": {"query": "board"}, "q3": {"query": "office-b"}})
        assert [c["match"] for c in body["q0"]["result"]] == [False, False]  # two namesakes: no decision
        assert body["q1"]["result"][0]["match"] is True and body["q1"]["result"][0]["score"] == 100
        assert body["q2"]["result"][0]["match"] is False  # a word of the name, not the name
        assert body["q3"]["result"][0] == {**body["q3"]["result"][0], "id": "office-b", "match": True}
    finally:
        store.close()


def test_suggest_as_the_jquery_suggest_widget_asks(rest):
    callback = "jQuery3600_1"
    entity = jsonp(rest.get("/reconcile/suggest/entity", params={"prefix": "tolst", "callback": callback,
                                                                   "spell": "always", "exact": "false"}).text, callback)
    valid("suggestResponse", entity)
    assert entity["result"][0]["id"] == "sergei-tolstikov" and entity["result"][0]["description"]
    types = rest.get("/reconcile/suggest/type", params={"prefix": "sta"}).json()
    valid("suggestResponse", types)
    assert "fg:State" in [t["id"] for t in types["result"]]
    properties = rest.get("/reconcile/suggest/property", params={"prefix": "head"}).json()
    valid("suggestResponse", properties)
    assert {"org:headOf", "fg:hasHead"} <= {p["id"] for p in properties["result"]}
    page = rest.get("/reconcile/suggest/entity", params={"prefix": "r", "cursor": 10}).json()["result"]
    assert page and page[0]["id"] not in {e["id"] for e in rest.get(
        "/reconcile/suggest/entity", params={"prefix": "r"}).json()["result"]}


class _Assets(HTMLParser):
    """Every element that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag in {"script", "img", "iframe", "link", "object", "embed", "video", "audio"} or "src" in names:
            self.fetches.append(tag)


def test_the_preview_is_a_self_contained_html_card(rest, any_store):
    response = rest.get("/reconcile/preview", params={"id": "russian-state-fund"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(response.text)
    assert parser.fetches == [] and "url(" not in response.text
    assert label_of(any_store, "russian-state-fund") in response.text
    [head] = any_store.query(SKOS + "SELECT ?h WHERE { <https://w3id.org/filmgraph/id/russian-state-fund> fg:hasHead ?h }").rows
    assert label_of(any_store, head["h"].value.rsplit("/", 1)[1]) in response.text
    assert rest.get("/reconcile/preview", params={"id": "no-such-entity"}).status_code == 404


def test_data_extension_with_its_property_proposals(rest, any_store):
    rows = any_store.query(SKOS + "SELECT ?a ?p WHERE { ?a a fg:Agreement ; fg:party ?p }").rows
    parties: dict[str, set[str]] = {}
    for row in rows:
        parties.setdefault(row["a"].value.rsplit("/", 1)[1], set()).add(row["p"].value.rsplit("/", 1)[1])
    proposed = rest.get("/reconcile/propose_properties", params={"type": "fg:Agreement", "limit": 3}).json()
    valid("proposeResponse", proposed)
    assert proposed["type"] == "fg:Agreement" and "fg:party" in [p["id"] for p in proposed["properties"]]
    query = {"ids": [*sorted(parties), "russian-state-fund", "no-such-entity"],
             "properties": [{"id": "fg:party"}, {"id": "fg:associatedWithState"}, {"id": "org:headOf"}]}
    valid("extensionQuery", query)
    body = rest.post("/reconcile", data={"extend": json.dumps(query)}).json()
    valid("extensionResponse", body)
    assert [m["id"] for m in body["meta"]] == ["fg:party", "fg:associatedWithState", "org:headOf"]
    for agreement, expected in parties.items():
        assert {value["id"] for value in body["rows"][agreement]["fg:party"]} == expected
    assert body["rows"]["russian-state-fund"]["fg:associatedWithState"]
    assert body["rows"]["no-such-entity"] == {"fg:party": [], "fg:associatedWithState": [], "org:headOf": []}
    assert rest.get("/reconcile", params={"extend": json.dumps(query)}).json() == body


BAD = [
    ({"data": {"queries": "{not json"}}, 400),
    ({"data": {"queries": "[]"}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"query": "x", "limit": 0}})}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"query": ""}})}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"type": "fg:State"}})}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"query": "x", "properties": [{"pid": "fg:nope", "v": "x"}]}})}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"query": "x", "sort": "name"}})}}, 422),
    ({"data": {"queries": json.dumps({"q0": {"query": "x" * 201}})}}, 422),
    ({"data": {"queries": json.dumps({f"q{i}": {"query": "x"} for i in range(51)})}}, 413),
    ({"data": {"extend": json.dumps({"ids": "russia", "properties": []})}}, 422),
    ({"data": {"extend": json.dumps({"ids": ["russia"], "properties": [{"id": "fg:nope"}]})}}, 422),
    ({"data": {"other": "1"}}, 400),
    ({"content": "queries={}", "headers": {"Content-Type": "application/json"}}, 415),
]


@pytest.mark.parametrize(("request_args", "status"), BAD)
def test_bad_input_is_a_4xx_problem(rest, request_args, status):
    response = rest.post("/reconcile", **request_args)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/reconcile?callback=alert(document.cookie)", "/reconcile/suggest/entity?cursor=-1",
                                  "/reconcile/propose_properties?type=no%20iri%3A%20x", "/reconcile/preview"])
def test_bad_get_parameters_are_a_4xx_problem(rest, path):
    response = rest.get(path)
    assert 400 <= response.status_code < 500 and response.headers["content-type"] == "application/problem+json"


def test_over_real_http_as_openrefine_java_posts_it(live_server):
    """The manifest and a batch over a real socket, the body form-encoded by hand as OpenRefine's Java does."""
    with urllib.request.urlopen(f"{live_server}/reconcile", timeout=10) as response:
        valid("manifest", json.load(response))
    body = "queries=" + urllib.parse.quote(json.dumps({"q0": {"query": "Russia", "type": "fg:State",
                                                               "type_strict": "should"}}))
    request = urllib.request.Request(f"{live_server}/reconcile", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10) as response:
        result = json.load(response)
    valid("resultBatch", result)
    assert result["q0"]["result"][0]["id"] == "russia" and result["q0"]["result"][0]["match"] is True

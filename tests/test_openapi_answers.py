"""The OpenAPI document declares every status and media type the service answers (issue 13: 400/415 and the
problem+json, HTML, Turtle and JSON-LD answers were missing). Real requests, good and bad, against the real app:
each answer's status and media type must be listed for the operation that gave it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from service_support import TOKEN

from api_support import SOURCE_ID

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.store import Store

SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"
BAD_ACCEPT = {"Accept": "image/png"}
TURTLE = {"Content-Type": "text/turtle"}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _accept(media_type: str) -> dict[str, str]:
    return {"Accept": media_type}


READS: list[tuple[str, str, dict]] = [
    ("GET", "/sparql?query=ASK{}", {}),
    *[("GET", f"/sparql?query={SELECT}", {"headers": _accept(m)}) for m in
      ("application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values")],
    *[("GET", f"/sparql?query={CONSTRUCT}", {"headers": _accept(m)}) for m in
      ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml")],
    ("GET", "/sparql", {"headers": _accept("text/html")}),
    ("GET", "/sparql", {"headers": _accept("text/turtle")}),
    ("GET", "/sparql?query=SELEC", {}),
    ("GET", "/sparql?query=ASK{}", {"headers": BAD_ACCEPT}),
    ("GET", "/sparql?query=ASK{}&format=bogus", {}),
    ("POST", "/sparql", {"data": {"query": "ASK{}" + " " * 100_001}}),
    ("POST", "/sparql", {"data": {"query": "ASK{}"}}),
    ("POST", "/sparql", {"content": "ASK{}", "headers": {"Content-Type": "application/sparql-query"}}),
    ("POST", "/sparql", {"content": "ASK{}", "headers": {"Content-Type": "text/plain"}}),
    ("POST", "/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
    ("POST", "/sparql", {"data": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }"}}),
    ("GET", "/api/entities?q=russia", {}),
    ("GET", "/api/entities?limit=0", {}),
    ("GET", "/api/entities/russia", {}),
    ("GET", "/api/entities/no-such-entity", {}),
    ("GET", "/api/entities/russia/relations", {}),
    ("GET", "/api/entities/russia/relations?status=Hopped", {}),
    ("GET", "/api/paths?from=russia&to=italy", {}),
    ("GET", "/reconcile", {}),
    ("GET", "/reconcile?callback=cb", {}),
    ("GET", "/reconcile?callback=alert(1)", {}),
    ("GET", '/reconcile?queries={"q0":{"query":"russia"}}', {}),
    ("POST", "/reconcile", {"data": {"queries": '{"q0":{"query":"russia"}}'}}),
    ("POST", "/reconcile", {"data": {"queries": "{"}}),
    ("POST", "/reconcile", {"data": {"queries": '{"q0":{"limit":0}}'}}),
    ("POST", "/reconcile", {"data": {"extend": '{"ids":["russia"],"properties":[{"id":"fg:party"}]}'}}),
    ("POST", "/reconcile", {"content": "{}", "headers": {"Content-Type": "application/json"}}),
    ("GET", "/reconcile/suggest/entity?prefix=rus&callback=cb", {}),
    ("GET", "/reconcile/suggest/type?prefix=sta", {}),
    ("GET", "/reconcile/suggest/property?prefix=hea", {}),
    ("GET", "/reconcile/propose_properties?type=fg:Agreement", {}),
    ("GET", "/reconcile/preview?id=russia", {}),
    ("GET", "/reconcile/preview?id=no-such-entity", {}),
    ("GET", "/api/paths?from=russia", {}),
    *[("GET", "/id/russia", {"headers": _accept(m)}) for m in
      ("text/html", "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml")],
    ("GET", "/id/russia", {"headers": BAD_ACCEPT}),
    *[("GET", "/ontology", {"headers": _accept(m)}) for m in ("text/html", "text/turtle", "application/rdf+xml")],
    ("GET", "/ontology", {"headers": BAD_ACCEPT}),
    ("GET", "/ontology.jsonld", {}),
    ("GET", "/ontology.png", {}),
    ("GET", "/id/no-such-entity", {}),
    ("GET", "/api/agreements", {}),
    ("GET", "/api/agreements?from=2011-01-01&to=2010-01-01", {}),
    ("GET", "/api/timeline", {}),
    ("GET", "/api/sources", {}),
    ("GET", f"/api/sources/{SOURCE_ID}", {}),
    ("GET", "/api/sources/no-such-source", {}),
    ("GET", "/api/queries", {}),
    *[("GET", "/api/queries/agreements", {"headers": _accept(m)}) for m in
      ("text/csv", "text/tab-separated-values", "application/json", "application/sparql-results+json",
       "application/sparql-results+xml")],
    ("GET", "/api/queries/agreements?format=bogus", {}),
    ("GET", "/api/queries/agreements", {"headers": BAD_ACCEPT}),
    *[("GET", f"/export?format={name}", {}) for name in ("turtle", "nquads", "jsonld")],
    ("GET", "/export?format=bogus", {}),
    ("GET", "/export", {"headers": BAD_ACCEPT}),
    ("GET", "/.well-known/void", {}),
    ("GET", "/.well-known/void", {"headers": _accept("application/ld+json")}),
    ("GET", "/.well-known/void", {"headers": _accept("text/csv")}),
    ("GET", "/context.jsonld", {}),
    ("GET", "/healthz", {}),
    ("GET", "/readyz", {}),
    ("GET", "/", {"headers": _accept("text/html")}),
    ("GET", "/", {"headers": _accept("application/json")}),
    ("GET", "/", {"headers": BAD_ACCEPT}),
    ("GET", "/graph-store?default", {}),
    ("GET", "/graph-store?graph=urn:no-such-graph", {}),
    ("GET", "/graph-store?default&graph=urn:x", {}),
    ("GET", "/graph-store?default", {"headers": BAD_ACCEPT}),
    ("PUT", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b> <urn:c> .", "headers": TURTLE}),
]
WRITES: list[tuple[str, str, dict]] = [
    ("PUT", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b> <urn:c> .", "headers": {**TURTLE, **AUTH}}),
    ("PUT", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b> <urn:d> .", "headers": {**TURTLE, **AUTH}}),
    ("POST", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b> <urn:e> .", "headers": {**TURTLE, **AUTH}}),
    ("POST", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b>", "headers": {**TURTLE, **AUTH}}),
    ("POST", "/graph-store?graph=urn:x", {"content": "x", "headers": {"Content-Type": "image/png", **AUTH}}),
    ("PUT", "/graph-store?graph=urn:x", {"content": "<urn:a> <urn:b> <urn:c> .",
                                         "headers": {**TURTLE, "Authorization": "Bearer wrong"}}),
    ("DELETE", "/graph-store?graph=urn:x", {"headers": AUTH}),
    ("DELETE", "/graph-store?graph=urn:x", {"headers": AUTH}),
    ("POST", "/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, "headers": AUTH}),
    ("POST", "/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> "}, "headers": AUTH}),
    ("POST", "/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
]


def _operation(spec: dict, method: str, path: str) -> dict:
    """The spec's operation for a request path (a literal path first, then templates such as /api/entities/{id})."""
    path = path.partition("?")[0]
    candidates = sorted(spec["paths"], key=lambda template: "{" in template)
    for template in candidates:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in spec["paths"][template]:
            return spec["paths"][template][method.lower()]
    raise AssertionError(f"no operation for {method} {path} in the spec")


def _undeclared(spec: dict, method: str, path: str, response) -> str | None:
    declared = _operation(spec, method, path)["responses"]
    status = str(response.status_code)
    if status not in declared:
        return f"{method} {path[:80]}: status {status} not declared (declared: {sorted(declared)})"
    media_type = response.headers.get("content-type", "").partition(";")[0].strip()
    content = declared[status].get("content", {})
    if response.content and media_type not in content:
        return f"{method} {path[:80]}: {status} {media_type} not declared (declared: {sorted(content)})"
    return None


@pytest.fixture(scope="module")
def reader(built_store: Store) -> Iterator[TestClient]:
    """The real app over the real build, read-only (no token: updates are 403)."""
    with TestClient(create_app(Settings(), built_store)) as client:
        yield client


def test_the_spec_is_valid_and_declares_problem_details(reader: TestClient) -> None:
    spec = reader.get("/openapi.json").json()
    validate(spec)
    card = spec["paths"]["/api/entities/{id}"]["get"]["responses"]
    assert set(card["404"]["content"]) == {"application/problem+json"}
    assert "304" in card and "503" in card
    upload = spec["paths"]["/graph-store"]["put"]["responses"]
    assert {"400", "401", "413", "415", "507"} <= set(upload)


def test_every_answer_of_a_reader_is_declared(reader: TestClient) -> None:
    spec = reader.get("/openapi.json").json()
    answers = [(method, path, reader.request(method, path, **kwargs)) for method, path, kwargs in READS]
    statuses = {response.status_code for _, _, response in answers}
    assert {200, 400, 403, 404, 406, 413, 415, 422} <= statuses  # the sample reaches the error answers
    assert [problem for m, p, r in answers if (problem := _undeclared(spec, m, p, r))] == []


def test_a_conditional_get_answer_is_declared(reader: TestClient) -> None:
    spec = reader.get("/openapi.json").json()
    first = reader.get("/api/entities/russia")
    again = reader.get("/api/entities/russia", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert _undeclared(spec, "GET", "/api/entities/russia", again) is None


def test_every_answer_of_a_writer_is_declared(writable_service) -> None:
    client, _ = writable_service
    spec = client.get("/openapi.json").json()
    answers = [(method, path, client.request(method, path, **kwargs)) for method, path, kwargs in WRITES]
    assert {201, 204, 400, 401, 404, 415} <= {response.status_code for _, _, response in answers}
    assert [problem for m, p, r in answers if (problem := _undeclared(spec, m, p, r))] == []

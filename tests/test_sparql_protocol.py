"""The SPARQL 1.1 Protocol at /sparql of a live `filmgraph serve`: the three query encodings, every result format
(parsed back by a second library), datasets, the Service Description, and clear 4xx codes for bad requests."""

from __future__ import annotations

import io

import httpx
import pytest
import rdflib
from rdflib.query import Result
from pyoxigraph import QueryResultsFormat, parse_query_results

FUND = "https://w3id.org/filmgraph/id/russian-state-fund"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
LABEL_QUERY = f"SELECT ?label WHERE {{ <{FUND}> <{PREF_LABEL}> ?label }}"
CONSTRUCT_QUERY = f"CONSTRUCT {{ <{FUND}> <{PREF_LABEL}> ?label }} WHERE {{ <{FUND}> <{PREF_LABEL}> ?label }}"
INFERRED = "https://w3id.org/filmgraph/graph/inferred"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.fixture(scope="module")
def http(live_server) -> httpx.Client:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


def labels(body: bytes, rdflib_format: str) -> set[str]:
    """Parsed by rdflib: a second implementation checks what pyoxigraph wrote."""
    return {str(row["label"]) for row in Result.parse(io.BytesIO(body), format=rdflib_format)}


@pytest.mark.parametrize(
    ("accept", "results_format"),
    [
        ("application/sparql-results+json", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
    ],
)
def test_select_in_every_results_format(http, accept, results_format):
    response = http.get("/sparql", params={"query": LABEL_QUERY}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    assert "Russian State Fund" in labels(response.content, results_format)


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_in_every_rdf_format(http, accept, rdflib_format):
    response = http.get("/sparql", params={"query": CONSTRUCT_QUERY}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    graph = rdflib.Dataset() if rdflib_format in ("trig", "nquads") else rdflib.Graph()
    graph.parse(data=response.content, format=rdflib_format)
    objects = {str(o) for _, _, o in graph.triples((rdflib.URIRef(FUND), rdflib.URIRef(PREF_LABEL), None))}
    assert "Russian State Fund" in objects


def test_the_three_query_encodings_agree(http):
    accept = {"Accept": "text/csv"}
    by_get = http.get("/sparql", params={"query": LABEL_QUERY}, headers=accept)
    by_form = http.post("/sparql", data={"query": LABEL_QUERY}, headers=accept)
    direct = http.post(
        "/sparql", content=LABEL_QUERY, headers={**accept, "Content-Type": "application/sparql-query"}
    )
    assert by_get.status_code == by_form.status_code == direct.status_code == 200
    assert by_get.content == by_form.content == direct.content
    assert "Russian State Fund" in by_get.text


def test_ask_and_the_format_parameter(http):
    response = http.get("/sparql", params={"query": f"ASK {{ <{FUND}> ?p ?o }}", "format": "xml"})
    assert response.headers["content-type"].startswith("application/sparql-results+xml")
    assert parse_query_results(response.content, format=QueryResultsFormat.XML)


def test_default_graph_is_the_union_and_a_dataset_narrows_it(http):
    pick = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }} LIMIT 1"
    row = http.get("/sparql", params={"query": pick}, headers={"Accept": "application/sparql-results+json"})
    inferred = {k: v["value"] for k, v in row.json()["results"]["bindings"][0].items()}
    query = f"ASK {{ <{inferred['s']}> <{inferred['p']}> <{inferred['o']}> }}"  # a triple only the inferred graph holds
    union = http.get("/sparql", params={"query": query}).json()
    only_inferred = http.get("/sparql", params={"query": query, "default-graph-uri": INFERRED}).json()
    only_ontology = http.get(
        "/sparql", params={"query": query, "default-graph-uri": "https://w3id.org/filmgraph/graph/ontology"}
    ).json()
    assert (union["boolean"], only_inferred["boolean"], only_ontology["boolean"]) == (True, True, False)


def test_named_graph_uri_limits_graph_patterns(http):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = http.get("/sparql", params={"query": query, "named-graph-uri": INFERRED})
    graphs = {row["g"]["value"] for row in response.json()["results"]["bindings"]}
    assert graphs == {INFERRED}


def test_service_description_as_turtle(http, live_server):
    response = http.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    service = next(graph.subjects(rdflib.RDF.type, SD.Service))
    assert (service, SD.endpoint, rdflib.URIRef(f"{live_server}/sparql")) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert (service, SD.resultFormat, rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) in graph  # the live server has a token
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert INFERRED in names


def test_service_description_as_html_for_a_browser(http):
    response = http.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<form" in response.text and "sd:UnionDefaultGraph" in response.text


def test_malformed_query_is_400_with_the_parsers_message(http):
    response = http.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "error at 1:" in response.json()["detail"]


@pytest.mark.parametrize(
    ("request_args", "status"),
    [
        ({"method": "PUT", "url": "/sparql", "content": "x"}, 405),
        ({"method": "DELETE", "url": "/sparql"}, 405),
        ({"method": "GET", "url": "/sparql", "params": {"query": LABEL_QUERY}, "headers": {"Accept": "image/png"}}, 406),
        # text/plain is offered for graphs (N-Triples); solutions are not sent as CSV under that name
        ({"method": "GET", "url": "/sparql", "params": {"query": LABEL_QUERY}, "headers": {"Accept": "text/plain"}}, 406),
        ({"method": "GET", "url": "/sparql", "headers": {"Accept": "text/csv"}}, 406),  # a description is RDF
        ({"method": "POST", "url": "/sparql", "content": LABEL_QUERY, "headers": {"Content-Type": "text/plain"}}, 415),
        ({"method": "POST", "url": "/sparql", "content": LABEL_QUERY}, 415),
        ({"method": "GET", "url": "/sparql", "params": {"update": "CLEAR ALL"}}, 400),
        ({"method": "GET", "url": "/sparql", "params": {"query": LABEL_QUERY, "default-graph-uri": "not an iri"}}, 400),
        ({"method": "GET", "url": "/sparql", "params": [("query", LABEL_QUERY), ("query", LABEL_QUERY)]}, 400),
        ({"method": "GET", "url": "/sparql", "params": {"query": LABEL_QUERY, "format": "excel"}}, 400),
        ({"method": "POST", "url": "/sparql", "data": {"query": LABEL_QUERY, "update": "CLEAR ALL"}}, 400),
        ({"method": "POST", "url": "/sparql", "content": b"\xff\xfe", "headers": {"Content-Type": "application/sparql-query"}}, 400),
        ({"method": "POST", "url": "/sparql", "data": {"query": "SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_001}}, 413),
        ({"method": "POST", "url": "/sparql", "content": "#" * 500_000, "headers": {"Content-Type": "application/sparql-query"}}, 413),
    ],
)
def test_bad_requests_get_clear_status_codes_never_500(http, request_args, status):
    response = http.request(**request_args)
    assert response.status_code == status, response.text


def test_a_query_that_fails_at_evaluation_is_not_a_500(http):
    response = http.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"})
    assert 400 <= response.status_code < 500, response.text


def test_cors_lets_a_configured_browser_origin_query(embedded_store):
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from filmgraph.api import create_app  # noqa: PLC0415
    from filmgraph.settings import Settings  # noqa: PLC0415

    settings = Settings(store=embedded_store.path, cors_origins=["https://yasgui.example"])
    client = TestClient(create_app(settings, embedded_store))
    preflight = client.options(
        "/sparql",
        headers={"Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://yasgui.example"
    answer = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"})
    assert answer.headers["access-control-allow-origin"] == "https://yasgui.example"
    other = client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers


def test_describe_an_entity(http):
    response = http.get("/sparql", params={"query": f"DESCRIBE <{FUND}>"}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert f"<{FUND}> <{PREF_LABEL}> " in response.text


def test_a_wrong_method_is_a_problem_with_allow(http):
    response = http.put("/sparql", content="x")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]


def test_service_can_be_switched_off(embedded_store):
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from filmgraph.api import create_app  # noqa: PLC0415
    from filmgraph.sparql_text import may_contain_keyword  # noqa: PLC0415
    from filmgraph.settings import Settings  # noqa: PLC0415

    client = TestClient(create_app(Settings(store=embedded_store.path, allow_service=False), embedded_store))
    federated = "SELECT * WHERE { SERVICE <http://169.254.169.254/latest/meta-data> { ?s ?p ?o } }"
    refused = client.get("/sparql", params={"query": federated})
    assert refused.status_code == 403 and "SERVICE" in refused.json()["detail"]
    innocent = client.get("/sparql", params={"query": 'ASK { ?s ?p "customer service" }'})
    assert innocent.status_code == 200
    description = client.get("/sparql", headers={"Accept": "text/turtle"}).text
    assert "BasicFederatedQuery" not in description
    assert may_contain_keyword("select * { { ?s ?p ?o } union { service silent <http://x/> { ?s ?p ?o } } }", "service")
    assert not may_contain_keyword("SELECT ?service WHERE { ?service ?p ?o }", "service")


def test_text_plain_gets_a_graph_as_n_triples(http):
    response = http.get("/sparql", params={"query": CONSTRUCT_QUERY}, headers={"Accept": "text/plain"})
    assert response.status_code == 200, response.text
    graph = rdflib.Graph().parse(data=response.text, format="nt")
    assert "Russian State Fund" in {str(label) for label in graph.objects()}


def test_a_wrong_method_names_every_allowed_one(http):
    response = http.put("/sparql", content="x")
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}

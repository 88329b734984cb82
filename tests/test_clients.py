"""Real clients against a live `filmgraph serve`: SPARQLWrapper, rdflib's SPARQLStore and SPARQLUpdateStore (writes
with HTTP Basic), and a federated SERVICE query from a real Oxigraph server into our endpoint."""

from __future__ import annotations

from urllib.error import HTTPError

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import Unauthorized
from service_support import TOKEN

FUND = "https://w3id.org/filmgraph/id/russian-state-fund"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")


def test_sparqlwrapper_select_json_and_csv(live_server):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setQuery(f"SELECT ?label WHERE {{ <{FUND}> <{PREF_LABEL}> ?label }}")
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [row["label"]["value"] for row in rows] == ["Russian State Fund"]
    client.setReturnFormat(CSV)
    assert client.query().convert().decode().splitlines() == ["label", "Russian State Fund"]


def test_sparqlwrapper_construct_over_post(live_server):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setMethod("POST")
    client.setQuery(f"CONSTRUCT {{ <{FUND}> ?p ?o }} WHERE {{ <{FUND}> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert (rdflib.URIRef(FUND), SKOS.prefLabel, rdflib.Literal("Russian State Fund", lang="en")) in graph


def test_rdflib_sparqlstore_reads_the_graph(live_server):
    graph = rdflib.Graph(store=SPARQLStore(f"{live_server}/sparql", returnFormat="json"))
    labels = {str(o) for o in graph.objects(rdflib.URIRef(FUND), SKOS.prefLabel)}
    assert labels == {"Russian State Fund"}
    rows = list(graph.query(f"ASK {{ <{FUND}> ?p ?o }}"))
    assert rows == [True]


def test_oxigraph_federates_into_our_endpoint_with_service(oxigraph_server, live_server):
    query = f"""SELECT ?label WHERE {{
        SERVICE <{live_server}/sparql> {{ <{FUND}> <{PREF_LABEL}> ?label }}
    }}"""
    response = httpx.post(
        f"{oxigraph_server}/query",
        content=query,
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert [row["label"]["value"] for row in response.json()["results"]["bindings"]] == ["Russian State Fund"]


def test_a_service_clause_really_calls_out(oxigraph_server, live_server):
    """The same SERVICE query aimed at a path that is not an endpoint fails: the answer above came over HTTP."""
    query = f"SELECT * WHERE {{ SERVICE <{live_server}/not-sparql> {{ ?s ?p ?o }} }}"
    response = httpx.post(
        f"{oxigraph_server}/query", content=query, headers={"Content-Type": "application/sparql-query"}, timeout=30
    )
    # Oxigraph streams: the status is already 200 when the SERVICE call fails, so the error ends the body.
    assert f"404 Not Found returned by {live_server}/not-sparql" in response.text


SELECT_STATES = "SELECT ?s WHERE { ?s a <https://w3id.org/filmgraph/ontology#State> }"
CONSTRUCT_TYPES = "CONSTRUCT { ?s a ?t } WHERE { ?s a <https://w3id.org/filmgraph/ontology#State> . ?s a ?t }"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("return_format", "query"),
    [(name, SELECT_STATES) for name in ("json", "xml", "csv", "tsv")]
    + [(name, CONSTRUCT_TYPES) for name in ("turtle", "n3", "rdf+xml", "json-ld")],
)
def test_sparqlwrapper_every_return_format(live_server, method, return_format, query):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setMethod(method)
    client.setReturnFormat(return_format)
    client.setQuery(query)
    response = client.query()
    assert response.response.status == 200
    assert "https://w3id.org/filmgraph/id/russia" in response.response.read().decode()


# --- writes with HTTP Basic: the token as the password, any user name (issue 14 item 5) ------------------------
BASIC_GRAPH = "urn:test:basic-auth"


def _count_in(live_server: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    answer = httpx.get(f"{live_server}/sparql", params={"query": query}, headers={"Accept": "application/json"})
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def test_sparqlwrapper_writes_with_set_credentials(live_server):
    client = SPARQLWrapper(f"{live_server}/sparql")
    client.setMethod(POST)
    client.setQuery(f'INSERT DATA {{ GRAPH <{BASIC_GRAPH}> {{ <urn:a> <urn:p> "sparqlwrapper" }} }}')
    try:
        client.setCredentials("anyone", "not-the-token")
        with pytest.raises(Unauthorized):
            client.query()
        assert _count_in(live_server, BASIC_GRAPH) == 0
        client.setCredentials("anyone", TOKEN)
        client.query()
        assert _count_in(live_server, BASIC_GRAPH) == 1
    finally:
        httpx.delete(f"{live_server}/graph-store", params={"graph": BASIC_GRAPH}, auth=("x", TOKEN))
    assert _count_in(live_server, BASIC_GRAPH) == 0  # the Graph Store took Basic too (httpx's auth=)


def test_rdflib_sparql_update_store_writes_with_auth(live_server):
    store = SPARQLUpdateStore(f"{live_server}/sparql", f"{live_server}/sparql", auth=("curator", TOKEN))
    graph = rdflib.Graph(store, identifier=rdflib.URIRef(BASIC_GRAPH))
    try:
        graph.add((rdflib.URIRef("urn:a"), rdflib.URIRef("urn:p"), rdflib.Literal("rdflib")))
        assert _count_in(live_server, BASIC_GRAPH) == 1
        assert {str(o) for o in graph.objects(rdflib.URIRef("urn:a"), rdflib.URIRef("urn:p"))} == {"rdflib"}
    finally:
        store.update(f"DROP SILENT GRAPH <{BASIC_GRAPH}>")
    assert _count_in(live_server, BASIC_GRAPH) == 0
    refused = SPARQLUpdateStore(f"{live_server}/sparql", f"{live_server}/sparql", auth=("curator", "wrong"))
    with pytest.raises(HTTPError, match="401"):
        refused.update(f'INSERT DATA {{ GRAPH <{BASIC_GRAPH}> {{ <urn:a> <urn:p> "x" }} }}')
    assert _count_in(live_server, BASIC_GRAPH) == 0

"""The query dataset (issue 14 items 1 and 2): FILMGRAPH_UNION_DEFAULT_GRAPH chooses /sparql's query default graph,
the reserved IRIs urn:x-arq:DefaultGraph / urn:x-arq:UnionGraph work in FROM, default-graph-uri and GRAPH in both
modes, the union is an RDF merge (a triple in several graphs counts once) for every query form, and filmgraph's own
reads (REST, named queries, exports, VoID) answer the same in both modes. The workers' merged view:
serving/test_worker_merge.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import rdflib
from fastapi.testclient import TestClient

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore, Store, dataset

from dataset_support import COUNT, DATA, UNION_TRIPLES

DEFAULT, UNION = "urn:x-arq:DefaultGraph", "urn:x-arq:UnionGraph"
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")


@pytest.fixture(scope="module")
def duplicated() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    store.update(DATA)
    yield store
    store.close()


def client_for(store: Store, union: bool) -> TestClient:
    return TestClient(create_app(Settings(union_default_graph=union), store))


def count(client: TestClient, query: str = COUNT, **params: str) -> int:
    response = client.get("/sparql", params={"query": query, **params}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("union", [True, False])
def test_the_mode_chooses_the_query_default_graph_and_both_reserved_iris_work(duplicated, union):
    client = client_for(duplicated, union)
    assert count(client) == (UNION_TRIPLES if union else 2)
    for reserved, expected in ((DEFAULT, 2), (UNION, UNION_TRIPLES)):
        assert count(client, f"SELECT (COUNT(*) AS ?n) FROM <{reserved}> WHERE {{ ?s ?p ?o }}") == expected
        assert count(client, **{"default-graph-uri": reserved}) == expected
        # FROM through a prefixed name, and default-graph-uri beating the query's FROM
        prefixed = f"PREFIX arq: <urn:x-arq:> SELECT (COUNT(*) AS ?n) FROM arq:{reserved[10:]} {{ ?s ?p ?o }}"
        assert count(client, prefixed) == expected
    assert count(client, f"SELECT (COUNT(*) AS ?n) FROM <{DEFAULT}> {{ ?s ?p ?o }}", **{"default-graph-uri": UNION}) == UNION_TRIPLES
    # GRAPH <reserved> reads the graph the query's default graph is
    own = UNION if union else DEFAULT
    assert count(client, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{own}> {{ ?s ?p ?o }} }}") == count(client)
    other = DEFAULT if union else UNION
    assert count(client, f"SELECT (COUNT(*) AS ?n) FROM <{other}> {{ GRAPH <{other}> {{ ?s ?p ?o }} }}") == (2 if union else UNION_TRIPLES)
    refused = client.get("/sparql", params={"query": f"SELECT * {{ GRAPH <{other}> {{ ?s ?p ?o }} }}"})
    assert refused.status_code == 409 and f"FROM <{other}>" in refused.json()["detail"], refused.text
    # a named graph stays a named graph; the reserved names are not ones
    assert count(client, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:g1> { ?s ?p ?o } }") == 4
    named = client.get("/sparql", params={"query": COUNT, "named-graph-uri": UNION})
    assert named.status_code == 400 and "not a named one" in named.json()["detail"]
    assert count(client, "SELECT (COUNT(*) AS ?n) FROM NAMED <urn:g1> { ?s ?p ?o }") == 0  # empty default graph


@pytest.mark.parametrize("union", [True, False])
def test_the_service_description_says_the_mode_and_the_reserved_graphs(duplicated, union):
    response = client_for(duplicated, union).get("/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert ((None, SD.feature, SD.UnionDefaultGraph) in graph) is union
    names = {str(name) for name in graph.objects(None, SD.name)}
    assert {DEFAULT, UNION, "urn:g1", "urn:g2"} <= names


# --- the union is an RDF merge: one test per query form ------------------------------------------------------------
FORMS = {
    "SELECT": ("SELECT ?s WHERE { ?s <urn:p> \"1\" }", 1),
    "SELECT DISTINCT": ("SELECT DISTINCT ?o WHERE { ?s <urn:p> ?o }", 4),
    "COUNT": ('SELECT (COUNT(*) AS ?n) WHERE { <urn:a> ?p ?o }', 1),
    "SUM": ("SELECT (SUM(xsd:integer(?o)) AS ?n) WHERE { ?s <urn:p> ?o FILTER (?s != <urn:d>) }", 1 + 2 + 3 + 2),
    "GROUP BY": ("SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s <urn:p> ?o } GROUP BY ?o ORDER BY ?o LIMIT 1", 1),
    "sub-select": ("SELECT (COUNT(*) AS ?n) { { SELECT ?s ?o { ?s <urn:p> ?o } } }", 5),
    "OFFSET": ("SELECT ?s WHERE { ?s <urn:p> \"1\" } OFFSET 1", 0),
    "exists-graph-variable": (
        "SELECT ?s { ?s <urn:p> \"1\" FILTER EXISTS { GRAPH ?g { ?s <urn:p> \"1\" } } }", 1),
}  # fmt: skip


def _answer_size(client: TestClient, query: str) -> int:
    query = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> " + query
    rows = client.get("/sparql", params={"query": query}, headers={"Accept": "application/json"}).json()
    bindings = rows["results"]["bindings"]
    if len(bindings) == 1 and "n" in bindings[0]:
        return int(bindings[0]["n"]["value"])
    return len(bindings)


@pytest.mark.parametrize("form", FORMS)
def test_a_triple_in_several_graphs_is_one_triple_of_the_union(duplicated, form):
    query, expected = FORMS[form]
    assert _answer_size(client_for(duplicated, True), query) == expected


def test_ask_construct_and_describe_over_the_union_hold_each_triple_once(duplicated):
    client = client_for(duplicated, True)
    ask = client.get("/sparql", params={"query": 'ASK { <urn:a> <urn:p> "1" }'}, headers={"Accept": "application/json"})
    assert ask.json()["boolean"] is True
    for query in ("CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE <urn:a>", "CONSTRUCT { ?s ?p [] } WHERE { ?s ?p ?o }"):
        body = client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"}).text
        lines = [line for line in body.splitlines() if line.strip()]
        assert len(lines) == len(set(lines)) or "[]" in query, body  # no triple written twice
        if query.startswith("DESCRIBE"):
            assert lines == ['<urn:a> <urn:p> "1" .']
        if "[]" in query:  # one fresh blank node per solution: one per distinct triple, not per copy
            assert len(lines) == UNION_TRIPLES, body


def test_without_duplicates_the_store_is_never_merged(tmp_path):
    store = EmbeddedStore(None)
    store.update('INSERT DATA { GRAPH <urn:g1> { <urn:a> <urn:p> "1" } GRAPH <urn:g2> { <urn:b> <urn:p> "1" } }')
    assert store.query(COUNT).rows[0]["n"].value == "2"
    assert store._merged._view is None  # the ASK said no triple is in two graphs: the engine's union answered
    store.update('INSERT DATA { GRAPH <urn:g2> { <urn:a> <urn:p> "1" } }')  # now one is
    assert store.query(COUNT).rows[0]["n"].value == "2"
    assert store._merged._view is not None
    store.close()


def test_small_writes_carry_the_duplicate_answer_over_without_asking_the_store(monkeypatch):
    """After small ground writes the answer comes from what they wrote; the store is asked whole (an ASK over it,
    0.35 s at 100k quads) only after a write that cannot tell: a deletion while some triple is duplicated, or a
    write that is not a small INSERT/DELETE DATA."""
    asked = []
    whole = dataset.holds_duplicate_triples
    monkeypatch.setattr(dataset, "holds_duplicate_triples", lambda engine: asked.append(1) or whole(engine))
    store = EmbeddedStore(None)

    def counted(expected: int, asks: int, merged: bool) -> None:
        store._merged._view = None
        assert store.query(COUNT).rows[0]["n"].value == str(expected)
        assert (len(asked), store._merged._view is not None) == (asks, merged)

    store.update('INSERT DATA { GRAPH <urn:g1> { <urn:a> <urn:p> "1" } GRAPH <urn:g2> { <urn:b> <urn:p> "1" } }')
    counted(2, 1, False)  # the first question: the store whole
    store.update('INSERT DATA { GRAPH <urn:g3> { <urn:c> <urn:p> "1" } }')
    store.update('DELETE DATA { GRAPH <urn:g3> { <urn:c> <urn:p> "1" } }')
    counted(2, 1, False)
    store.update('INSERT DATA { <urn:a> <urn:p> "1" }')  # into the default graph: now in two graphs
    counted(2, 1, True)
    store.update('INSERT DATA { GRAPH <urn:g3> { <urn:d> <urn:p> "1" } }')  # insertions keep it duplicated
    counted(3, 1, True)
    store.update('DELETE DATA { <urn:a> <urn:p> "1" }')  # a deletion may have ended it: asked
    counted(3, 2, False)
    store.update('INSERT { GRAPH <urn:g4> { ?s ?p ?o } } WHERE { GRAPH <urn:g3> { ?s ?p ?o } }')  # not ground
    counted(3, 3, True)
    store.close()


def counting_whole_asks(monkeypatch) -> list[int]:
    asked: list[int] = []
    whole = dataset.holds_duplicate_triples
    monkeypatch.setattr(dataset, "holds_duplicate_triples", lambda engine: asked.append(1) or whole(engine))
    return asked


def small_write(n: int) -> str:
    return f'INSERT DATA {{ GRAPH <urn:w> {{ <urn:s{n}> <urn:p> "{n}" }} }}'


def test_a_quick_question_carries_the_answer_over_a_few_small_writes_and_leaves_the_rest_to_a_thread(monkeypatch):
    """The event loop's question (`quick`): answered when known or carried over at most MAX_QUICK_WRITES small
    writes (lookups, microseconds), never by the ASK over the store whole nor by waiting for the write lock."""
    asked = counting_whole_asks(monkeypatch)
    store = EmbeddedStore(None)
    store.update(small_write(0))
    assert store.merge_needed(COUNT, None, quick=True) is None and asked == [], "the first question: not quick"
    store.learn_duplicates()
    assert asked == [1] and store.merge_needed(COUNT, None, quick=True) is False
    store.update(small_write(1))
    assert store.merge_needed(COUNT, None, quick=True) is False, "carried over one small write"
    for n in range(dataset.MAX_QUICK_WRITES + 1):
        store.update(small_write(n + 2))
    assert store.merge_needed(COUNT, None, quick=True) is None, "too many lookups for the event loop"
    assert store.merge_needed(COUNT, None) is False and asked == [1], "carried over, off the loop"

    store.update(small_write(100))
    held, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:  # a write in a thread, as a large update's
        with store._write_lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    held.wait(5)
    try:
        assert store.merge_needed(COUNT, None, quick=True) is None, "a busy write lock: never waited for"
    finally:
        release.set()
        holder.join(5)
    store.update('INSERT { GRAPH <urn:x> { ?s ?p ?o } } WHERE { GRAPH <urn:w> { ?s ?p ?o } }')  # not ground
    assert store.merge_needed(COUNT, None, quick=True) is None and asked == [1], "the store whole: not quick"
    assert store.merge_needed(COUNT, None) is True and asked == [1, 1]
    store.close()


def test_the_answer_carries_over_more_than_a_thousand_small_writes(monkeypatch):
    """Until issue 14 the watch forgot the small writes after 1,000 of them and asked the store whole (0.35 s at
    100k quads): the write benchmark's 1,000 sequential writes made the first mixed read pay it. The bound is now
    the writes' text (a million characters, ~20 µs of lookups per 150)."""
    asked = counting_whole_asks(monkeypatch)
    store = EmbeddedStore(None)
    store.learn_duplicates()
    for n in range(1500):
        store.update(small_write(n))
    assert store.merge_needed(COUNT, None) is False and asked == [1]
    monkeypatch.setattr(dataset, "MAX_REMEMBERED_CHARACTERS", 10 * len(small_write(0)))
    for n in range(11):
        store.update(small_write(n))
    assert store.merge_needed(COUNT, None) is False and asked == [1, 1], "past the bound: the store whole"
    store.close()


# --- filmgraph's own reads do not depend on the mode -----------------------------------------------------------
@pytest.fixture(scope="module")
def both_modes(built_store: Store) -> Iterator[tuple[TestClient, TestClient]]:
    with client_for(built_store, True) as union, client_for(built_store, False) as own:
        yield union, own


@pytest.mark.parametrize(
    "path",
    [
        "/api/entities/russian-state-fund",
        "/api/agreements",
        "/api/timeline",
        "/api/queries/who-heads-what",
        "/export?format=nquads&subset=inferred",
        "/.well-known/void",
        "/id/russia.ttl",
    ],
)
def test_rest_named_queries_exports_and_void_answer_alike_in_both_modes(both_modes, path):
    union, own = (client.get(path) for client in both_modes)
    assert union.status_code == 200, union.text
    assert own.status_code == 200 and own.content == union.content

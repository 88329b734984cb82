"""One owner per graph: the build owns the ontology, shapes, source and inferred graphs; users own the rest.

A build keeps every user graph and the default graph; user writes into an owned graph are refused with 409 on
every write route (Graph Store PUT/POST/DELETE, SPARQL Update in all its forms, `filmgraph load --graph`), on both
backends, and change nothing."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad
from service_support import TOKEN
from typer.testing import CliRunner

from filmgraph.api import create_app
from filmgraph.build import build_store
from filmgraph.cli import app as cli
from filmgraph.ownership import is_owned, user_graphs
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore
from filmgraph.update_targets import written_graphs
from filmgraph.vocab import GRAPH, INFERRED_GRAPH, LOADED_GRAPH_PREFIX, ONTOLOGY_GRAPH, SHAPES_GRAPH, source_graph

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
SOURCE = source_graph("article")  # the sample's source graph (tests/data/sparql-sample.trig)
USER = "urn:test:my-notes"
NOTE = Quad(NamedNode("urn:test:film"), NamedNode("urn:test:note"), Literal("seen twice"), NamedNode(USER))
ONE_PARTY = """
@prefix fg: <https://w3id.org/filmgraph/ontology#> . @prefix fgid: <https://w3id.org/filmgraph/id/> .
fgid:agreement-alone a fg:Agreement ; fg:party fgid:russia ; fg:epistemicStatus fg:Asserted .
"""


def test_the_rule():
    for graph in (ONTOLOGY_GRAPH, SHAPES_GRAPH, INFERRED_GRAPH, GRAPH + "reference", SOURCE):
        assert is_owned(graph), graph
    for graph in (None, USER, LOADED_GRAPH_PREFIX + "extra", GRAPH + "sourcex", GRAPH + "source"):
        assert not is_owned(graph), graph
    assert user_graphs([SOURCE, USER, INFERRED_GRAPH]) == [USER]


# --- the build keeps what users wrote ---------------------------------------------------------------------------


def test_a_build_keeps_user_graphs_and_the_default_graph(built_store_path: Path, tmp_path: Path):
    path = tmp_path / "store"
    shutil.copytree(built_store_path, path)
    store = EmbeddedStore(path)
    loaded = LOADED_GRAPH_PREFIX + "extra"
    store.add_to_graph(USER, [NOTE.triple])
    store.update(f"INSERT DATA {{ GRAPH <{loaded}> {{ <urn:a> <urn:b> 'loaded' }} <urn:d> <urn:e> 'default' }}")
    store.update("CREATE GRAPH <urn:test:empty>")
    store.add_to_graph(INFERRED_GRAPH, [NOTE.triple])  # written behind the API's back: the build recomputes it
    owned_before = {graph: store.count(graph) for graph in store.named_graphs() if is_owned(graph)}
    store.close()
    del store
    gc.collect()  # the last reference goes, and the store's lock with it

    report = build_store(path, Settings())

    store = EmbeddedStore(path)
    try:
        assert store.count(USER) == 1 and NOTE in set(store.quads(USER))
        assert store.count(loaded) == 1
        assert [q.object.value for q in store.quads() if isinstance(q.graph_name, DefaultGraph)] == ["default"]
        assert "urn:test:empty" in store.named_graphs()
        assert store.count(INFERRED_GRAPH) == owned_before[INFERRED_GRAPH] - 1
        assert report.kept == {"": 1, USER: 1, loaded: 1, "urn:test:empty": 0}
        assert "kept 4 user graph(s), 3 quads" in report.lines()
    finally:
        store.close()


# --- writes into owned graphs are refused -----------------------------------------------------------------------


def _refused(response, graph: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert f"<{graph}>" in detail and "the build owns" in detail


def _state(store: EmbeddedStore) -> tuple[int, int, list[str]]:
    return store.count(), store.generation, sorted(store.named_graphs())


@pytest.mark.parametrize("graph", [SOURCE, INFERRED_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH])
def test_graph_store_writes_into_owned_graphs_are_409(writable_service, graph):
    client, store = writable_service
    before = _state(store)
    for method in ("PUT", "POST"):
        _refused(client.request(method, "/graph-store", params={"graph": graph}, content=ONE_PARTY, headers=TURTLE), graph)
    _refused(client.delete("/graph-store", params={"graph": graph}, headers=AUTH), graph)
    assert _state(store) == before


def test_the_refusal_says_how_to_change_a_source(writable_service):
    client, _ = writable_service
    detail = client.put("/graph-store", params={"graph": SOURCE}, content=ONE_PARTY, headers=TURTLE).json()["detail"]
    assert "curation file" in detail and "filmgraph ingest" in detail and "POST /api/sources" in detail


def test_a_one_party_agreement_put_into_a_source_graph_never_reaches_the_agreements(writable_service):
    client, store = writable_service
    listed = client.get("/api/agreements").json()
    response = client.put("/graph-store", params={"graph": SOURCE}, content=ONE_PARTY, headers=TURTLE)
    _refused(response, SOURCE)
    assert client.get("/api/agreements").json() == listed
    assert "agreement-alone" not in client.get("/api/agreements").text


def test_graph_store_writes_into_user_graphs_still_work(writable_service):
    client, store = writable_service
    assert client.put("/graph-store", params={"graph": USER}, content=ONE_PARTY, headers=TURTLE).status_code == 201
    assert client.post("/graph-store", params={"default": ""}, content=ONE_PARTY, headers=TURTLE).status_code == 204
    assert client.delete("/graph-store", params={"graph": USER}, headers=AUTH).status_code == 204


REFUSED_UPDATES = [
    (f"INSERT DATA {{ GRAPH <{SOURCE}> {{ <urn:a> <urn:b> 'x' }} }}", SOURCE),
    (f"DELETE DATA {{ GRAPH <{INFERRED_GRAPH}> {{ <urn:a> <urn:b> 'x' }} }}", INFERRED_GRAPH),
    (f"DELETE WHERE {{ GRAPH <{SOURCE}> {{ ?s ?p ?o }} }}", SOURCE),
    (f"WITH <{SOURCE}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", SOURCE),
    (f"PREFIX g: <{GRAPH}> INSERT {{ GRAPH g:inferred {{ ?s a ?o }} }} WHERE {{ ?s a ?o }}", INFERRED_GRAPH),
    (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> 'x' }} }} ; DROP GRAPH <{ONTOLOGY_GRAPH}>", ONTOLOGY_GRAPH),
    (f"CLEAR GRAPH <{SOURCE}>", SOURCE),
    (f"DROP SILENT GRAPH <{SHAPES_GRAPH}>", SHAPES_GRAPH),
    (f"CREATE GRAPH <{source_graph('new')}>", source_graph("new")),
    (f"LOAD <http://127.0.0.1:1/x.ttl> INTO GRAPH <{INFERRED_GRAPH}>", INFERRED_GRAPH),
    (f"ADD <{USER}> TO <{SOURCE}>", SOURCE),
    (f"COPY DEFAULT TO <{INFERRED_GRAPH}>", INFERRED_GRAPH),
    (f"MOVE <{SOURCE}> TO <{USER}>", SOURCE),  # MOVE empties its source
    ("DROP ALL", INFERRED_GRAPH),
    ("CLEAR NAMED", INFERRED_GRAPH),
]


@pytest.mark.parametrize(("update", "graph"), REFUSED_UPDATES)
def test_updates_that_write_owned_graphs_are_409(writable_service, update, graph):
    client, store = writable_service
    before = _state(store)
    _refused(client.post("/sparql", data={"update": update}, headers=AUTH), graph)
    assert _state(store) == before


def test_a_variable_graph_in_a_template_is_409(writable_service):
    client, store = writable_service
    before = _state(store)
    update = f"INSERT {{ GRAPH ?g {{ <urn:a> <urn:b> 'x' }} }} WHERE {{ BIND(<{SOURCE}> AS ?g) }}"
    response = client.post("/sparql", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 409 and "GRAPH ?g" in response.json()["detail"]
    assert _state(store) == before


def test_updates_that_write_only_user_graphs_still_work(writable_service):
    client, store = writable_service
    for update in (
        f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> 'x' }} <urn:a> <urn:b> 'default' }}",
        f"COPY <{SOURCE}> TO <urn:test:copy>",  # reading an owned graph is fine
        f"INSERT {{ GRAPH <{USER}> {{ ?s a ?o }} }} WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s a ?o }} }}",
        f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o OPTIONAL {{ ?s ?q ?r OPTIONAL {{ ?r ?x ?y FILTER(((?y > 1))) }} }} }}",
        "MOVE <urn:test:copy> TO <urn:test:moved>",
        f"DROP GRAPH <{USER}>",
    ):
        response = client.post("/sparql", data={"update": update}, headers=AUTH)
        assert response.status_code == 204, (update, response.text)
    assert store.count("urn:test:moved") == store.count(SOURCE)


def test_a_write_without_the_token_is_still_401_not_409(writable_service):
    client, _ = writable_service
    update = f"DROP GRAPH <{SOURCE}>"
    assert client.post("/sparql", data={"update": update}).status_code == 401
    assert client.delete("/graph-store", params={"graph": SOURCE}).status_code == 401


def test_pathological_updates_are_read_in_one_cheap_pass(writable_service):
    client, store = writable_service
    before = _state(store)
    deep = f"INSERT {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }} WHERE " + "{" * 20000 + "?s ?p ?o" + "}" * 20000
    too_deep = client.post("/sparql", data={"update": deep}, headers=AUTH)  # the nesting limit comes first
    assert too_deep.status_code == 400 and "FILMGRAPH_MAX_QUERY_DEPTH" in too_deep.json()["detail"], too_deep.text
    assert written_graphs(deep).graphs == {INFERRED_GRAPH}  # the token pass itself reads it, without recursion
    for update in ("INSERT DATA { GRAPH <urn:g> { broken", "INSERT DATA { <urn:a> <urn:b> 'x' } }", "DROP GRAPH"):
        response = client.post("/sparql", data={"update": update}, headers=AUTH)
        assert response.status_code == 400 and "does not parse" in response.json()["detail"], response.text
    assert _state(store) == before
    big = " ".join(f"<urn:s{i}> <urn:p> 'value {i}' ." for i in range(3000))  # ~90,000 characters
    assert written_graphs(f"INSERT DATA {{ GRAPH <{SOURCE}> {{ {big} }} }}").graphs == {SOURCE}


@pytest.mark.parametrize(
    ("update", "graph"),
    [
        (f"PREFIX g: <{GRAPH}> INSERT DATA {{ GRAPH g:source\\/x {{ <urn:a> <urn:b> 'x' }} }}", source_graph("x")),
        (f"BASE <{GRAPH}> INSERT DATA {{ GRAPH <inferred> {{ <urn:a> <urn:b> 'x' }} }}", INFERRED_GRAPH),
        ("INSERT DATA { GRAPH <https://w3id.org/filmgraph/graph/\\u0069nferred> { <urn:a> <urn:b> 'x' } }", INFERRED_GRAPH),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> '}}' }} }} # }}\n; DROP GRAPH <{SHAPES_GRAPH}>", SHAPES_GRAPH),
        (f"insert data {{ graph <{SOURCE}> {{ <urn:a> <urn:b> 'x' }} }}", SOURCE),
    ],
    ids=["prefix-escape", "base", "uchar", "string-and-comment", "lower-case"],
)
def test_every_spelling_of_an_owned_graph_is_found(writable_service, update, graph):
    client, store = writable_service
    before = _state(store)
    _refused(client.post("/sparql", data={"update": update}, headers=AUTH), graph)
    assert _state(store) == before


# The fast path (sparql_text.ground_data_graphs) reads the common `INSERT DATA { GRAPH <g> { … } }` by regex; for
# anything else it declines (None) and the token reader answers. Where it answers, it must agree with the reader.
_O = INFERRED_GRAPH
@pytest.mark.parametrize(
    ("update", "fast"),
    [
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> '1'^^<urn:t> }} }}", {USER}),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> \"}} GRAPH <{_O}> {{\" }} }}", {USER}),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> 'x\\' }} GRAPH <{_O}> {{ \\'' }} }}", {USER}),
        (f'INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> """x" }} GRAPH <{_O}> {{ "y""" }} }}', None),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> <urn:c> }} # }} GRAPH <{_O}> {{\n }}", None),
        (f"INSERT DATA {{ # GRAPH <{_O}> {{\n <urn:a> <urn:b> <urn:c> }}", None),
        (f"PREFIX g: <{GRAPH}> INSERT DATA {{ GRAPH g:inferred {{ <urn:a> <urn:b> 'x' }} }}", None),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> a <urn:C> }} GRAPH <{_O}> {{ <urn:a> <urn:b> 1.5 }} "
         f"<urn:a> <urn:b> 'default'@en }}", {USER, _O, None}),
        (f"insert data {{ graph<{USER}>{{<urn:a><urn:b>true}} }} ; DELETE DATA {{ GRAPH <{_O}> {{ <urn:a> <urn:b> -2 }} }} ;",
         {USER, _O}),
        (f"INSERT DATA {{ GRAPH <urn:it's#x> {{ <urn:a> <urn:b> 'GRAPH' }} }}", {"urn:it's#x"}),
        (f"INSERT DATA {{ GRAPH <{GRAPH}\\u0069nferred> {{ <urn:a> <urn:b> 'x' }} }}", None),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> _:x }} }}", None),
        (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> <urn:c> }} }} ; DROP GRAPH <{_O}>", None),
    ],
    ids=["one-graph", "string-holding-GRAPH", "escaped-quotes", "long-string", "comment-after", "comment-inside",
         "prefixed-name", "several-graphs-and-default", "two-operations", "quote-and-hash-in-iri", "uchar-in-iri",
         "blank-node", "not-only-data"],
)
def test_the_fast_path_reads_the_common_ground_shape_as_the_token_reader_does(update, fast, monkeypatch):
    from filmgraph import update_targets
    from filmgraph.sparql_text import ground_data_graphs

    assert ground_data_graphs(update) == (None if fast is None else frozenset(fast))
    fast_answer = written_graphs(update).graphs
    monkeypatch.setattr(update_targets, "ground_data_graphs", lambda update: None)
    assert written_graphs(update).graphs == fast_answer, "the token reader reads it the same"


def test_an_owned_graph_among_several_graph_blocks_is_refused_on_the_fast_path(writable_service):
    client, store = writable_service
    before = _state(store)
    update = (f"INSERT DATA {{ GRAPH <{USER}> {{ <urn:a> <urn:b> 'GRAPH <{USER}> {{' }} "
              f"GRAPH <{INFERRED_GRAPH}> {{ <urn:a> <urn:b> 'x' }} }}")
    _refused(client.post("/sparql", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"}),
             INFERRED_GRAPH)
    assert _state(store) == before, "a rejected update leaves the store exactly as it was"


def test_the_remote_backend_applies_the_same_rule(remote_store):
    client = TestClient(create_app(Settings(backend="remote", token=TOKEN), remote_store))
    before = remote_store.count()
    _refused(client.put("/graph-store", params={"graph": INFERRED_GRAPH}, content=ONE_PARTY, headers=TURTLE), INFERRED_GRAPH)
    _refused(client.post("/sparql", data={"update": "DROP ALL"}, headers=AUTH), INFERRED_GRAPH)
    assert remote_store.count() == before


def test_filmgraph_load_refuses_an_owned_graph(tmp_path: Path):
    data = tmp_path / "extra.ttl"
    data.write_text("<urn:a> <urn:b> 'x' .\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", str(data), "--graph", INFERRED_GRAPH, "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "which the build owns" in result.output
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("suffix", ["trig", "nq"])
def test_filmgraph_load_refuses_a_dataset_file_that_names_an_owned_graph(tmp_path: Path, suffix: str):
    owned = source_graph("somebody-else")
    data = tmp_path / f"sneaky.{suffix}"
    if suffix == "trig":
        data.write_text(f"<urn:user:notes> {{ <urn:a> <urn:b> 'fine' }}\n<{owned}> {{ <urn:a> <urn:b> 'x' }}\n", "utf-8")
    else:
        data.write_text(f'<urn:a> <urn:b> "fine" <urn:user:notes> .\n<urn:a> <urn:b> "x" <{owned}> .\n', "utf-8")
    result = CliRunner().invoke(cli, ["load", str(data), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and f"<{owned}>" in result.output and "which the build owns" in result.output
    assert not (tmp_path / "s").exists()  # refused before the store is opened: nothing written

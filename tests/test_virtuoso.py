"""Virtuoso 7.2 behind the remote backend (issue 19): what filmgraph normalises (each pinned on the raw engine
and through filmgraph), what remains different (each pinned, and listed in the README), and the new user's path:
Virtuoso from the Debian package, `filmgraph push`, `filmgraph serve` on the remote backend, and the README's
examples answering as on the embedded store. Every test here has `virtuoso` in its name (`pytest -k virtuoso`)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from export_support import run_cli
from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from readme_support import comparable, readme_get_examples
from service_support import filmgraph_server

from filmgraph.errors import BadRequest, NotExecutable, QueryTimeout
from filmgraph.store.remote import RemoteStore

JSON = {"Accept": "application/sparql-results+json"}
XSD = "http://www.w3.org/2001/XMLSchema#"


def _raw(base: str, query: str, **params: str) -> httpx.Response:
    return httpx.post(f"{base}/sparql", data={"query": query, **params}, headers=JSON, timeout=30)


def _scratch_graph(store: RemoteStore, triples: list[Triple]) -> str:
    graph = f"urn:test:{uuid.uuid4()}"
    store.replace_graph(graph, triples)
    return graph


# --- normalised by filmgraph -------------------------------------------------------------------------------------
def test_virtuoso_blank_nodes_are_blank_nodes(virtuoso_server, virtuoso_remote_store):
    node = BlankNode()
    graph = _scratch_graph(virtuoso_remote_store, [Triple(NamedNode("urn:a"), NamedNode("urn:p"), node)])
    try:
        query = f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        raw = _raw(virtuoso_server, query).json()["results"]["bindings"][0]["o"]
        assert raw["type"] == "bnode" and raw["value"].startswith("nodeID://")  # not a valid blank-node label
        [row] = virtuoso_remote_store.query(query).rows
        assert isinstance(row["o"], BlankNode)
    finally:
        virtuoso_remote_store.drop_graph(graph)


def test_virtuoso_ask_is_a_boolean(virtuoso_server, virtuoso_remote_store):
    raw = _raw(virtuoso_server, "ASK { ?s ?p ?o }").json()
    assert "boolean" not in raw and raw["head"]["vars"] == ["__ASK_RETVAL"]
    assert virtuoso_remote_store.query("ASK { ?s ?p ?o }").boolean is True
    assert virtuoso_remote_store.query("ASK { <urn:nothing> ?p ?o }").boolean is False
    answer = virtuoso_remote_store.query_serialized("ASK { ?s ?p ?o }", "application/sparql-results+xml")
    assert b"<boolean>true</boolean>" in answer.body


def test_virtuoso_booleans_and_cast_expressions_are_booleans(virtuoso_server, virtuoso_remote_store):
    query = f"SELECT (<{XSD}boolean>(1 < 2) AS ?b) WHERE {{}}"
    assert _raw(virtuoso_server, query).json()["results"]["bindings"][0]["b"]["value"] == "1"
    assert virtuoso_remote_store.query(query).rows == [{"b": Literal(True)}]


def test_virtuoso_parameters_bind_in_every_union_branch(virtuoso_remote_store, embedded_store):
    """Virtuoso's trailing VALUES leaves UNION branches unbound; filmgraph binds at the head of the WHERE group."""
    query = "SELECT ?s WHERE { { ?s ?p ?o } UNION { ?o ?p ?s } } LIMIT 3"
    absent = {"s": NamedNode("urn:x:nobody")}
    assert virtuoso_remote_store.query(query, absent).rows == embedded_store.query(query, absent).rows == []
    ask = "ASK { ?s ?p ?o }"  # trailing VALUES after ASK is a syntax error to Virtuoso
    assert virtuoso_remote_store.query(ask, {"s": NamedNode("https://w3id.org/filmgraph/id/russia")}).boolean


def test_virtuoso_own_graphs_are_not_filmgraph_s(virtuoso_server, virtuoso_remote_store, embedded_store):
    listed = _raw(virtuoso_server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").json()["results"]["bindings"]
    assert any(row["g"]["value"].startswith("http://www.openlinksw.com/") for row in listed)
    assert virtuoso_remote_store.named_graphs() == embedded_store.named_graphs()
    assert virtuoso_remote_store.count() == embedded_store.count()


def test_virtuoso_partial_answers_at_its_time_limit_are_timeouts(virtuoso_server, virtuoso_remote_store):
    """An "anytime query": 200 with what was found so far and `X-SQL-State: S1TAT`; filmgraph refuses it."""
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    raw = _raw(virtuoso_server, heavy, timeout="300")
    assert raw.status_code == 200 and raw.headers["x-sql-state"] == "S1TAT", raw.text
    with pytest.raises(QueryTimeout):
        virtuoso_remote_store.query(heavy, timeout=0.3)


# --- differences that remain -------------------------------------------------------------------------------------
def test_virtuoso_answers_an_uncast_boolean_expression_as_an_integer(virtuoso_remote_store, embedded_store):
    query = "SELECT (EXISTS { ?s ?p ?o } AS ?b) WHERE {}"
    assert embedded_store.query(query).rows == [{"b": Literal(True)}]
    assert virtuoso_remote_store.query(query).rows == [{"b": Literal(1)}]


def test_virtuoso_keeps_no_default_graph_of_its_own(virtuoso_remote_store):
    with pytest.raises(BadRequest, match="no default graph"):
        virtuoso_remote_store.replace_graph(None, [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("x"))])
    assert list(virtuoso_remote_store.quads(None)) == list(virtuoso_remote_store.quads())  # all in named graphs


def test_virtuoso_refuses_blank_nodes_in_insert_data(virtuoso_remote_store):
    graph = f"urn:test:{uuid.uuid4()}"
    # well-formed SPARQL the engine refuses: 409 with Virtuoso's message, not "Malformed SPARQL" (issue 14 item 3)
    with pytest.raises(NotExecutable, match="Blank node"):
        virtuoso_remote_store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:a> <urn:p> [ <urn:q> 1 ] }} }}")
    assert not virtuoso_remote_store.has_graph(graph)


def test_virtuoso_keeps_no_empty_graph_and_lowercases_language_tags(virtuoso_remote_store):
    graph = _scratch_graph(virtuoso_remote_store, [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("x", language="en-GB"))])
    try:
        assert [q.triple.object for q in virtuoso_remote_store.quads(graph)] == [Literal("x", language="en-gb")]
        virtuoso_remote_store.replace_graph(graph, [])
        assert not virtuoso_remote_store.has_graph(graph)  # on the embedded store an emptied graph still exists
    finally:
        virtuoso_remote_store.drop_graph(graph)


# --- the new user's path -----------------------------------------------------------------------------------------
def test_the_readme_path_on_virtuoso_push_serve_and_every_example_answers_as_embedded(export_store_dir, tmp_path):
    """Against a `filmgraph serve` of its own over the same build (the shared live server takes other tests' writes)."""
    import shutil  # noqa: PLC0415

    from virtuoso_support import virtuoso_process  # noqa: PLC0415

    shutil.copytree(export_store_dir, tmp_path / "embedded")
    with virtuoso_process(tmp_path / "virtuoso") as base, filmgraph_server(tmp_path / "embedded") as live_server:
        run_cli("push", "--to", f"{base}/sparql-graph-crud", "--store", str(export_store_dir))
        remote = {"FILMGRAPH_BACKEND": "remote", "FILMGRAPH_REMOTE_QUERY_URL": f"{base}/sparql",
                  "FILMGRAPH_REMOTE_UPDATE_URL": f"{base}/sparql",
                  "FILMGRAPH_REMOTE_GRAPH_STORE_URL": f"{base}/sparql-graph-crud"}  # fmt: skip
        with filmgraph_server(tmp_path / "unused", settings=remote) as served:
            for path, headers in readme_get_examples():
                answers = [comparable(httpx.get(server + path, headers=headers, timeout=60), server)
                           for server in (live_server, served)]  # fmt: skip
                if "LIMIT" in path and "ORDER" not in path:  # an unordered LIMIT picks the engine's rows
                    answers = [(status, kind, len(lines)) for status, kind, lines in answers]
                assert answers[0][0] == 200 and answers[0] == answers[1], path


def test_virtuoso_graph_exclusion_pragmas_would_empty_a_graph_pattern(virtuoso_server):
    """Why filmgraph names graphs instead of excluding Virtuoso's own with `define input:default-graph-exclude`."""
    query = "SELECT ?s WHERE { GRAPH <https://w3id.org/filmgraph/graph/inferred> { ?s ?p ?o } } LIMIT 5"
    excluded = "define input:default-graph-exclude <http://www.w3.org/ns/ldp#>\n" + query
    rows = [len(_raw(virtuoso_server, q).json()["results"]["bindings"]) for q in (query, excluded)]
    assert rows == [5, 0]

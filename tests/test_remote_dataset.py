"""filmgraph's own queries answer alike whether the remote engine's default graph is the union of its named graphs
or not (issue 19): an Oxigraph server started *without* `--union-default-graph` (as Jena/Fuseki are by default)
is detected at the first query, and REST, named queries, search, exports and VoID answer as on the embedded store;
`FILMGRAPH_REMOTE_UNION_DEFAULT_GRAPH` overrides the detection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode
from readme_support import comparable, readme_get_examples
from service_support import oxigraph_process, remote_store_at

from filmgraph.api import create_app
from filmgraph.export import prepare_export
from filmgraph.named_queries import load_named_queries, run_named_query
from filmgraph.settings import Settings
from filmgraph.store import Dataset, Store
from filmgraph.store.remote import RemoteStore
from filmgraph.store.remote_dataset import UNION_GRAPH

SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
INFERRED = "https://w3id.org/filmgraph/graph/inferred"


@pytest.fixture(scope="module")
def plain_oxigraph(service_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same data in an Oxigraph server whose default graph is its own (empty) graph."""
    with oxigraph_process(service_data, tmp_path_factory.mktemp("plain") / "store", union=False) as base:
        yield base


@pytest.fixture(scope="module")
def plain_store(plain_oxigraph: str) -> Iterator[RemoteStore]:
    store = remote_store_at(plain_oxigraph)
    yield store
    store.close()


def _label_query() -> str:
    return f"SELECT ?label WHERE {{ <https://w3id.org/filmgraph/id/russia> <{SKOS_LABEL}> ?label }}"


def test_the_engine_s_dataset_rule_is_detected_at_the_first_query(plain_store, oxigraph_remote_store):
    assert plain_store.query(_label_query()).rows == [{"label": Literal("Russia", language="en")}]
    assert plain_store._scope.union_default is False
    assert oxigraph_remote_store.query(_label_query()).rows and oxigraph_remote_store._scope.union_default is True


def test_the_setting_overrides_detection(plain_oxigraph):
    """Told that the default graph is the union when it is not, filmgraph asks the engine's own default graph,
    which is empty here: the setting is honoured (and naming the graphs is what makes the answers right)."""
    trusting = remote_store_at(plain_oxigraph, union_default_graph=True)
    try:
        assert trusting.query(_label_query()).rows == []
    finally:
        trusting.close()
    settings = Settings(backend="remote", remote_query_url=f"{plain_oxigraph}/query", remote_union_default_graph=False)
    told = RemoteStore.from_settings(settings)
    try:
        assert told.query(_label_query()).rows and told._scope.union_default is False
    finally:
        told.close()


@pytest.mark.parametrize(("path", "headers"), readme_get_examples())
def test_readme_examples_answer_as_on_the_embedded_store(embedded_store, plain_store, path, headers):
    answers = []
    for store in (embedded_store, plain_store):
        with TestClient(create_app(Settings(), store)) as client:
            answers.append(comparable(client.get(path, headers=headers), "http://testserver"))
    if "LIMIT" in path and "ORDER" not in path:  # which rows an unordered LIMIT gets is the engine's choice
        answers = [(status, kind, len(lines)) for status, kind, lines in answers]
    assert answers[0][0] == 200 and answers[0] == answers[1]


def test_every_named_query_answers_as_on_the_embedded_store(embedded_store, plain_store):
    for query in load_named_queries(Settings().queries_dir).values():
        if any(p.required for p in query.parameters):
            continue
        rows = [sorted(map(repr, run_named_query(store, query).rows)) for store in (embedded_store, plain_store)]
        assert rows[0] == rows[1], query.name


def test_exports_and_counts_agree(embedded_store: Store, plain_store: Store):
    for subset in ("entity:russian-state-fund", "inferred"):
        assert prepare_export(embedded_store, "turtle", subset).to_bytes() == prepare_export(plain_store, "turtle", subset).to_bytes()
    assert plain_store.count() == embedded_store.count() and plain_store.named_graphs() == embedded_store.named_graphs()


def test_the_reserved_union_graph_iri(plain_store: Store, embedded_store: Store):
    """`urn:x-arq:UnionGraph` as the default graph means the union of the named graphs on any engine."""
    union = Dataset(default_graphs=[UNION_GRAPH])
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert int(plain_store.query(count, dataset=union).rows[0]["n"].value) == embedded_store.count()
    one = plain_store.query(count, dataset=Dataset(default_graphs=[INFERRED]))
    assert int(one.rows[0]["n"].value) == embedded_store.count(INFERRED)
    assert plain_store.has_graph(INFERRED) and not plain_store.has_graph("urn:x:absent")
    assert plain_store.query(_label_query(), bindings={"label": Literal("Russia", language="en")}).rows
    assert NamedNode(INFERRED) in {r["g"] for r in plain_store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows}


def test_a_union_with_the_engine_s_own_graphs_is_used_only_past_the_list_limit():
    """Virtuoso's union holds its own graphs: named graphs are listed in each request, up to GRAPH_LIST_LIMIT."""
    from filmgraph.store.remote_dataset import GRAPH_LIST_LIMIT, GraphScope  # noqa: PLC0415

    def scope(count: int) -> GraphScope:
        return GraphScope(None, lambda: [f"urn:g:{i}" for i in range(count)], lambda: None, lambda: True)

    few = scope(3).params("SELECT * WHERE { ?s ?p ?o }", None, 0)
    assert few == {"default-graph-uri": ["urn:g:0", "urn:g:1", "urn:g:2"], "named-graph-uri": ["urn:g:0", "urn:g:1", "urn:g:2"]}
    assert scope(GRAPH_LIST_LIMIT + 1).params("SELECT * WHERE { ?s ?p ?o }", None, 0) == {}
    assert scope(3).params("SELECT * FROM <urn:g:1> WHERE { ?s ?p ?o }", None, 0) == {}  # the query's own dataset

"""A query's own FROM / FROM NAMED clauses choose its dataset; without them the default graph is the union.

The embedded store honours FROM; a remote engine applies its own dataset rules (Oxigraph server started with
--union-default-graph ignores FROM), as the README says, so FROM is tested on the embedded store.
"""

from __future__ import annotations

from filmgraph.store import Store
from filmgraph.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH

COUNT = "SELECT (COUNT(*) AS ?n) {clause} WHERE {{ ?s ?p ?o }}"


def count(store: Store, clause: str = "") -> int:
    return int(store.query(COUNT.format(clause=clause)).rows[0]["n"].value)


def test_from_selects_one_graph(embedded_store: Store) -> None:
    any_store = embedded_store
    inferred = any_store.count(INFERRED_GRAPH)
    assert 0 < inferred < count(any_store)
    assert count(any_store, f"FROM <{INFERRED_GRAPH}>") == inferred
    assert count(any_store, f"from <{INFERRED_GRAPH}> FROM <{ONTOLOGY_GRAPH}>") == inferred + any_store.count(ONTOLOGY_GRAPH)
    assert count(any_store, "FROM <urn:filmgraph:no-such-graph>") == 0


def test_from_named_with_graph(embedded_store: Store) -> None:
    any_store = embedded_store
    query = f"SELECT DISTINCT ?g FROM NAMED <{INFERRED_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert [row["g"].value for row in any_store.query(query).rows] == [INFERRED_GRAPH]


def test_the_word_from_elsewhere_keeps_the_union(any_store: Store) -> None:
    query = 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?o != "from") }'
    assert int(any_store.query(query).rows[0]["n"].value) > any_store.count(INFERRED_GRAPH)

"""The serving store's machinery: the result cache (LRU, keyed by generation), readiness, the workers' copies of
the graph, large results spooled to a file."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Triple

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.serving.serving_store import ServingStore
from filmgraph.serving.cache import ResultCache, cache_key
from filmgraph.store.base import SerializedResult

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_a_write_makes_cached_results_unreachable(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, result_cache_size=16)
    try:
        first = store.query_serialized(COUNT, "text/csv")
        assert first.body.splitlines()[1] == b"0"
        assert store.query_serialized(COUNT, "text/csv").body == first.body  # a hit: the same bytes
        store.add_to_graph("urn:g", [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("x"))])
        after = store.query_serialized(COUNT, "text/csv")
        assert after.body.splitlines()[1] == b"1"
    finally:
        store.close()


def test_the_cache_is_a_bounded_lru():
    cache = ResultCache(size=2, max_entry_bytes=10)
    keys = [cache_key(0, f"q{i}", "text/csv", None, None) for i in range(3)]
    for key in keys:
        cache.put(key, SerializedResult("select", "text/csv", b"x"))
    assert len(cache) == 2 and cache.get(keys[0]) is None and cache.get(keys[2]) is not None
    cache.put(cache_key(0, "big", "text/csv", None, None), SerializedResult("select", "text/csv", b"x" * 11))
    assert cache.get(cache_key(0, "big", "text/csv", None, None)) is None
    iri, text = {"x": NamedNode("urn:a")}, {"x": Literal("urn:a")}
    assert cache_key(0, "q", "t", iri, None) != cache_key(0, "q", "t", text, None)
    assert cache_key(0, "q", "t", None, None) != cache_key(1, "q", "t", None, None)


def test_cache_size_zero_keeps_nothing():
    cache = ResultCache(size=0)
    cache.put("k", SerializedResult("select", "text/csv", b"x"))
    assert cache.get("k") is None


def test_health_and_readiness(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1)
    client = TestClient(create_app(Settings(store=store.path), store))
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    store.pool.close()  # the workers are gone: not ready, still alive
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    store.close()


def test_live_server_health(live_server):
    assert httpx.get(f"{live_server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{live_server}/readyz").json()["status"] == "ready"


def test_workers_can_hold_the_graph_in_memory(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, worker_store="memory")
    try:
        store.add_to_graph("urn:g", [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("in memory"))])
        result = store.query("SELECT ?o WHERE { <urn:a> <urn:p> ?o }")
        assert [row["o"] for row in result.rows] == [Literal("in memory")]
    finally:
        store.close()


def test_large_results_stream_from_a_spool_file_that_is_then_removed(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, spill_bytes=200, result_cache_size=8)
    triples = [Triple(NamedNode(f"urn:s{i}"), NamedNode("urn:p"), Literal(f"value {i}")) for i in range(200)]
    store.add_to_graph("urn:g", triples)
    spool = tmp_path / ".store-checkpoints" / "spool"
    try:
        small = store.query_serialized("SELECT ?o WHERE { <urn:s1> ?p ?o }", "text/csv")
        assert small.spooled is None
        large = store.query_serialized("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s", "text/csv")
        assert large.spooled is not None and len(list(spool.iterdir())) == 1
        lines = b"".join(large.chunks()).decode().splitlines()
        assert len(lines) == 201 and lines[0] == "s,o"
        assert list(spool.iterdir()) == []  # read once, then gone
        rows = store.query("SELECT ?s WHERE { ?s ?p ?o }").rows  # the terms path reads spooled results too
        assert len(rows) == 200 and list(spool.iterdir()) == []
        client = TestClient(create_app(Settings(store=store.path), store))
        everything = {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}
        streamed = client.get("/sparql", params=everything, headers={"Accept": "application/n-triples"})
        assert streamed.status_code == 200 and len(streamed.text.splitlines()) == 200
        assert "content-length" not in streamed.headers  # chunked: streamed from the file
        assert list(spool.iterdir()) == []
    finally:
        store.close()


def test_workers_open_the_checkpoint_before_the_first_query(tmp_path):
    store = ServingStore(tmp_path / "store", workers=2)
    try:
        assert store.pool.generations_in_use() == {store.generation}  # warmed up at start, not on a timed query
        store.add_to_graph("urn:g", [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("x"))])
        assert store.query("ASK { <urn:a> ?p ?o }").boolean is True
        assert store.generation in store.pool.generations_in_use()
    finally:
        store.close()


def test_an_ask_failing_in_a_worker_is_not_executable_either(tmp_path):
    """A worker answered an ASK whose SERVICE fails 400 (its catch-all for the engine's OSError): it is a 409, as
    in process (tests/test_embedded_store.py)."""
    from filmgraph.errors import NotExecutable  # noqa: PLC0415

    store = ServingStore(tmp_path / "store", workers=1)
    try:
        with pytest.raises(NotExecutable, match="failed during evaluation"):
            store.query_serialized("ASK { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", "text/csv")
    finally:
        store.close()

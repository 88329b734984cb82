"""The commands a new user runs: `filmgraph serve` on a fresh store builds the graph first, `filmgraph load`
bulk-loads RDF files and leaves the store unchanged when a file does not parse."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from service_support import BIN, filmgraph_server

from filmgraph.store import EmbeddedStore
from filmgraph.vocab import LOADED_GRAPH_PREFIX, SOURCE_GRAPH_PREFIX


def load(store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "filmgraph"), "load", "--store", str(store), *args], capture_output=True, text=True, timeout=120
    )


def test_serve_builds_a_missing_store_then_answers(tmp_path):
    store = tmp_path / "fresh" / "store"
    with filmgraph_server(store, token=None) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).json()["status"] == "ready"
        query = f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{SOURCE_GRAPH_PREFIX}')) }}"
        assert httpx.get(f"{base}/sparql", params={"query": query}, timeout=10).json()["boolean"] is True


def test_load_puts_each_file_in_its_own_graph(tmp_path):
    data = tmp_path / "extra.nt"
    data.write_text('<urn:x> <urn:p> "one" .\n<urn:x> <urn:p> "two" .\n')
    dataset = tmp_path / "notes.trig"
    dataset.write_text('<urn:test:notes> { <urn:x> <urn:p> "three" }\n')
    result = load(tmp_path / "store", str(data), str(dataset))
    assert result.returncode == 0, result.stderr
    assert "loaded 2 statements" in result.stderr
    store = EmbeddedStore(tmp_path / "store")
    try:
        assert store.count(LOADED_GRAPH_PREFIX + "extra") == 2
        assert store.count("urn:test:notes") == 1  # TriG keeps its graphs (owned ones are refused: test_ownership)
    finally:
        store.close()


def test_a_file_that_does_not_parse_changes_nothing(tmp_path):
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text("<urn:x> <urn:p> 'kept' .\n")
    bad.write_text("<urn:y> <urn:p> 'fine' .\n" * 1000 + "<urn:y> <urn:p> 'broken .\n")
    assert load(tmp_path / "store", str(good)).returncode == 0
    result = load(tmp_path / "store", "--graph", "urn:test:target", str(bad))
    assert result.returncode == 2
    assert "bad.ttl" in result.stderr and "line 1001" in result.stderr
    store = EmbeddedStore(tmp_path / "store")
    try:
        assert store.count() == 1 and "urn:test:target" not in store.named_graphs()
    finally:
        store.close()


def test_load_refuses_an_unknown_extension(tmp_path):
    odd = tmp_path / "data.xlsx"
    odd.write_text("x")
    result = load(tmp_path / "store", str(odd))
    assert result.returncode == 2 and "cannot tell the RDF format" in result.stderr

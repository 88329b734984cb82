"""Where a query worker reads the graph: the on-disk checkpoint, and (modes `memory` and `auto`) an in-memory copy
built at start, or in the background after a write so that no query waits for it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store as OxStore, Triple

from filmgraph.serving import memory_copy, worker
from filmgraph.serving.serving_store import ServingStore

from service_support import wait_for

LOOKUP = "SELECT ?o WHERE { <http://example.org/e1> ?p ?o }"


def checkpoint(directory: Path, triples: int = 50) -> str:
    store = OxStore(str(directory))
    p = NamedNode("http://example.org/p")
    store.extend(Quad(NamedNode(f"http://example.org/e{n}"), p, Literal(f"v{n}")) for n in range(triples))
    store.flush()
    del store
    return str(directory)


def test_disk_mode_reads_the_checkpoint_only(tmp_path):
    opened = worker.open_checkpoint(checkpoint(tmp_path / "c"), "disk")
    assert isinstance(opened, OxStore)


def test_auto_mode_copies_a_small_graph_into_memory_before_answering(tmp_path):
    opened = worker.open_checkpoint(checkpoint(tmp_path / "c"), "auto")
    assert isinstance(opened, worker.Copies) and opened.memory is not None
    assert len(opened.memory) == len(opened.disk) == 50


def test_auto_mode_leaves_a_graph_above_its_limit_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_copy, "AUTO_MEMORY_MAX_QUADS", 49)
    opened = worker.open_checkpoint(checkpoint(tmp_path / "c"), "auto")
    assert opened.memory is None
    assert opened.pick("memory") == ("disk", opened.disk), "without a memory copy every query reads the disk"


def test_after_a_write_the_copy_is_built_in_the_background_while_the_disk_answers(tmp_path):
    opened = worker.open_checkpoint(checkpoint(tmp_path / "c", triples=20_000), "memory", background=True)
    assert opened.memory is None or len(opened.memory) == 20_000  # returned at once, before the copy exists
    reply = worker.answer(opened, worker.QueryTask(LOOKUP, "application/sparql-results+json"))
    assert reply[0] == "ok" and b'"v1"' in reply[3]
    wait_for(lambda: opened.memory is not None)
    assert opened.memory is not None and len(opened.memory) == 20_000
    reply = worker.answer(opened, worker.QueryTask(LOOKUP, "application/sparql-results+json"))
    assert reply[-1] == "memory", "once built, the copy answers and the reply says so (for the server's choice)"
    on_disk = worker.QueryTask(LOOKUP, "application/sparql-results+json", copy="disk")
    assert worker.answer(opened, on_disk)[-1] == "disk" and worker.answer(opened, on_disk)[3] == reply[3]


def test_a_retired_generation_gets_no_memory_copy(tmp_path):
    copies = worker.Copies(OxStore.read_only(checkpoint(tmp_path / "c")))
    copies.retired = True
    worker._build_memory_copy(copies, "memory")
    assert copies.memory is None


@pytest.mark.parametrize("mode", ["memory", "auto"])
def test_a_memory_mode_store_reads_its_own_writes_at_once(tmp_path, mode):
    store = ServingStore(tmp_path / "store", workers=1, worker_store=mode)
    try:
        for n in range(3):  # the first generation is copied before answering, later ones in the background
            triple = Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal(f"write {n}"))
            store.add_to_graph("urn:g", [triple])
            rows = store.query("SELECT ?o WHERE { <urn:a> <urn:p> ?o }").rows
            assert Literal(f"write {n}") in [row["o"] for row in rows]
    finally:
        store.close()

"""Where a query worker reads the graph: the on-disk checkpoint, and (modes `memory` and `auto`) an in-memory copy
built at start, or in the background after a write so that no query waits for it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
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
    on_disk = worker.QueryTask(LOOKUP, "application/sparql-results+json")
    assert worker.answer(opened, on_disk, copy="disk")[-1] == "disk"
    assert worker.answer(opened, on_disk, copy="disk")[3] == reply[3]


def test_a_retired_generation_gets_no_memory_copy(tmp_path):
    copies = worker.Copies(OxStore.read_only(checkpoint(tmp_path / "c")), str(tmp_path / "c"))
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


def written_bytes(pid: int) -> int:
    """What a process has passed to write() so far (/proc: a worker's dump is the only large write it makes)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    return int(fields["wchar"])


def test_one_dump_per_generation_serves_the_server_process_and_every_worker(tmp_path, monkeypatch):
    directory = tmp_path / "store"
    checkpoint(directory, triples=30_000)  # a dump of ~2 MB
    server_dumps: list[str] = []

    class Recorded:  # the server process's handle on a checkpoint, recording its dumps
        def __init__(self, real: OxStore) -> None:
            self._real = real

        def dump(self, path, format):
            server_dumps.append(path)
            self._real.dump(path, format=format)

        def query(self, sparql):
            return self._real.query(sparql)

    class Stores:  # pyoxigraph's Store, as memory_copy.py sees it in this process
        def __new__(cls, *args, **kwargs):
            return OxStore(*args, **kwargs)

        @staticmethod
        def read_only(path):
            return Recorded(OxStore.read_only(path))

    monkeypatch.setattr(memory_copy, "OxStore", Stores)
    store = ServingStore(directory, workers=2, worker_store="memory", inline_queries=True)
    try:
        assert store._inline_copy.current(store.generation) is not None, "every first copy is built before serving"
        dump = memory_copy.dump_of(store.pool.checkpoints.current[1])
        size = dump.stat().st_size
        assert size > 1_000_000
        dumped_by = {pid: written_bytes(pid) > size // 2 for pid in store.pool.pids()}
        assert len(server_dumps) + sum(dumped_by.values()) == 1, (server_dumps, dumped_by)

        victim = store.pool.pids()[0]
        os.kill(victim, signal.SIGKILL)  # its successor copies the same generation: from the dump, without one
        wait_for(lambda: victim not in store.pool.pids() and store.pool.state()["alive"] == 2, 30)
        (successor,) = set(store.pool.pids()) - set(dumped_by)
        assert store.query("ASK { <http://example.org/e7> ?p ?o }").boolean is True
        assert written_bytes(successor) < size // 2, "a respawned worker loads the generation's dump"
        assert dump.stat().st_size == size and len(server_dumps) <= 1
    finally:
        store.close()


def store_writes(generation: int) -> tuple[object, worker.StoreWrites]:
    """The store's generation as the pool shares it with its workers, and a worker's view of it."""
    shared = multiprocessing.RawValue("q", generation)
    return shared, worker.StoreWrites(shared)


def test_a_checkpoint_a_write_has_left_behind_is_not_copied(tmp_path):
    """While the inline lane answers every read, a worker is asked nothing after its last query; it used to copy
    that checkpoint a second later anyway, a copy stale before it was built (issue 14: each worker spent a dump and
    a load on one in the mixed benchmark)."""
    directory = checkpoint(tmp_path / "c")
    _, writes = store_writes(8)
    behind = worker.Copies(OxStore.read_only(directory), directory, generation=7)
    worker._build_memory_copy(behind, "memory", writes=writes)
    assert behind.memory is None and not memory_copy.dump_of(directory).exists()
    current = worker.Copies(OxStore.read_only(directory), directory, generation=8)
    worker._build_memory_copy(current, "memory", writes=writes)
    assert current.memory is not None and len(current.memory) == 50


def test_a_copy_after_a_write_waits_until_writes_pause(tmp_path):
    directory = checkpoint(tmp_path / "c")
    shared, writes = store_writes(3)
    copies = worker.Copies(OxStore.read_only(directory), directory, generation=3)
    builder = threading.Thread(target=worker._build_memory_copy, args=(copies, "memory", None, 0.6, writes))
    builder.start()
    time.sleep(0.4)
    shared.value = 4  # a write (this worker's checkpoint is behind it now): the pause starts again
    builder.join(5)
    assert not builder.is_alive() and copies.memory is None, "stale once writes paused: not copied"


def test_a_worker_copies_no_checkpoint_the_store_has_moved_past(tmp_path):
    """Through the pool: a worker that answered a read after a write (and so opened that generation's checkpoint)
    copies it once writes pause, unless another write came meanwhile; its next query moves it on."""
    store = ServingStore(tmp_path / "store", workers=1, worker_store="memory")
    try:
        triple = Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("one"))
        store.add_to_graph("urn:g", [triple])
        assert store.query("ASK { <urn:a> <urn:p> 'one' }").boolean is True  # the worker opens generation 1
        left_behind = store.pool.checkpoints.current[1]
        store.add_to_graph("urn:g", [Triple(NamedNode("urn:b"), NamedNode("urn:p"), Literal("two"))])
        time.sleep(memory_copy.WRITE_PAUSE_SECONDS + 1.0)
        assert not memory_copy.dump_of(left_behind).exists(), "no copy of a checkpoint already behind the store"

        assert store.query("ASK { <urn:b> <urn:p> 'two' }").boolean is True  # moves the worker to generation 2
        current = store.pool.checkpoints.current[1]
        wait_for(lambda: memory_copy.dump_of(current).exists(), memory_copy.WRITE_PAUSE_SECONDS + 10)
        assert memory_copy.dump_of(current).exists(), "writes paused on the store's own generation: copied"
    finally:
        store.close()

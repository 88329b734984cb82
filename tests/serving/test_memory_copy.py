"""The server process's in-memory copy for the inline lane: used only while it holds the current generation,
rebuilt after each write, never built in `disk` mode."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store as OxStore

from filmgraph.serving import memory_copy
from filmgraph.serving.checkpoints import Checkpoints
from filmgraph.store.evaluation import QueryTask
from filmgraph.store.embedded import EmbeddedStore
from filmgraph.serving.serving_store import ServingStore
from filmgraph.serving.inline import shape_of
from filmgraph.serving.memory_copy import ServerCopy, at_most

from service_support import checkpointed, wait_for

JSON = "application/sparql-results+json"
LOOKUP = "SELECT ?o WHERE {{ <http://example.org/e{n}> ?p ?o }}"


def quad(n: int, graph: str | None = "http://example.org/g") -> Quad:
    subject, p = NamedNode(f"http://example.org/e{n}"), NamedNode("http://example.org/p")
    return Quad(subject, p, Literal(f"v{n}"), NamedNode(graph)) if graph else Quad(subject, p, Literal(f"v{n}"))


@contextmanager
def serving(directory: Path, mode: str) -> Iterator[ServingStore]:
    """A serving store (one worker, the inline lane) in `mode`, closed afterwards."""
    store = ServingStore(directory, workers=1, worker_store=mode, inline_queries=True)
    try:
        yield store
    finally:
        store.close()


def wait_for_copy(store: ServingStore) -> None:
    wait_for(lambda: store._inline_copy.current(store.generation) is not None)


def test_at_most_counts_the_default_and_the_named_graphs():
    store = OxStore()
    store.extend([quad(1, None), quad(2), quad(3)])
    assert at_most(store, 3) and not at_most(store, 2)


def test_a_copy_is_used_only_while_it_holds_the_current_generation(tmp_path: Path):
    source, generation = OxStore(str(tmp_path / "store")), [0]
    source.extend(quad(n) for n in range(100))
    copies = ServerCopy(checkpointed(source, tmp_path / "c", lambda: generation[0]), "memory", lambda: generation[0])
    copies.refresh()
    wait_for(lambda: copies.current(0) is not None)
    assert len(copies.current(0)) == 100

    source.add(quad(100))  # a write: the generation moves on, then the copy is refreshed
    generation[0] = 1
    assert copies.current(1) is None, "the old copy does not hold generation 1"
    copies.refresh()
    assert copies.current(0) is None, "a refresh drops the stale copy at once"
    wait_for(lambda: copies.current(1) is not None)
    assert len(copies.current(1)) == 101


def test_auto_mode_leaves_a_large_graph_on_disk(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(memory_copy, "AUTO_MEMORY_MAX_QUADS", 9)
    source = OxStore(str(tmp_path / "store"))
    source.extend(quad(n) for n in range(10))
    copies = ServerCopy(checkpointed(source, tmp_path / "c", lambda: 0), "auto", lambda: 0)
    copies.refresh()
    wait_for(lambda: not copies._building)
    assert copies.current(0) is None


def admit(store: ServingStore, shape: str) -> None:
    """Ask until the workers have answered the shape fast three times in a row (on a busy machine: more)."""
    for n in range(30):
        asyncio.run(store.query_serialized_async(LOOKUP.format(n=n % 50), JSON))
        if store.inline.admits(shape):
            return
    raise AssertionError("the workers never answered the lookup fast three times in a row")


@pytest.mark.parametrize("mode", ["memory", "auto"])
def test_the_lane_reads_the_copy_and_after_a_write_the_disk_until_a_new_copy_exists(tmp_path: Path, mode: str):
    read_from: list[OxStore | None] = []
    shape = shape_of(LOOKUP.format(n=1))
    with serving(tmp_path / "store", mode) as store:
        run = store.inline.run

        def recording_run(shape, task, timeout, copy=None, from_thread=False):
            read_from.append(copy)
            return run(shape, task, timeout, copy, from_thread)

        store.inline.run = recording_run
        assert store._inline_copy.current(store.generation) is not None, "the first copy is built before serving"
        store.add_to_graph("urn:g", [quad(n).triple for n in range(50)])
        admit(store, shape)
        wait_for_copy(store)
        answer = asyncio.run(store.query_serialized_async(LOOKUP.format(n=5), JSON))
        assert b'"v5"' in answer.body and read_from[-1] is store._inline_copy.current(store.generation)

        store.update("INSERT DATA { GRAPH <urn:g> { <http://example.org/e9> <http://example.org/q> 'new' } }")
        after = asyncio.run(store.query_serialized_async(LOOKUP.format(n=9), JSON))
        assert b'"new"' in after.body, "read-after-write holds on the lane"
        wait_for_copy(store)
        admit(store, shape)  # a slow inline run on the disk may have sent the shape back to the workers
        read_from.clear()
        again = asyncio.run(store.query_serialized_async(LOOKUP.format(n=9), JSON))
        assert b'"new"' in again.body and read_from == [store._inline_copy.current(store.generation)]


def test_an_empty_copy_is_still_the_one_read(tmp_path: Path, monkeypatch):
    with serving(tmp_path / "store", "memory") as store:
        empty = OxStore()  # a Store's truth is its length: the choice must not hinge on it
        monkeypatch.setattr(store._inline_copy, "current", lambda generation: empty)
        store.add_to_graph("urn:g", [quad(1).triple])
        assert list(store.quads("urn:g")) == []


def test_disk_mode_builds_no_copy(tmp_path: Path):
    with serving(tmp_path / "store", "disk") as store:
        assert store.inline is not None and store._inline_copy is None


def test_quads_stream_from_the_current_copy_and_from_the_disk_after_a_write(tmp_path: Path, monkeypatch):
    with serving(tmp_path / "store", "memory") as store:
        store.add_to_graph("urn:g", [quad(n).triple for n in range(5)])
        wait_for_copy(store)
        assert {q.object.value for q in store.quads("urn:g")} == {f"v{n}" for n in range(5)}

        other = OxStore()  # a stand-in copy with other content shows which store the quads come from
        other.add(Quad(NamedNode("urn:x"), NamedNode("urn:p"), Literal("from the copy"), NamedNode("urn:g")))
        held = store.generation
        monkeypatch.setattr(store._inline_copy, "current", lambda generation: other if generation == held else None)
        assert [q.object.value for q in store.quads("urn:g")] == ["from the copy"]
        store.add_to_graph("urn:g", [quad(5).triple])  # the copy is now stale: the disk answers
        assert {q.object.value for q in store.quads("urn:g")} == {f"v{n}" for n in range(6)}


def test_closing_waits_for_a_build_under_way_so_the_store_can_be_reopened(tmp_path: Path):
    store = ServingStore(tmp_path / "store", workers=1, worker_store="memory", inline_queries=True)
    store.add_to_graph("urn:g", [quad(n).triple for n in range(20_000)])  # starts a build of a few tenths of a second
    store.close()
    assert not any(thread.name == "inline-memory-copy" for thread in threading.enumerate())
    del store
    gc.collect()  # the last reference to the read-write store goes: its lock with it
    reopened = EmbeddedStore(tmp_path / "store")
    assert reopened.count("urn:g") == 20_000
    reopened.close()


def checkpoints_of(tmp_path: Path, quads: int = 10) -> tuple[Checkpoints, OxStore]:
    """Checkpoints of a store of `quads` quads, gen-1 published, and the store."""
    source = OxStore(str(tmp_path / "store"))
    source.extend(quad(n) for n in range(quads))
    checkpoints = Checkpoints(tmp_path / "checkpoints")
    checkpoints.publish(source, 1)
    return checkpoints, source


def checkpoint_of(tmp_path: Path, quads: int = 10) -> str:
    """The directory of a checkpoint (gen-1) of a store of `quads` quads."""
    return checkpoints_of(tmp_path, quads)[0].current[1]


def test_a_checkpoint_is_dumped_once_beside_it_and_every_copy_loads_that_dump(tmp_path: Path, monkeypatch):
    checkpoint = checkpoint_of(tmp_path)
    dumped: list[str] = []
    real = OxStore.dump

    class Counting:  # pyoxigraph's Store cannot be patched: a stand-in for the checkpoint's handle
        def dump(self, path, format):
            dumped.append(path)
            real(OxStore.read_only(checkpoint), path, format=format)

    copies = [memory_copy.copy_of_checkpoint(checkpoint, Counting()) for _ in range(3)]
    assert [len(copy) for copy in copies] == [10, 10, 10] and len(dumped) == 1
    assert memory_copy.dump_of(checkpoint) == Path(checkpoint).with_name("gen-1.nq")
    assert memory_copy.dump_of(checkpoint).exists(), "kept for the next copy of this generation (a respawn)"


def _copy_in_a_process(checkpoint: str, record: str) -> None:
    """A child's copy: records in `record` whether it dumped, and how many quads it loaded."""
    real = OxStore.read_only(checkpoint)

    class Recording:
        def dump(self, path, format):
            with open(record, "a") as out:
                out.write("dumped\n")
            time.sleep(0.3)  # long enough for the others to come while it dumps
            real.dump(path, format=format)

    copy = memory_copy.copy_of_checkpoint(checkpoint, Recording())
    with open(record, "a") as out:
        out.write(f"loaded {len(copy)}\n")


def test_processes_copying_one_checkpoint_at_once_share_one_dump(tmp_path: Path):
    checkpoint = checkpoint_of(tmp_path, quads=1_000)
    record = tmp_path / "record"
    context = multiprocessing.get_context("fork")  # the children run this module's stand-in
    children = [context.Process(target=_copy_in_a_process, args=(checkpoint, str(record))) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0]
    lines = record.read_text().splitlines()
    assert lines.count("dumped") == 1 and lines.count("loaded 1000") == 3, lines


def test_a_dump_goes_with_its_checkpoint_and_one_left_half_written_is_redone(tmp_path: Path):
    checkpoints, source = checkpoints_of(tmp_path)
    checkpoint = checkpoints.current[1]
    dump = memory_copy.dump_of(checkpoint)
    dump.with_name(dump.name + ".part").write_text("<urn:cut> <urn:off")  # a dumper killed midway
    assert len(memory_copy.copy_of_checkpoint(checkpoint, OxStore.read_only(checkpoint))) == 10
    root = Path(checkpoint).parent
    assert sorted(p.name for p in root.iterdir()) == ["gen-1", "gen-1.nq", "gen-1.nq.lock"]
    checkpoints.publish(source, 2)  # gen-1 is neither current nor leased: it goes
    assert sorted(p.name for p in root.iterdir()) == ["gen-2"], "the checkpoint's dump and lock went with it"


def test_a_copy_closed_while_it_waits_for_a_checkpoint_lets_that_checkpoint_finish(tmp_path: Path):
    """A query's checkpoint that meets a storage failure reopens the store, which closes the copy first and waits
    for its build; the build, waiting for that very checkpoint, must give up (it waited forever: /readyz hung)."""
    source, generation = OxStore(str(tmp_path / "store")), [1]
    source.extend(quad(n) for n in range(10))
    closing = threading.Event()

    @contextmanager
    def reopening() -> Iterator[tuple[OxStore, int]]:
        closing.set()
        time.sleep(0.3)  # the copy's build meanwhile waits for this checkpoint
        copy.close()
        yield source, generation[0]

    checkpoints = Checkpoints(tmp_path / "checkpoints", reopening, lambda: generation[0])
    copy = ServerCopy(checkpoints, "memory", lambda: generation[0])
    query = threading.Thread(target=checkpoints.catch_up, daemon=True)
    query.start()
    closing.wait(5)
    copy.refresh()
    query.join(10)
    assert not query.is_alive(), "the checkpoint waited for the copy that waited for it"
    assert checkpoints.current[0] == 1 and copy.current(1) is None


def test_without_the_inline_copy_the_lane_reads_the_disk_and_the_one_worker_holds_the_only_copy(tmp_path: Path):
    store = ServingStore(tmp_path / "store", workers=1, worker_store="memory", inline_queries=True, inline_copy=False)
    try:
        store.add_to_graph("urn:g", [quad(n).triple for n in range(5)])
        assert store.inline is not None and store._inline_copy is None, "no copy in the server process"
        assert store._current_copy() is None and {q.object.value for q in store.quads("urn:g")} == {
            f"v{n}" for n in range(5)
        }
        assert [check.name for check in store.health()] == ["query workers"]
        answers = []  # after the write the worker copies the new generation in the background: disk meanwhile
        wait_for(lambda: answers.append(store.pool.run(QueryTask(LOOKUP.format(n=3), JSON), 10)) or
                 answers[-1].copy == "memory")  # fmt: skip
        assert answers[-1].copy == "memory" and b'"v3"' in answers[-1].result.body, "the worker answers from its copy"
    finally:
        store.close()

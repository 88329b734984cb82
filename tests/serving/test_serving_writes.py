"""Issue 14.4, the serving engine's side: writes take no checkpoint until a query needs one, a read after a write
sees it, a burst of writes costs one in-memory copy, and small ground writes are replayed on the inline lane's copy."""

from __future__ import annotations

import asyncio
import time

import pytest
from pyoxigraph import Store as OxStore

from filmgraph.sparql_text import is_replayable
from filmgraph.serving.serving_store import ServingStore
from filmgraph.serving import memory_copy
from filmgraph.serving.memory_copy import ServerCopy
from filmgraph.store import dataset

from service_support import checkpointed, wait_for
from write_support import PROBE, ask_probe, probe_update


def test_writes_take_no_checkpoint_until_a_query_needs_one_and_it_sees_them_all(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, worker_store="disk", query_timeout=10)
    try:
        before = store.pool.checkpoints.current
        for n in range(20):
            store.update(probe_update(n))
        assert store.pool.checkpoints.current == before, "no checkpoint per write"
        assert [p.name for p in store.pool.checkpoints.root.iterdir() if p.name.startswith("gen-")] == [
            f"gen-{before[0]}"
        ]
        assert all(store.query(ask_probe(n)).boolean for n in (0, 19)), "a worker's read sees every write"
        assert store.pool.checkpoints.current[0] == store.generation, "one checkpoint for the burst"
    finally:
        store.close()


def test_a_burst_of_writes_costs_one_copy_built_once_writes_pause(tmp_path, monkeypatch):
    source = OxStore(str(tmp_path / "store"))
    builds: list[int] = []
    real = ServerCopy._attempt

    def counted(self):
        attempt = real(self)
        builds.append(len(attempt[1]))
        return attempt

    monkeypatch.setattr(ServerCopy, "_attempt", counted)
    generation = [0]
    copy = ServerCopy(checkpointed(source, tmp_path / "c", lambda: generation[0]), "memory", lambda: generation[0],
                      pause=0.5)  # fmt: skip
    try:
        copy.refresh().join()
        assert builds == [0]
        for n in range(6):  # a write every 0.1 s: never a pause of 0.5 s
            source.update(probe_update(n))
            generation[0] += 1
            copy.refresh(after_write=True)
            time.sleep(0.1)
            assert copy.current(generation[0]) is None, "a stale copy is never read"
        assert builds == [0], "no copy while writes go on"
        wait_for(lambda: copy.current(generation[0]) is not None, 5)
        assert builds == [0, 6] and len(copy.current(generation[0])) == 6
    finally:
        copy.close()


@pytest.fixture
def followed(tmp_path):
    """A serving store whose server process holds an in-memory copy that follows its small writes, once built."""
    store = ServingStore(tmp_path / "store", workers=1, inline_queries=True, worker_store="memory")
    try:
        wait_for(lambda: store._current_copy() is not None, 30)
        yield store
    finally:
        store.close()


def test_small_ground_writes_keep_the_inline_copy_current_and_others_make_it_wait(followed):
    store = followed
    for n in range(5):
        store.update(probe_update(n))
        copy = store._current_copy()
        assert copy is not None, "applied to the copy as well: still current"
        assert copy.query(ask_probe(n)) and len(copy) == len(store.disk.engine)
    store.update("INSERT DATA { <urn:s> <urn:p> [ <urn:q> 1 ] }")  # a blank node: another label in a copy
    assert store._current_copy() is None, "not replayed: the lane reads the disk until the copy is rebuilt"
    wait_for(lambda: store._current_copy() is not None, 30)
    assert len(store._current_copy()) == len(store.disk.engine) == 7


def test_the_copy_applies_the_writes_it_follows_when_it_is_next_read_in_one_update(followed):
    store = followed
    follower, engine = store._inline_copy, store._inline_copy._copy[1]
    for n in range(3):
        store.update(probe_update(n))
    assert len(follower._pending) == 3 and len(engine) == 0, "no write has paid for the copy yet"
    copy = store._current_copy()
    assert copy is engine and follower._pending == [] and len(copy) == len(store.disk.engine) == 3
    assert all(copy.query(ask_probe(n)) for n in range(3)), "read-after-write on the copy"
    for n in range(3, 3 + memory_copy.MAX_PENDING_WRITES):
        store.update(probe_update(n))
    assert follower._pending == [] and len(engine) == 3 + memory_copy.MAX_PENDING_WRITES, "a long burst applies"
    store.update("INSERT DATA { <urn:a> <urn:b> 'ends with a semicolon' } ;")
    store.update("INSERT DATA { <urn:a> <urn:b> 'ends in a comment' } # ;")
    store.update("INSERT DATA { <urn:a> <urn:b> 'last' }")
    assert store._current_copy() is engine, "joined into one update that parses: no rebuild"
    assert len(engine) == len(store.disk.engine)


def test_writes_the_copy_cannot_apply_drop_it_until_it_is_rebuilt(followed):
    store = followed
    store.update(probe_update(1))
    follower = store._inline_copy

    class Refusing:
        def update(self, sparql: str) -> None:
            raise RuntimeError("the copy refuses")

    follower._copy = (store.generation, Refusing())
    assert store._current_copy() is None, "never read a copy that may differ from the store"
    wait_for(lambda: store._current_copy() is not None, 30)
    assert store._current_copy().query(ask_probe(1)) and len(store._current_copy()) == 1


@pytest.mark.parametrize(
    ("update", "replayable"),
    [
        (probe_update(1), True),
        ("DELETE DATA { <urn:a> <urn:b> 'x' }", True),
        ("INSERT DATA { _:b <urn:b> 'x' }", False),
        ("INSERT DATA { <urn:a> <urn:b> ( 1 2 ) }", False),
        ("INSERT DATA { <urn:a> <urn:b> [] }", False),
        ("DELETE WHERE { <urn:a> ?p ?o }", False),
    ],
)
def test_only_small_ground_data_is_replayed_on_a_copy(update, replayable):
    assert is_replayable(update) is replayable


def test_reads_after_small_writes_know_the_union_on_the_event_loop_without_asking_the_store(tmp_path, monkeypatch):
    """Issue 14, the mixed benchmark: each read after a small write handed the question "is a triple in several
    graphs?" (store/dataset.py) to a thread, a GIL hand-off per read, and the first read asked it of the store
    whole, an ASK of 0.35 s at 100k quads that every union read waited for. Now the serving store asks at start,
    and a read carries the answer over the few small writes since, on the event loop."""
    asked, handed_off = [], []
    whole = dataset.holds_duplicate_triples
    monkeypatch.setattr(dataset, "holds_duplicate_triples", lambda engine: asked.append(1) or whole(engine))
    to_thread = asyncio.to_thread

    async def counted(function, /, *args, **kwargs):
        handed_off.append(getattr(function, "__name__", function))
        return await to_thread(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    store = ServingStore(tmp_path / "store", workers=1, worker_store="disk", inline_queries=True,
                         durability="process")  # as the benchmark's: small writes commit on the loop too
    try:
        assert asked == [1], "asked once, at start"

        async def mixed() -> list[bytes]:
            answers = []
            for n in range(6):
                await store.update_async(probe_update(n))
                lookup = f"SELECT ?o WHERE {{ <urn:s{n}> ?p ?o }}"  # its answer depends on multiplicity
                answers.append((await store.query_serialized_async(lookup, "application/sparql-results+json")).body)
            return answers

        answers = asyncio.run(mixed())
        assert all(PROBE.encode() in answer for answer in answers), "every read saw the write before it"
        assert (asked, handed_off) == ([1], []), "no ASK over the store whole, no thread per read"

        store.update('INSERT { GRAPH <urn:copy> { ?s ?p ?o } } WHERE { GRAPH <urn:w> { ?s ?p ?o } }')  # not ground
        assert b"urn:p" in asyncio.run(store.query_serialized_async(
            "SELECT ?p WHERE { <urn:s0> ?p ?o }", "application/sparql-results+json")).body  # fmt: skip
        assert (asked, handed_off) == ([1, 1], ["merge_needed"]), "a write that cannot tell: the store, off the loop"
    finally:
        store.close()

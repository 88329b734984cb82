"""Issue 14.4: writes at the engine's speed. An acknowledgement means what the durability setting says (the
write-ahead log synced, or a kill -9 survived), writes take no checkpoint until a query needs one, a read after a
write sees it, a burst of writes costs one in-memory copy, and small updates commit on the event loop without
changing what a rejected one leaves behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Store as OxStore

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.sparql_text import is_data_only, is_replayable
from filmgraph.store import EmbeddedStore, durability
from filmgraph.serving.serving_store import ServingStore
from filmgraph.serving import memory_copy
from filmgraph.serving.memory_copy import ServerCopy

from service_support import wait_for

PROBE = "a literal long enough to be stored verbatim in the write-ahead log"


def probe_update(n: int) -> str:
    return f'INSERT DATA {{ GRAPH <urn:w> {{ <urn:s{n}> <urn:p> "{PROBE} {n}" }} }}'


def ask_probe(n: int) -> str:
    return f'ASK {{ GRAPH <urn:w> {{ <urn:s{n}> <urn:p> "{PROBE} {n}" }} }}'


def recorded_syncs(monkeypatch) -> list[bytes]:
    """What each fdatasync of the store found in the file it synced."""
    synced: list[bytes] = []
    real = os.fdatasync

    def record(fd: int) -> None:
        real(fd)
        synced.append(os.pread(fd, 1 << 24, 0))

    monkeypatch.setattr(durability.os, "fdatasync", record)
    return synced


def test_in_sync_mode_the_acknowledgement_follows_a_sync_of_the_log_holding_the_write(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "store", durability="sync")
    try:
        synced = recorded_syncs(monkeypatch)
        store.update(probe_update(1))
        assert any(f"{PROBE} 1".encode() in content for content in synced), "the synced log holds the write"
    finally:
        store.close()


def test_in_process_mode_the_request_does_not_sync_but_the_periodic_sync_does(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "store", durability="process", sync_interval=0.2)
    try:
        synced = recorded_syncs(monkeypatch)
        store.update(probe_update(2))
        assert not synced, "no sync inside the write"
        wait_for(lambda: any(f"{PROBE} 2".encode() in content for content in synced), 5)
        assert any(f"{PROBE} 2".encode() in content for content in synced), "synced within the interval"
    finally:
        store.close()


def test_in_process_mode_an_acknowledged_write_survives_kill_9(tmp_path):
    """The weaker mode's promise: the log is in the operating system once the commit returned."""
    path = tmp_path / "store"
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time
            from filmgraph.store import EmbeddedStore
            store = EmbeddedStore({str(path)!r}, durability="process", sync_interval=3600)
            store.update({probe_update(3)!r})
            print("acknowledged", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stdout.readline().strip() == "acknowledged"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.communicate(timeout=10)  # waits, and closes its stdout
    assert OxStore(str(path)).query(ask_probe(3))


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
        builds.append(len(self._source))
        return real(self)

    monkeypatch.setattr(ServerCopy, "_attempt", counted)
    generation = [0]
    copy = ServerCopy(source, "memory", lambda: generation[0], pause=0.5)
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


@pytest.mark.parametrize(
    ("update", "data_only"),
    [
        ('PREFIX ex: <http://e/> INSERT DATA { GRAPH ex:g { ex:a ex:b "} WHERE {" } } ; DELETE DATA { <a> <b> <c> }', True),
        ("insert data {<a><b><c>};", True),
        ("INSERT DATA { <a> <b> [ <c> <d> ] }", True),
        ("DELETE WHERE { ?s ?p ?o }", False),
        ("INSERT DATA { <a> <b> <c> } ; CLEAR ALL", False),
        ("INSERT { <a> <b> ?c } WHERE { ?c ?d ?e }", False),
        ("DROP GRAPH <g>", False),
        ("", False),
    ],
)
def test_only_insert_and_delete_data_count_as_data_only(update, data_only):
    assert is_data_only(update) is data_only


def test_a_small_update_on_the_event_loop_is_checked_and_a_rejected_one_changes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "store", durability="process")
    client = TestClient(create_app(Settings(store=store.path, token="t"), store))
    auth = {"Authorization": "Bearer t", "Content-Type": "application/sparql-update"}
    try:
        assert client.post("/sparql", content=probe_update(4), headers=auth).status_code == 204
        generation, size = store.generation, len(store._store)
        owned = "INSERT DATA { GRAPH <https://w3id.org/filmgraph/graph/ontology> { <urn:a> <urn:b> <urn:c> } }"
        refused = client.post("/sparql", content=owned, headers=auth)
        malformed = client.post("/sparql", content="INSERT DATA { <urn:a> <urn:b> }", headers=auth)
        assert (refused.status_code, malformed.status_code) == (409, 400), (refused.text, malformed.text)
        assert (store.generation, len(store._store)) == (generation, size), "the store is as it was"
        assert store.query(ask_probe(4)).boolean
    finally:
        store.close()


def test_small_ground_writes_keep_the_inline_copy_current_and_others_make_it_wait(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, inline_queries=True, worker_store="memory")
    try:
        for n in range(5):
            store.update(probe_update(n))
            copy = store._current_copy()
            assert copy is not None, "applied to the copy as well: still current"
            assert copy.query(ask_probe(n)) and len(copy) == len(store.disk.engine)
        store.update("INSERT DATA { <urn:s> <urn:p> [ <urn:q> 1 ] }")  # a blank node: another label in a copy
        assert store._current_copy() is None, "not replayed: the lane reads the disk until the copy is rebuilt"
        wait_for(lambda: store._current_copy() is not None, 30)
        assert len(store._current_copy()) == len(store.disk.engine) == 7
    finally:
        store.close()


def test_the_copy_applies_the_writes_it_follows_when_it_is_next_read_in_one_update(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, inline_queries=True, worker_store="memory")
    try:
        wait_for(lambda: store._current_copy() is not None, 30)
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
    finally:
        store.close()


def test_writes_the_copy_cannot_apply_drop_it_until_it_is_rebuilt(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, inline_queries=True, worker_store="memory")
    try:
        wait_for(lambda: store._current_copy() is not None, 30)
        store.update(probe_update(1))
        follower = store._inline_copy

        class Refusing:
            def update(self, sparql: str) -> None:
                raise RuntimeError("the copy refuses")

        follower._copy = (store.generation, Refusing())
        assert store._current_copy() is None, "never read a copy that may differ from the store"
        wait_for(lambda: store._current_copy() is not None, 30)
        assert store._current_copy().query(ask_probe(1)) and len(store._current_copy()) == 1
    finally:
        store.close()


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


def test_one_sync_covers_every_write_committed_before_it(tmp_path, monkeypatch):
    """Group commit: writers waiting for a sync that started after their commit return without syncing again."""
    store = EmbeddedStore(tmp_path / "store", durability="sync")
    try:
        synced = recorded_syncs(monkeypatch)
        store._store.update(probe_update(1))
        first = store._wal.committed()
        store._store.update(probe_update(2))
        second = store._wal.committed()
        store._wal.sync(second)
        assert any(f"{PROBE} 1".encode() in c and f"{PROBE} 2".encode() in c for c in synced)
        count = len(synced)
        store._wal.sync(first)
        assert len(synced) == count, "already covered: no second sync"
    finally:
        store.close()


def _stack_recorder(app) -> list[str]:
    """The paths of the requests that went through FastAPI's middleware stack (built on the first request)."""
    stack, seen = app.build_middleware_stack(), []

    async def recording(scope, receive, send):
        seen.append(f"{scope['method']} {scope['path']}")
        await stack(scope, receive, send)

    app.middleware_stack = recording
    return seen


def test_protocol_requests_are_answered_ahead_of_the_middleware_stack_and_the_rest_go_through_it(tmp_path):
    store = EmbeddedStore(tmp_path / "store", durability="process")
    app = create_app(Settings(store=store.path, token="t", cors_origins=["https://yasgui.example"]), store)
    client = TestClient(app)
    through_stack = _stack_recorder(app)
    auth = {"Authorization": "Bearer t", "Content-Type": "application/sparql-update"}
    try:
        assert client.post("/sparql", content=probe_update(1), headers=auth).status_code == 204
        assert client.post("/sparql", data={"query": ask_probe(1)}).json()["boolean"] is True
        assert client.get("/sparql", params={"query": ask_probe(1)}).json()["boolean"] is True
        unauthorised = client.post("/sparql", content=probe_update(2), headers={"Content-Type": auth["Content-Type"]})
        assert unauthorised.status_code == 401 and unauthorised.headers["content-type"] == "application/problem+json"
        assert "www-authenticate" in unauthorised.headers
        assert through_stack == [], "answered by SparqlEntry"

        cors = client.get("/sparql", params={"query": ask_probe(1)}, headers={"Origin": "https://yasgui.example"})
        assert cors.headers["access-control-allow-origin"] == "https://yasgui.example" and cors.json()["boolean"]
        head = client.head("/sparql", params={"query": ask_probe(1)})
        assert head.status_code == 200 and head.content == b""
        assert client.get("/sparql").status_code == 200  # the Service Description: a FastAPI route
        assert through_stack == ["GET /sparql", "HEAD /sparql", "GET /sparql"]
    finally:
        store.close()


def test_an_unexpected_error_ahead_of_the_stack_is_the_same_plain_500_as_through_it(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "store", durability="process")
    app = create_app(Settings(store=store.path, token="t", cors_origins=["https://yasgui.example"]), store)
    client = TestClient(app, raise_server_exceptions=False)
    through_stack = _stack_recorder(app)

    async def broken(sparql: str) -> None:
        raise RuntimeError("a bug, not the client's mistake")

    monkeypatch.setattr(store, "update_async", broken)
    auth = {"Authorization": "Bearer t", "Content-Type": "application/sparql-update"}
    try:
        ahead = client.post("/sparql", content=probe_update(1), headers=auth)
        through = client.post("/sparql", content=probe_update(1), headers={**auth, "Origin": "https://yasgui.example"})
        assert through_stack == ["POST /sparql"]
        assert (ahead.status_code, ahead.text, ahead.headers["content-type"]) == (
            through.status_code, through.text, through.headers["content-type"]) == (
            500, "Internal Server Error", "text/plain; charset=utf-8")
        with pytest.raises(RuntimeError, match="a bug"):  # raised on, for the server's log
            TestClient(app).post("/sparql", content=probe_update(1), headers=auth)
    finally:
        store.close()

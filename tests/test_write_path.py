"""Issue 14.4: writes at the engine's speed. An acknowledgement means what the durability setting says (the
write-ahead log synced, or a kill -9 survived), and small updates commit on the event loop without changing what a
rejected one leaves behind. What writes cost the serving engine (checkpoints, copies): serving/test_serving_writes.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Store as OxStore

from filmgraph.api import create_app
from filmgraph.settings import Settings
from filmgraph.sparql_text import is_data_only
from filmgraph.store import EmbeddedStore, durability

from service_support import wait_for
from write_support import PROBE, ask_probe, probe_update


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

"""Issue 13.1: checkpoints are leased, never deleted under a worker; a worker that cannot open one reports it and
is replaced; the supervisor keeps the pool at its size; an empty pool refuses at once; the copies retry."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Quad, Store as OxStore

from filmgraph.api import create_app
from filmgraph.errors import BackendUnavailable, WorkersUnavailable
from filmgraph.settings import Settings
from filmgraph.serving import memory_copy, worker
from filmgraph.serving.checkpoints import Checkpoints
from filmgraph.serving.serving_store import ServingStore
from filmgraph.serving.memory_copy import Backoff, ServerCopy

from service_support import checkpointed, wait_for

ASK_A = "ASK { <urn:a> ?p ?o }"


def small_store(directory: Path, triples: int = 20) -> OxStore:
    store = OxStore(str(directory))
    store.extend(Quad(NamedNode(f"urn:e{n}"), NamedNode("urn:p"), Literal(n)) for n in range(triples))
    return store


def test_a_leased_checkpoint_outlives_newer_ones_and_goes_when_released(tmp_path):
    checkpoints = Checkpoints(tmp_path / "checkpoints")
    store = small_store(tmp_path / "store")
    checkpoints.publish(store, 1)
    generation, held = checkpoints.lease()
    checkpoints.publish(store, 2)
    checkpoints.publish(store, 3)
    assert generation == 1 and Path(held).is_dir(), "a leased checkpoint stays"
    assert not (tmp_path / "checkpoints" / "gen-2").exists(), "one nobody leased goes at once"
    assert OxStore.read_only(held).query("ASK { ?s ?p ?o }")
    checkpoints.release(1)
    assert not Path(held).exists()
    assert (tmp_path / "checkpoints" / "gen-3").is_dir(), "the current one stays, leased or not"
    assert checkpoints.held() == {}


def test_a_worker_that_cannot_open_its_checkpoint_reports_it_and_the_pool_recovers(tmp_path):
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=10)
    try:
        (first,) = store.pool.pids()
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
        store.pool.checkpoints.catch_up()  # taken now rather than by the next query, which must not retake it
        shutil.rmtree(store.pool.checkpoints.current[1])  # broken behind the store's back
        with pytest.raises(BackendUnavailable, match="could not open"):  # reported, not a dead pipe
            store.query(ASK_A)
        assert first not in store.pool.pids(), "a worker that cannot open the current checkpoint is replaced"
        wait_for(lambda: store.pool.state()["start_failing"], 30)  # its successor cannot open it either
        started = time.monotonic()
        with pytest.raises(WorkersUnavailable):
            store.query(ASK_A)
        assert time.monotonic() - started < 2, "refused at once, not at the query's timeout"
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:d> }")  # a sound checkpoint again
        wait_for(lambda: store.pool.state()["alive"] == 1, 60)
        assert store.query(ASK_A).boolean is True
        assert store.pool.checkpoints.held() == {store.generation: 1}, "old leases were given back"
    finally:
        store.close()


def test_readiness_reports_the_workers_and_fails_without_them(tmp_path):
    store = ServingStore(tmp_path / "store", workers=2)
    client = TestClient(create_app(Settings(store=store.path), store))
    try:
        ready = client.get("/readyz").json()
        workers = next(check for check in ready["checks"] if check["name"] == "query workers")
        assert workers["ok"] and workers["alive"] == workers["configured"] == 2
        assert sorted(workers["pids"]) == store.pool.pids()
        store.pool.close()
        gone = client.get("/readyz")
        assert gone.status_code == 503 and "query workers" in gone.json()["detail"]
    finally:
        store.close()


def failing(times: int, real):
    """`real`, raising MemoryError on its first `times` calls (as a copy of a 100 MB literal did)."""
    calls = []

    def copy(*args, **kwargs):
        calls.append(1)
        if len(calls) <= times:
            raise MemoryError
        return real(*args, **kwargs)

    return copy


def test_the_inline_copy_survives_memory_errors_and_retries(tmp_path, monkeypatch):
    monkeypatch.setattr(memory_copy, "copy_of_checkpoint", failing(2, memory_copy.copy_of_checkpoint))
    source = small_store(tmp_path / "store")
    copy = ServerCopy(checkpointed(source, tmp_path / "c", lambda: 7), "memory", lambda: 7, backoff=Backoff(first=0.3))
    try:
        copy.refresh()
        wait_for(lambda: copy.state == "failed-retrying", 5)
        assert copy.state == "failed-retrying" and "MemoryError" in copy.last_error
        wait_for(lambda: copy.state == "ready", 10)
        assert copy.state == "ready" and len(copy.current(7)) == 20
    finally:
        copy.close()


def test_a_workers_copy_survives_a_memory_error_and_retries(tmp_path, monkeypatch):
    small_store(tmp_path / "c").flush()
    monkeypatch.setattr(worker, "copy_of_checkpoint", failing(1, memory_copy.copy_of_checkpoint))
    copies = worker.Copies(OxStore.read_only(str(tmp_path / "c")), str(tmp_path / "c"))
    worker._build_memory_copy(copies, "memory", backoff=Backoff(first=0.01))
    assert copies.memory is not None and len(copies.memory) == 20

"""The plain embedded store (no workers: the CLI's, the build's and notebooks' path): engine errors, errors across
threads, a failed bulk load."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Triple

from filmgraph.api import create_app
from filmgraph.errors import StorageFull
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore


def test_an_engine_error_during_evaluation_is_a_409_in_process_too(tmp_path):
    """Well-formed but not executable (issue 14): 409, not the 400 of a malformed query, nor a 500."""
    from filmgraph.errors import NotExecutable  # noqa: PLC0415

    store = EmbeddedStore(tmp_path / "store")  # no workers: the CLI's and notebooks' path
    settings = Settings(store=store.path, allow_service=True, service_allow=["*"])  # SERVICE reaches the engine
    client = TestClient(create_app(settings, store), raise_server_exceptions=False)
    response = client.get("/sparql", params={"query": "SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }"})
    assert response.status_code == 409, response.text
    assert response.json()["title"] == "SPARQL operation not executable"
    try:
        with pytest.raises(NotExecutable, match="failed during evaluation"):
            store.query_serialized("SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", "text/csv")
    finally:
        store.close()


RUNS_THEN_FAILS = "SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }"  # parses; fails while evaluated


@pytest.mark.parametrize("form", ["SELECT *", "ASK", "CONSTRUCT { ?s ?p ?o }"])
def test_an_engine_error_during_evaluation_is_not_executable_on_every_read(tmp_path, form):
    """`query` (terms) said what `query_serialized` says, 409, and an ASK (evaluated as the query starts) too:
    before, `query` let the engine's raw OSError through (a 500), and so did an ASK on either path."""
    from filmgraph.errors import NotExecutable  # noqa: PLC0415

    sparql = f"{form} WHERE {{ SERVICE <file:///etc/passwd> {{ ?s ?p ?o }} }}"
    store = EmbeddedStore(tmp_path / "store")
    try:
        with pytest.raises(NotExecutable, match="failed during evaluation"):
            store.query(sparql)
        with pytest.raises(NotExecutable, match="failed during evaluation"):
            store.query_serialized(sparql, "text/csv, application/n-triples")
    finally:
        store.close()


@pytest.mark.parametrize("read", ["query", "query_serialized"])
def test_a_query_failing_in_one_thread_leaves_no_engine_iterator_to_another(tmp_path, monkeypatch, read):
    """pyoxigraph's solutions may be dropped only by the thread that made them; an error raised from a route's
    thread reaches the event loop's, and its traceback's frames held them there."""
    import sys  # noqa: PLC0415
    import threading  # noqa: PLC0415

    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: unraisable.append(str(hook.exc_value)))
    store = EmbeddedStore(tmp_path / "store")
    failed: list[BaseException] = []

    def fail() -> None:
        try:
            if read == "query":
                store.query(RUNS_THEN_FAILS)
            else:
                store.query_serialized(RUNS_THEN_FAILS, "text/csv")
        except Exception as error:  # noqa: BLE001 - handed to the main thread, as to_thread does
            failed.append(error)

    try:
        thread = threading.Thread(target=fail)
        thread.start()
        thread.join()
        assert len(failed) == 1  # the engine's error, from its evaluation
        failed.clear()  # dropped here, on another thread than the one that evaluated
        gc.collect()
        assert unraisable == []
    finally:
        store.close()


class _FailingBulkLoad:
    """The store, except that a bulk load fails after `replace` has removed the graph (say, a full disk)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def bulk_load(self, **_arguments) -> None:
        raise OSError("No space left on device")


def test_a_failed_bulk_load_still_publishes_a_new_generation(tmp_path):
    store = EmbeddedStore(tmp_path / "store")
    store.add_to_graph("urn:g", [Triple(NamedNode("urn:a"), NamedNode("urn:p"), Literal("old"))])
    data = tmp_path / "new.nt"
    data.write_text("<urn:a> <urn:p> \"new\" .\n")
    before = store.generation
    store._engine = _FailingBulkLoad(store._engine)
    with pytest.raises(StorageFull) as failed:
        store.load_file(data, "urn:g", replace=True)
    assert failed.value.written is None, "a bulk load is not one transaction: part of it may be written"
    assert store.generation == before + 1, "the graph is gone: cached results and copies of it must not be read"
    assert store.count("urn:g") == 0

"""The server reads a query worker's reply frames as plain values only: a frame naming a class or a function (which
plain `pickle.loads` would import and call: `os.system`, say) is refused before anything is made, and so is a frame
that is no pickle of a tuple; the query gets a 502, the worker is replaced as one that died, and the next query
is answered, whichever reader (the event loop's or a thread's) met it."""

from __future__ import annotations

import asyncio
import os
import pickle
import shlex
import struct
import time
from pathlib import PurePosixPath

import pytest
from pyoxigraph import NamedNode

from filmgraph.errors import BadRequest, BackendUnavailable
from filmgraph.serving import worker
from filmgraph.serving.serving_store import ServingStore
from filmgraph.store.evaluation import QueryTask

from service_support import wait_for

NAMES_A_CLASS = "# reply with a frame naming os.system:"


class _Calls:
    """Pickles as a call of `function(*arguments)`: what a frame naming a function makes plain `pickle.loads` do."""

    def __init__(self, function, *arguments) -> None:
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return self.function, self.arguments


def serve_naming_a_class(requests, replies, mode: str, store_generation=None) -> None:
    """A query worker that answers a query carrying NAMES_A_CLASS with a frame that, loaded by plain pickle, would
    run `touch <the path after it>` in the server; every other request as a worker does."""
    real = worker.answer

    def answer(store, task: QueryTask, generation: int = 0, copy: str = "memory") -> tuple:
        if NAMES_A_CLASS in task.sparql:
            path = task.sparql.split(NAMES_A_CLASS)[1].strip()
            return ("ok", _Calls(os.system, f"touch {shlex.quote(path)}"))
        return real(store, task, generation, copy)

    worker.answer = answer  # in the worker process only (forked from the forkserver, which imported it afresh)
    worker.serve(requests, replies, mode, store_generation)


def serve_ready_naming_a_class(requests, replies, mode: str, store_generation=None) -> None:
    """A query worker whose every "ready" (the reply to a warm-up) also names os.system."""
    real = worker.write_frame
    worker.write_frame = lambda fd, message: real(fd, ("ready", os.system) if message == ("ready",) else message)
    worker.serve(requests, replies, mode, store_generation)


def _read_back(data: bytes) -> tuple:
    """A frame holding `data`, written to a real pipe and read back as the server reads replies."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, struct.pack("<I", len(data)) + data)
        return worker.read_frame(read_end, worker.Frames())
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(lambda marker: ("ok", _Calls(os.system, f"touch {shlex.quote(str(marker))}")), id="os.system"),
        pytest.param(lambda marker: ("ok", _Calls(os.mkdir, str(marker))), id="os.mkdir"),
        pytest.param(lambda marker: ("ok", os.system), id="a function itself"),
        pytest.param(lambda marker: ("error", BadRequest("no")), id="an error of filmgraph's"),  # even its own
        pytest.param(lambda marker: ("ok", NamedNode("urn:a")), id="a pyoxigraph term"),
        pytest.param(  # the spool file crosses as a string: a Path is a class all the same
            lambda marker: ("ok", "select", "text/csv", b"", PurePosixPath("/spool/r"), 0.1, "disk", False), id="a path"
        ),
    ],
)
def test_a_reply_frame_naming_a_class_is_refused_before_anything_is_made(tmp_path, reply):
    marker = tmp_path / "made"
    with pytest.raises(worker.BrokenFrame, match="refused") as raised:
        _read_back(pickle.dumps(reply(marker), protocol=pickle.HIGHEST_PROTOCOL))
    assert raised.value.status_code == 502
    assert not marker.exists(), "the frame ran its call in the server"


@pytest.mark.parametrize(
    "data",
    [b"not a pickle at all", pickle.dumps(("ok", "text/csv", b"true"))[:-4], pickle.dumps(5), pickle.dumps(None)],
    ids=["garbage", "truncated", "an int", "None"],
)
def test_a_reply_frame_that_is_no_pickled_tuple_is_broken(data):
    with pytest.raises(worker.BrokenFrame):
        _read_back(data)


def test_every_reply_a_worker_sends_is_read_as_it_was_sent():
    """What crosses from a worker: strings, bytes, floats, booleans and None in tuples, nothing else."""
    replies = [
        ("ok", "select", "text/csv", b"n\r\n1\r\n", None, 0.000125, "memory", True),
        ("ok", "construct", "application/n-triples", b"", "/spool/result-abc", 1.5, "disk", False),
        ("error", "filmgraph.errors", "QuerySyntaxError", "expected '}'"),
        ("ready",),
        ("unopened", "cannot open checkpoint 3: RuntimeError: No such file"),
    ]
    for reply in replies:
        assert _read_back(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)) == reply


@pytest.fixture
def lying_store(tmp_path, monkeypatch):
    """A serving store with one worker that answers a NAMES_A_CLASS query with a frame naming os.system."""
    monkeypatch.setattr(worker, "serve", serve_naming_a_class)  # the pool starts `worker.serve` in each process
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    yield store
    store.close()


def _refused_and_replaced(store: ServingStore, tmp_path, ask) -> None:
    """`ask(task)` a query answered with a frame naming os.system: refused with a 502 at once, nothing run, the
    worker replaced; then the next query is answered."""
    (first,) = store.pool.pids()
    marker = tmp_path / "made by the frame"
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as raised:
        ask(QueryTask(f"ASK {{}} {NAMES_A_CLASS} {marker}", "text/csv"))
    assert time.monotonic() - started < 10, "failed at once, not at the query's timeout"
    assert raised.value.status_code == 502 and "cannot be read" in str(raised.value)
    assert "refused" in str(raised.value) and "system" in str(raised.value), "the detail names what was refused"
    assert not marker.exists(), "the frame ran its call in the server"
    assert first not in store.pool.pids(), "the worker that sent it was killed"
    wait_for(lambda: store.pool.state()["alive"] == 1, 30)
    assert store.pool.state()["alive"] == 1, "the pool is back to its size"
    assert ask(QueryTask("ASK {}", "text/csv")).result.body.strip() == b"true"
    assert store.pool.pending == 0


def test_a_thread_reading_a_frame_naming_a_class_refuses_it_and_the_pool_recovers(lying_store, tmp_path):
    _refused_and_replaced(lying_store, tmp_path, lambda task: lying_store.pool.run(task, 30))


def test_the_event_loop_reading_a_frame_naming_a_class_refuses_it_and_the_pool_recovers(lying_store, tmp_path):
    loop = asyncio.new_event_loop()
    try:
        _refused_and_replaced(
            lying_store, tmp_path, lambda task: loop.run_until_complete(lying_store.pool.run_async(task, 30))
        )
    finally:
        loop.close()


def test_a_warm_up_answered_with_a_frame_naming_a_class_fails_the_start(tmp_path, monkeypatch):
    """The warm-up's reader (a thread's, at start and after writes) refuses it too: the worker is killed, and a
    pool none of whose workers could start says why, at once."""
    monkeypatch.setattr(worker, "serve", serve_ready_naming_a_class)
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="no query worker could start: BrokenFrame: .*names posix.system"):
        ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    assert time.monotonic() - started < 10

"""Limits that protect the service: a timeout that stops the query's CPU work while other queries are answered,
a bounded queue (503 when overloaded), a maximum result size."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from service_support import SAMPLE, children, cpu_ticks, descendants, filmgraph_server, store_directory, wait_for

from filmgraph.api import create_app
from filmgraph.errors import Overloaded, QueryTimeout
from filmgraph.settings import Settings
from filmgraph.serving.serving_store import ServingStore
from filmgraph.store.evaluation import QueryTask

# Eight unconstrained patterns: a cross join of (quads)^8 rows, far beyond any timeout on any data.
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
QUICK = "ASK { ?s ?p ?o }"


@contextmanager
def loop_in_a_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own, as the server's is while REST routes run in other threads."""
    loop = asyncio.new_event_loop()
    running = threading.Thread(target=loop.run_forever, daemon=True)
    running.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        running.join(5)
        loop.close()


def worker_pids(supervisor_pid: int) -> set[int]:
    """The query workers: children of the forkserver, itself a child of the server process, which the supervisor
    (`filmgraph serve`) started."""
    return {pid for server in children(supervisor_pid) for child in children(server) for pid in children(child)}


def busy(pids: set[int], seconds: float = 0.5) -> set[int]:
    before = {pid: cpu_ticks(pid) for pid in pids}
    time.sleep(seconds)
    return {pid for pid in pids if None not in (before[pid], cpu_ticks(pid)) and cpu_ticks(pid) - before[pid] > 2}


def test_a_query_past_the_timeout_is_stopped_and_others_are_served_meanwhile(live_server):
    workers = worker_pids(live_server.pid)
    assert len(workers) == 2, descendants(live_server.pid)
    outcome: dict[str, httpx.Response] = {}
    slow = threading.Thread(
        target=lambda: outcome.setdefault(
            "slow", httpx.get(f"{live_server}/sparql", params={"query": ENDLESS}, timeout=30)
        )
    )
    started = time.monotonic()
    slow.start()
    burning = busy(workers)
    assert len(burning) == 1, "exactly one worker evaluates the long query"

    quick = httpx.get(f"{live_server}/sparql", params={"query": QUICK}, timeout=30)
    assert quick.status_code == 200 and quick.json()["boolean"] is True
    assert slow.is_alive(), "the quick query was answered while the long one was still running"

    slow.join(30)
    elapsed = time.monotonic() - started
    response = outcome["slow"]
    assert response.status_code == 503, response.text
    assert response.json()["title"] == "Query timed out" and response.headers["retry-after"]
    assert 1.5 < elapsed < 6

    (killed,) = burning
    deadline = time.monotonic() + 5
    while cpu_ticks(killed) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cpu_ticks(killed) is None, "the timed-out worker process is gone, so its CPU work stopped"
    wait_for(lambda: len(worker_pids(live_server.pid)) == 2)  # the pool's supervisor starts the replacement
    replacements = worker_pids(live_server.pid)
    assert len(replacements) == 2 and killed not in replacements
    time.sleep(1)  # the replacement opens the checkpoint first (milliseconds on disk)
    assert busy(replacements) == set(), "no process keeps computing the abandoned query"
    assert httpx.get(f"{live_server}/sparql", params={"query": QUICK}, timeout=30).status_code == 200


@pytest.fixture
def small_store(tmp_path: Path):
    """A serving store over the sample with one worker, a 2 s timeout and a queue of one."""
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=2, max_pending=1, max_result_bytes=600)
    store.load_file(SAMPLE, None)
    yield store
    store.close()


def test_a_full_queue_answers_503_at_once(small_store: ServingStore):
    errors: list[Exception] = []

    def run_endless() -> None:
        try:
            small_store.query(ENDLESS)
        except QueryTimeout as error:
            errors.append(error)

    slow = threading.Thread(target=run_endless)
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(Overloaded):
        small_store.query(QUICK)
    assert time.monotonic() - started < 0.5
    slow.join(10)
    assert len(errors) == 1
    assert small_store.query(QUICK).boolean is True  # the pool recovered


def test_a_result_larger_than_the_limit_is_refused_not_truncated(small_store: ServingStore):
    client = TestClient(create_app(Settings(store=small_store.path), small_store))
    large = client.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert large.status_code == 422
    assert "larger than 600 bytes" in large.json()["detail"]
    small = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2"})
    assert small.status_code == 200 and len(small.json()["results"]["bindings"]) == 2


def test_with_every_worker_busy_a_query_waits_its_turn(live_server):
    """Both workers run endless queries; a third query queues, and is answered once a worker is replaced."""
    endless = {"params": {"query": ENDLESS}, "timeout": 30}
    slow = [threading.Thread(target=httpx.get, args=(f"{live_server}/sparql",), kwargs=endless) for _ in range(2)]
    for each in slow:
        each.start()
    time.sleep(0.5)
    started = time.monotonic()
    # a query text of its own, so that no cached answer can short-cut the queue
    queued = httpx.get(f"{live_server}/sparql", params={"query": f"ASK {{ ?s ?p ?o }} # {time.time()}"}, timeout=30)
    waited = time.monotonic() - started
    for each in slow:
        each.join(30)
    assert queued.status_code == 200, queued.text
    assert queued.json()["boolean"] is True
    assert waited > 1.0, "it had to wait for a worker"


def test_a_cancelled_query_gives_its_worker_back(tmp_path):
    """If the waiting request is cancelled, its worker is replaced (work stopped), not lost from the pool."""

    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:
        before = set(store.pool.pids())

        async def cancel_soon() -> None:
            running = asyncio.ensure_future(store.pool.run_async(QueryTask(ENDLESS, "text/csv"), 30))
            await asyncio.sleep(0.3)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running

        asyncio.run(cancel_soon())
        assert store.query(QUICK, timeout=10).boolean is True  # a worker is there to answer
        assert not before & set(store.pool.pids())
    finally:
        store.close()


def test_queued_requests_on_the_event_loop_wait_their_turn_and_a_waiter_that_gives_up_loses_no_worker(tmp_path):
    """One worker, many concurrent requests from the event loop: each waits on a future for the worker (no thread
    per waiting request) and gets its own answer; a request whose wait times out is refused with 503, and the
    worker it never got is still there for the next one."""

    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:

        async def many() -> list[bytes]:
            await store.pool.run_async(QueryTask(QUICK, "text/csv"), 30)  # the worker opens the loaded checkpoint
            threads_before = threading.active_count()
            asks = [QueryTask(f"SELECT ({n} AS ?n) WHERE {{}}", "text/csv") for n in range(12)]
            done = await asyncio.gather(*(store.pool.run_async(task, 30) for task in asks))
            assert threading.active_count() == threads_before
            return [each.result.body for each in done]

        bodies = asyncio.run(many())
        assert [body.decode().split()[1] for body in bodies] == [str(n) for n in range(12)]

        async def impatient() -> None:
            blocker = asyncio.ensure_future(store.pool.run_async(QueryTask("ASK { ?s ?p ?o }", "text/csv"), 30))
            hog = asyncio.ensure_future(store.pool.run_async(QueryTask(ENDLESS, "text/csv"), 1.0))
            await blocker
            with pytest.raises(Overloaded):
                await store.pool.run_async(QueryTask(QUICK, "text/csv"), 0.3)  # the worker is busy with `hog`
            with pytest.raises(QueryTimeout):
                await hog

        asyncio.run(impatient())
        assert store.query(QUICK, timeout=10).boolean is True  # the replacement worker answers
        assert store.pool.pending == 0
    finally:
        store.close()


def test_opening_a_new_checkpoint_is_not_charged_to_the_query(tmp_path, monkeypatch):
    """After a write the worker reopens the store before the query (seconds in memory mode); that time must not
    push a quick query past its timeout, which would kill a healthy worker."""
    from filmgraph.serving import pool as pool_module  # noqa: PLC0415

    opening = pool_module.QueryPool._warm_up

    def slow_opening(pool, chosen):
        if pool.checkpoints.current is not None and chosen.generation != pool.checkpoints.current[0]:
            time.sleep(1.2)  # longer than the 1 s timeout below
        opening(pool, chosen)

    monkeypatch.setattr(pool_module.QueryPool, "_warm_up", slow_opening)
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=5)
    try:
        store.load_file(SAMPLE, None)
        workers = store.pool.pids()
        answered = asyncio.run(store.pool.run_async(QueryTask(QUICK, "text/csv"), 1.0))
        assert answered.result.body.strip().endswith(b"true")
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # a new generation: the thread path reopens too
        assert store.pool.run(QueryTask(QUICK, "text/csv"), 1.0).result.body.strip().endswith(b"true")
        assert store.pool.pids() == workers, "no worker was killed"
    finally:
        store.close()


def test_a_worker_handed_over_as_its_request_is_cancelled_goes_back_to_the_pool(tmp_path):


    store = ServingStore(tmp_path / "store", workers=1, query_timeout=5)
    store.load_file(SAMPLE, None)
    store.query(QUICK)  # the worker has opened the current checkpoint
    try:

        async def hand_over_and_cancel() -> None:
            busy = store.pool._take_or_queue(None)  # the only worker is busy elsewhere
            request = asyncio.ensure_future(store.pool.run_async(QueryTask(QUICK, "text/csv"), 5))
            await asyncio.sleep(0.05)  # the request waits for a worker
            store.pool._release(busy)  # handed to the waiting request ...
            request.cancel()  # ... which goes away in the same tick
            with pytest.raises(asyncio.CancelledError):
                await request

        asyncio.run(hand_over_and_cancel())
        assert store.pool.run(QueryTask(QUICK, "text/csv"), 1.0).result.body.strip().endswith(b"true")
        assert store.pool.pending == 0
    finally:
        store.close()


def test_while_the_loop_runs_a_thread_hands_its_query_to_it(tmp_path):
    """The server's loop watches the workers' reply pipes; a thread (a REST route in FastAPI's thread pool) must
    not read them behind its back, so its query is answered through that loop, with the thread's timeout."""

    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:
        with loop_in_a_thread() as loop:
            first = asyncio.run_coroutine_threadsafe(store.pool.run_async(QueryTask(QUICK, "text/csv"), 10), loop)
            assert first.result(10).result.body.strip().endswith(b"true")
            (watched,) = store.pool._workers
            assert watched.loop is loop, "the loop keeps watching the worker's replies"
            answers = [store.query(f"SELECT ({n} AS ?n) WHERE {{}}", timeout=10).rows[0]["n"].value for n in range(5)]
            assert answers == [str(n) for n in range(5)]
            assert watched.loop is loop and store.pool.pids() == [watched.process.pid], "same worker, same watch"
            with pytest.raises(QueryTimeout):
                store.pool.run(QueryTask(ENDLESS, "text/csv"), 0.5)
            assert store.query(QUICK, timeout=10).boolean is True  # through the loop, by the replacement
    finally:
        store.close()


def test_a_worker_that_dies_while_idle_is_replaced_before_the_next_query(tmp_path):
    """A worker killed from outside while idle: the supervisor sees its process end, drops it from the queue and
    starts another, so the next query is answered (it used to get a 502 and start the replacement itself)."""
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415

    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:

        async def scenario() -> bytes:
            await store.pool.run_async(QueryTask(QUICK, "text/csv"), 10)
            (victim,) = store.pool.pids()
            os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(0.3)  # the loop sees the pipe close while the worker is idle
            answered = (await store.pool.run_async(QueryTask(QUICK, "text/csv"), 10)).result.body
            assert victim not in store.pool.pids()
            assert store.pool.state()["alive"] == 1
            return answered

        assert asyncio.run(scenario()).strip().endswith(b"true")
    finally:
        store.close()


def test_a_thread_never_reads_a_worker_that_another_running_loop_watches(tmp_path):
    """A worker watched by a loop running in another thread, used by a thread whose `_home` loop is no longer
    running (several loops over time): that loop's reader must not take the thread's reply."""

    store = ServingStore(tmp_path / "store", workers=2, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:
        with loop_in_a_thread() as serving:
            asyncio.run_coroutine_threadsafe(store.pool.run_async(QueryTask(QUICK, "text/csv"), 10), serving).result(10)
            asyncio.run(store.pool.run_async(QueryTask(QUICK, "text/csv"), 10))  # another loop, now closed, is `_home`
            assert any(w.loop is serving for w in store.pool._workers), "the serving loop watches a worker"
            workers = store.pool.pids()
            for n in range(20):
                done = store.pool.run(QueryTask(f"SELECT ({n} AS ?n) WHERE {{}}", "text/csv"), 2)
                assert done.result.body.decode().split()[1] == str(n)
            assert store.pool.pids() == workers, "no healthy worker was killed"
    finally:
        store.close()


def test_threads_of_the_loops_own_executor_do_not_starve_the_warm_up_they_wait_for(tmp_path):
    """Threads of the loop's default executor (asyncio.to_thread) hand their queries to the loop; the warm-up
    after a write must not need a thread of that same executor, all of which are waiting for their answers."""
    import concurrent.futures  # noqa: PLC0415


    store = ServingStore(tmp_path / "store", workers=1, query_timeout=30)
    store.load_file(SAMPLE, None)
    try:

        async def scenario() -> list[bytes]:
            asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=2))
            await store.pool.run_async(QueryTask(QUICK, "text/csv"), 10)  # this loop is the pool's home
            store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")  # the next query opens a new checkpoint
            asks = [QueryTask(f"SELECT ({n} AS ?n) WHERE {{}}", "text/csv") for n in range(2)]
            done = await asyncio.gather(*(asyncio.to_thread(store.pool.run, task, 3) for task in asks))
            return [each.result.body for each in done]

        bodies = asyncio.run(scenario())
        assert [body.decode().split()[1] for body in bodies] == ["0", "1"]
        assert store.pool.pending == 0
    finally:
        store.close()


def server_process(supervisor_pid: int) -> int:
    """The process that serves HTTP: the supervisor's child that uvicorn spawned."""
    (server,) = [pid for pid in children(supervisor_pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    return server


def test_a_server_process_that_dies_is_replaced_and_the_service_answers_again(tmp_path: Path):
    """What happens after the inline lane's watchdog ends the server process (serving/inline.py)."""
    with filmgraph_server(store_directory(SAMPLE, tmp_path / "store"), "--workers", "1") as base:
        first = server_process(base.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        answered = None
        while time.monotonic() < deadline and answered is None:
            try:
                answered = httpx.get(f"{base}/sparql", params={"query": QUICK}, timeout=5)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200 and answered.json()["boolean"] is True
        assert server_process(base.pid) != first

"""Connection hygiene of a real `filmgraph serve` (issue 13, item 6): idle, slow and surplus connections are
closed, and SIGTERM stops the whole process tree within seconds even under load.

Every bound here is generous (a shared, slow machine): the assertions are "closed at all, well before the
failure mode" (never closed, or a 30 s stop), not timings.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_support import SAMPLE, ServerURL, cpu_ticks, descendants, filmgraph_server, store_directory, wait_for

# Eight unconstrained patterns over the sample's 20 quads: 20^8 rows, hours of work, so it runs until stopped.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(8)) + " }"
CLOSED_WITHIN_S = 15.0  # every deadline below is 1-2 s; this bounds the test, not the server


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A store of the server's own (one server process at a time may open a store)."""
    return store_directory(SAMPLE, tmp_path / "store")


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    """A server with short deadlines: 1 s idle, 2 s for headers, 2 s (+1 s per 16 KiB) for a body."""
    flags = ("--workers", "1", "--timeout-keep-alive", "1", "--header-timeout", "2", "--body-timeout", "2")
    with filmgraph_server(store_directory(SAMPLE, tmp_path_factory.mktemp("strict") / "store"), *flags) as base:
        yield base


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=CLOSED_WITHIN_S + 5)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _trickle(sock: socket.socket, head: bytes, interval: float = 0.5) -> tuple[bytes, float]:
    """Send `head`, then one byte per `interval` until the server closes; what it answered and after how long."""
    start = time.monotonic()
    sock.sendall(head)
    sock.settimeout(interval)
    received = b""
    while time.monotonic() - start < CLOSED_WITHIN_S:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            try:
                sock.send(b"x")
            except OSError:  # reset: closed
                break
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - start


def test_a_connection_that_sends_nothing_is_closed(strict_server: ServerURL) -> None:
    with _connect(strict_server) as sock:
        start = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - start < CLOSED_WITHIN_S


def test_a_connection_idle_after_a_response_is_closed(strict_server: ServerURL) -> None:
    with _connect(strict_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        start = time.monotonic()
        answer = _read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - start < CLOSED_WITHIN_S


def test_headers_sent_a_byte_at_a_time_are_cut_with_408(strict_server: ServerURL) -> None:
    with _connect(strict_server) as sock:
        answer, elapsed = _trickle(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert elapsed < CLOSED_WITHIN_S, "the slow client was never dropped"
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["status"] == 408


def test_a_trickling_body_is_cut(strict_server: ServerURL) -> None:
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 10000\r\n\r\nASK {}")  # fmt: skip
    with _connect(strict_server) as sock:
        answer, elapsed = _trickle(sock, head)
    assert elapsed < CLOSED_WITHIN_S, "the trickling body was never cut"
    assert not answer.startswith(b"HTTP/1.1 2")


def test_a_slow_but_steady_body_is_read(strict_server: ServerURL) -> None:
    """64 KiB in eight parts over ~3 s: beyond the 2 s grace, within its 2 s + 4 s allowance."""
    query = b"ASK {}" + b" " * (64 * 1024 - 6)
    parts = [query[i : i + 8192] for i in range(0, len(query), 8192)]

    def slowly() -> Iterator[bytes]:
        for part in parts:
            time.sleep(0.4)
            yield part

    headers = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json",
               "Content-Length": str(len(query))}  # fmt: skip
    response = httpx.post(strict_server + "/sparql", content=slowly(), headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


def test_headers_beyond_the_cap_are_refused_with_431(strict_server: ServerURL) -> None:
    """llhttp has no limit of its own on a request's headers (h11 had one): the protocol's cap, 64 KiB."""
    with _connect(strict_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70_000)  # never ends: only the cap stops it
        answer = _read_until_closed(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431")
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["status"] == 431


def test_headers_within_the_cap_and_pipelined_requests_are_answered(strict_server: ServerURL) -> None:
    """An 8 KB header passes; two requests sent at once are answered in order on the same connection."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    with _connect(strict_server) as sock:
        sock.sendall(request + request.replace(b"GET", b"HEAD", 1))
        answer = _read_until_closed(sock)  # closed after the keep-alive timeout, 1 s
    assert answer.count(b"HTTP/1.1 200") == 2, answer
    assert answer.index(b"HTTP/1.1 200") == 0
    assert answer.endswith(b"\r\n\r\n")  # the second answers HEAD: headers only


def _in_flight(base: str) -> socket.socket:
    """A connection whose request is in flight: its headers are in, its body is still to come."""
    sock = _connect(base)
    sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                 b"Content-Length: 10000\r\n\r\nASK {}")  # fmt: skip
    return sock


def test_connections_beyond_the_cap_all_in_flight_get_503_problem(store_dir: Path) -> None:
    flags = ("--workers", "1", "--max-connections", "3", "--timeout-keep-alive", "30", "--body-timeout", "30")
    with filmgraph_server(store_dir, *flags) as base:
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200
        held = [_in_flight(base) for _ in range(3)]
        try:
            wait_for(lambda: httpx.get(base + "/healthz", timeout=10).status_code == 503, seconds=CLOSED_WITHIN_S)
            busy = httpx.get(base + "/healthz", timeout=10)
            assert busy.status_code == 503
            assert busy.headers["content-type"] == "application/problem+json"
            assert busy.headers["retry-after"] == "1"
            assert busy.json()["status"] == 503
        finally:
            for sock in held:
                sock.close()
        wait_for(lambda: httpx.get(base + "/healthz", timeout=10).status_code == 200, seconds=CLOSED_WITHIN_S)
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200


def _hold_idle(base: str, count: int, stop: threading.Event) -> None:
    """Keep `count` connections open that never send a byte, reopening each as the server closes it (the flood)."""
    held = [_connect(base) for _ in range(count)]
    try:
        while not stop.is_set():
            closed, _, _ = select.select(held, [], [], 0.1)  # readable = EOF or reset: the server closed it
            for sock in closed:
                held.remove(sock)
                sock.close()
                held.append(_connect(base))
    finally:
        for sock in held:
            sock.close()


def test_idle_connections_beyond_the_cap_do_not_lock_out_requests(store_dir: Path) -> None:
    """30 idle connections against a cap of 20: the longest-idle is closed to make room, requests are served."""
    flags = ("--workers", "1", "--max-connections", "20", "--timeout-keep-alive", "1")
    with filmgraph_server(store_dir, *flags) as base:
        stop = threading.Event()
        flood = threading.Thread(target=_hold_idle, args=(base, 30, stop), daemon=True)
        flood.start()
        try:
            time.sleep(1)  # the flood is in place
            statuses: list[int] = []
            end = time.monotonic() + 6
            while time.monotonic() < end:
                statuses.append(httpx.get(base + "/healthz", timeout=10).status_code)
                time.sleep(0.05)
        finally:
            stop.set()
            flood.join(timeout=CLOSED_WITHIN_S)
        assert flood.is_alive() is False
        served = statuses.count(200)
        assert statuses and served >= 0.9 * len(statuses), f"{served} of {len(statuses)} answered 200: {statuses}"


def _runaway(base: str, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            httpx.post(base + "/sparql", data={"query": RUNAWAY}, timeout=60)
        except httpx.HTTPError:
            return


def test_sigterm_under_load_stops_the_whole_tree_within_seconds(store_dir: Path) -> None:
    flags = ("--workers", "2", "--query-timeout", "120", "--timeout-keep-alive", "60", "--shutdown-timeout", "2")
    with filmgraph_server(store_dir, *flags) as base:
        stop = threading.Event()
        load = [threading.Thread(target=_runaway, args=(base, stop), daemon=True) for _ in range(4)]
        for thread in load:
            thread.start()
        keep_alive = httpx.Client(timeout=10)
        assert keep_alive.get(base + "/healthz").status_code == 200
        idle = [_connect(base) for _ in range(20)]
        slow = _connect(base)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        wait_for(lambda: len(descendants(base.pid)) >= 3, seconds=30)  # server process + two query workers
        time.sleep(1)  # the runaways reach the workers
        tree = descendants(base.pid)
        assert len(tree) >= 3, tree
        try:
            start = time.monotonic()
            os.kill(base.pid, signal.SIGTERM)
            wait_for(lambda: cpu_ticks(base.pid) is None, seconds=30)
            took = time.monotonic() - start
            assert cpu_ticks(base.pid) is None, "the server did not stop within 30 s"
            assert took < 12, f"SIGTERM took {took:.1f} s"
            wait_for(lambda: all(cpu_ticks(pid) is None for pid in tree), seconds=5)
            assert [pid for pid in tree if cpu_ticks(pid) is not None] == []
        finally:
            stop.set()
            keep_alive.close()
            for sock in [*idle, slow]:
                sock.close()

"""Answers given at once by the HTTP protocol (`connections.GuardedHttpToolsProtocol`, issue 14): a request the
app can answer without an ASGI task is held until its body is in and answered in one write, framed as uvicorn
frames an ASGI answer; everything else runs the app as before.

The protocol is driven in process over a recording transport, with a small app that answers some requests at once
and the rest as ASGI, so that each test can see which path answered. `tests/test_sparql_protocol.py` checks, on a
live server, that filmgraph's own answers are the same by either path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.server import ServerState
from service_support import SAMPLE, TOKEN, ServerURL, filmgraph_server, store_directory

from filmgraph.api.connections import GuardedHttpToolsProtocol

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # uvicorn's protocols run on asyncio


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class HalfNowApp:
    """Answers `/now` at once (echoing the body), raises on `/raise`, streams `/stream`; the rest is ASGI."""

    def __init__(self) -> None:
        self.held: list[bytes] = []  # the bodies `answer_now` got
        self.asgi_bodies: list[bytes] = []  # the bodies the ASGI app read

    def takes_now(self, scope) -> bool:
        return scope["path"] in ("/now", "/raise", "/stream", "/declined")

    def answer_now(self, scope, body: bytes) -> Response | None:
        self.held.append(body)
        if scope["path"] == "/raise":
            raise RuntimeError("a bug")
        if scope["path"] == "/stream":
            return StreamingResponse(iter([b"one ", b"two"]), media_type="text/plain")
        if scope["path"] == "/declined":
            return None
        return PlainTextResponse(b"now:" + body, headers={"X-Path": "now"})

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.asgi_bodies.append(body)
        await PlainTextResponse(b"asgi:" + body)(scope, receive, send)


class Connection:
    """One connection of the protocol over a recording transport."""

    def __init__(self, app, access_log: bool = False) -> None:
        config = uvicorn.Config(app, http=GuardedHttpToolsProtocol, log_level="warning", access_log=access_log)
        config.load()
        state = ServerState()
        state.default_headers = [(b"date", b"Thu, 03 Dec 2026 15:00:00 GMT"), (b"server", b"uvicorn")]  # as uvicorn's
        self.protocol = GuardedHttpToolsProtocol(config, state, {}, _loop=asyncio.get_running_loop())
        self.transport = RecordingTransport()
        self.protocol.connection_made(self.transport)
        self.tasks_started = 0
        start = self.protocol.loop.create_task

        def counting(coroutine, **kwargs):
            self.tasks_started += 1
            return start(coroutine, **kwargs)

        self.protocol.loop = _LoopWith(self.protocol.loop, counting)

    def send(self, data: bytes) -> None:
        self.protocol.data_received(data)

    async def settle(self, ending: bytes = b"") -> bytes:
        """What was written once the loop has let the tasks run (until it ends with `ending`, if given, or has
        stopped growing), at most about 2 s."""
        written = b""
        for turn in range(200):
            await asyncio.sleep(0 if turn < 20 else 0.01)
            before, written = written, b"".join(self.transport.writes)
            if (written.endswith(ending) if ending else turn >= 20 and written == before and written):
                break
        return written


class _LoopWith:
    """The running loop with its `create_task` counted (the protocol starts every ASGI task through it)."""

    def __init__(self, loop, create_task) -> None:
        self._loop, self.create_task = loop, create_task

    def __getattr__(self, name):
        return getattr(self._loop, name)


def post(path: str, body: bytes, *extra: bytes) -> bytes:
    head = [f"POST {path} HTTP/1.1".encode(), b"Host: x", b"Content-Length: " + str(len(body)).encode(), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@pytest.mark.anyio
async def test_a_request_the_app_answers_at_once_gets_one_write_and_no_task() -> None:
    app = HalfNowApp()
    connection = Connection(app)
    connection.send(post("/now", b"hello"))
    assert connection.tasks_started == 0
    assert len(connection.transport.writes) == 1  # head and body in one write
    answer = await connection.settle()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\ndate: " in head and b"\r\nserver: uvicorn" in head  # uvicorn's default headers, as on ASGI answers
    assert b"\r\ncontent-length: 9" in head and b"\r\nx-path: now" in head.lower()
    assert body == b"now:hello"
    assert not connection.transport.closed  # keep-alive
    assert app.asgi_bodies == []


@pytest.mark.anyio
async def test_a_body_that_arrives_in_pieces_is_answered_once_whole() -> None:
    app = HalfNowApp()
    connection = Connection(app)
    request = post("/now", b"a body in two pieces")
    connection.send(request[:-8])
    assert connection.transport.writes == [] and connection.tasks_started == 0
    connection.send(request[-8:])
    assert (await connection.settle()).endswith(b"\r\n\r\nnow:a body in two pieces")
    assert app.held == [b"a body in two pieces"]


@pytest.mark.anyio
async def test_what_the_app_declines_runs_as_asgi_with_the_whole_body() -> None:
    app = HalfNowApp()
    connection = Connection(app)
    connection.send(post("/declined", b"xyz"))
    assert connection.tasks_started == 1
    assert (await connection.settle()).endswith(b"asgi:xyz")
    assert app.held == [b"xyz"] and app.asgi_bodies == [b"xyz"]


@pytest.mark.anyio
async def test_pipelined_requests_are_answered_in_order_by_either_path() -> None:
    app = HalfNowApp()
    connection = Connection(app)
    connection.send(post("/now", b"1") + post("/other", b"2") + post("/now", b"3"))
    answer = await connection.settle()
    bodies = [part.split(b"\r\n\r\n", 1)[1][:7] for part in answer.split(b"HTTP/1.1 200 OK\r\n")[1:]]
    assert bodies == [b"now:1", b"asgi:2", b"now:3"], answer
    assert app.asgi_bodies == [b"2"]


@pytest.mark.anyio
async def test_connection_close_is_honoured() -> None:
    connection = Connection(HalfNowApp())
    connection.send(post("/now", b"bye", b"Connection: close"))
    answer = await connection.settle()
    assert b"\r\nconnection: close\r\n" in answer
    assert connection.transport.closed


@pytest.mark.anyio
async def test_a_large_or_chunked_body_is_not_held() -> None:
    """uvicorn stops reading a large body until the app reads it, so such a request starts its task at once."""
    app = HalfNowApp()
    connection = Connection(app)
    large = b"x" * HIGH_WATER_LIMIT
    connection.send(post("/now", large)[: -len(large) + 10])
    assert connection.tasks_started == 1  # started before the body is in
    connection.send(large[10:])
    assert (await connection.settle()).endswith(b"asgi:" + large)
    chunked = Connection(app)
    chunked.send(b"POST /now HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    assert chunked.tasks_started == 1
    assert (await chunked.settle()).endswith(b"asgi:abc")
    assert app.held == []


@pytest.mark.anyio
async def test_an_exception_while_answering_at_once_is_a_logged_plain_500(caplog: pytest.LogCaptureFixture) -> None:
    connection = Connection(HalfNowApp())
    connection.protocol.logger.addHandler(caplog.handler)  # uvicorn's loggers do not propagate
    with caplog.at_level(logging.ERROR):
        connection.send(post("/raise", b""))
        answer = await connection.settle()
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert answer.endswith(b"\r\n\r\nInternal Server Error")
    assert "a bug" in caplog.text
    connection.send(post("/now", b"again"))  # the connection still answers
    assert (await connection.settle()).endswith(b"now:again")


@pytest.mark.anyio
async def test_a_streamed_answer_is_sent_by_a_task() -> None:
    connection = Connection(HalfNowApp())
    connection.send(post("/stream", b""))
    assert connection.tasks_started == 1
    answer = await connection.settle(ending=b"0\r\n\r\n")
    assert b"transfer-encoding: chunked" in answer and b"one " in answer and answer.endswith(b"0\r\n\r\n")


@pytest.mark.anyio
async def test_nothing_is_answered_at_once_while_the_access_log_is_on() -> None:
    """uvicorn's `send` writes the access log: with it on, every request takes that path."""
    app = HalfNowApp()
    connection = Connection(app, access_log=True)
    connection.send(post("/now", b"logged"))
    assert (await connection.settle()).endswith(b"asgi:logged")
    assert app.held == []


# --- filmgraph's own answers, by either path, on a live server ----------------------------------------------------
WRITE = {"Authorization": f"Bearer {TOKEN}"}
LOOKUP = "SELECT ?p ?o WHERE { <urn:test:now:s> ?p ?o }"
OWNED = "https://w3id.org/filmgraph/graph/inferred"
SPARQL_UPDATE = {"Content-Type": "application/sparql-update"}
# Each request is sent several times on one connection. A query's shape goes to a worker at first and is answered at
# once (the inline lane) from its fourth run on; an update's refusals, and with durability=process its commit, at
# once from the first; what needs more (LOAD, the Service Description) by the ASGI path every time.
REQUESTS = {
    "GET query": ("GET", "/sparql", {"params": {"query": LOOKUP}}),
    "form query as CSV": ("POST", "/sparql", {"data": {"query": LOOKUP}, "headers": {"Accept": "text/csv"}}),
    "sparql-query with format=": ("POST", "/sparql", {"content": LOOKUP, "params": {"format": "xml"},
                                                      "headers": {"Content-Type": "application/sparql-query"}}),
    "not acceptable": ("GET", "/sparql", {"params": {"query": LOOKUP}, "headers": {"Accept": "image/png"}}),
    "malformed query": ("GET", "/sparql", {"params": {"query": "SELECT ?x WHERE { ?x ?y }"}}),
    "query and update": ("POST", "/sparql", {"data": {"query": LOOKUP, "update": "CLEAR DEFAULT"}}),
    "unknown body type": ("POST", "/sparql", {"content": LOOKUP, "headers": {"Content-Type": "text/plain"}}),
    "update by GET": ("GET", "/sparql", {"params": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}),
    "update without the token": ("POST", "/sparql", {"content": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                                                     "headers": SPARQL_UPDATE}),
    "update with a wrong token": ("POST", "/sparql", {"content": "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                                                      "headers": {**SPARQL_UPDATE, "Authorization": "Bearer no"}}),
    "update with default-graph-uri": ("POST", "/sparql", {"data": {"update": "INSERT DATA { <urn:a> <urn:b> 1 }"},
                                                          "params": {"default-graph-uri": "urn:g"}, "headers": WRITE}),
    "update of an owned graph": ("POST", "/sparql", {"content": f"INSERT DATA {{ GRAPH <{OWNED}> {{ <urn:a> <urn:b> 1 }} }}",
                                                     "headers": {**SPARQL_UPDATE, **WRITE}}),
    "malformed update": ("POST", "/sparql", {"content": "INSERT DATA { <urn:a> <urn:b> }",
                                             "headers": {**SPARQL_UPDATE, **WRITE}}),
    "LOAD": ("POST", "/sparql", {"content": "LOAD <http://127.0.0.1:9/x>", "headers": {**SPARQL_UPDATE, **WRITE}}),
    "small update": ("POST", "/sparql", {"content": "INSERT DATA { GRAPH <urn:test:now> { <urn:test:now:s> <urn:p> 1 } }",
                                         "headers": {**SPARQL_UPDATE, **WRITE}}),
}  # fmt: skip
COMPARED_HEADERS = ("content-type", "content-length", "vary", "www-authenticate", "allow", "retry-after", "connection")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerURL, ServerURL]]:
    """Two servers over the same data, with durability=process: one answering at once what it can, one with the
    access log on, which answers everything through ASGI."""
    stores = [store_directory(SAMPLE, tmp_path_factory.mktemp(f"answer-now-{n}") / "store") for n in (1, 2)]
    process = {"FILMGRAPH_DURABILITY": "process"}
    with filmgraph_server(stores[0], "--workers", "1", settings=process) as at_once:
        with filmgraph_server(stores[1], "--workers", "1", "--access-log", settings=process) as through_asgi:
            yield at_once, through_asgi


def _answer(response: httpx.Response) -> tuple:
    return response.status_code, tuple(response.headers.get(name) for name in COMPARED_HEADERS), response.content


def _answers(base: str, name: str) -> list[tuple]:
    method, path, arguments = REQUESTS[name]
    with httpx.Client(base_url=base, timeout=30) as client:
        return [_answer(client.request(method, path, **arguments)) for _ in range(6)]


@pytest.mark.parametrize("name", REQUESTS)
def test_a_request_gets_the_same_answer_whichever_path_answers_it(servers, name) -> None:
    at_once, through_asgi = servers
    answers = _answers(at_once, name)
    assert answers == _answers(through_asgi, name)
    assert answers[0][0] < 500, answers[0]


def test_a_read_sees_each_write_answered_at_once(servers) -> None:
    insert = "INSERT DATA {{ GRAPH <urn:test:now:seen> {{ <urn:test:now:seen> <urn:p> {n} }} }}"
    ask = "ASK {{ GRAPH <urn:test:now:seen> {{ <urn:test:now:seen> <urn:p> {n} }} }}"
    with httpx.Client(base_url=servers[0], timeout=30) as client:
        for n in range(12):
            written = client.post("/sparql", content=insert.format(n=n), headers={**SPARQL_UPDATE, **WRITE})
            assert written.status_code == 204, written.text
            seen = client.get("/sparql", params={"query": ask.format(n=n)}, headers={"Accept": "application/json"})
            assert seen.json()["boolean"] is True, (n, seen.text)

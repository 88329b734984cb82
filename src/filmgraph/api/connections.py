"""Connection hygiene at the HTTP protocol level: deadlines for reading a request, a cap on its headers, a cap on
connections.

uvicorn closes a keep-alive connection only after a response (`timeout_keep_alive`), and has no deadline of its
own for reading a request's headers or body: a connection that never sends a byte, sends headers a byte a second
(slowloris) or trickles its body holds its socket for ever (issue 13: 300 slow and 1,500 idle connections were
never closed). This protocol, uvicorn's httptools one (llhttp, in C: under h11, parsing a small request and writing
its answer in Python cost more than the write it carried, issue 14) plus three timers and a cap, closes them:

- a new connection that sends nothing is closed after `timeout_keep_alive`, like one idle after a response;
- the request line and headers must arrive within `header_timeout` of their first byte (else 408, closed), and
  within `max_header_bytes` (else 431, closed: llhttp has no limit of its own, h11 had one);
- the body must arrive within `body_timeout` plus one second per `min_body_rate` bytes received (a large upload
  on a slow but steady link passes, a trickle is cut); time while the app does not read (flow control) is free;
- a request arriving beyond `max_connections` open connections closes the longest-idle one (no request in
  flight: fresh, or between keep-alive requests) to make room, as nginx does, so that one client's idle sockets
  cannot lock the others out of the shared cap; only when every connection has a request in flight is a request
  answered 503 problem+json with `Retry-After`, and its connection closed, so that a flood cannot exhaust the
  workers (idle sockets beyond the cap last at most `timeout_keep_alive`).

The parser's callbacks say which part of a request is being read (`_reading`); after each chunk of data `_track`
starts, keeps or stops the deadline of that part. A request that arrives in one chunk, as nearly all do, never
arms a timer.

It also answers **at once** what the app can answer at once (`AnswersNow`: a SPARQL query the store has cached or
the inline lane knows to be cheap, a small INSERT DATA committed on the loop): such a request waits, with no ASGI
task, until its body is in, and is answered from the parser's callback in one write. An ASGI request costs a
task, its scope's wrappers, Starlette's request and response objects and several turns of the event loop: about
as much Python as the write itself (issue 14). What the app declines, or a request that may not wait for its body
(over `HIGH_WATER_LIMIT`, chunked, `Expect: 100-continue`), starts its ASGI task as uvicorn would. Off while the
access log is on: uvicorn's `send` writes it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Scope
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from .problems import PROBLEM_MEDIA_TYPE

BUSY_RETRY_AFTER_S = 1


def _problem_bytes(status: int, title: str, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


def _raw_response(status: int, reason: str, detail: str) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection, for when there is no request to answer yet."""
    body = _problem_bytes(status, reason, detail)
    head = [f"HTTP/1.1 {status} {reason}".encode(), b"content-type: " + PROBLEM_MEDIA_TYPE.encode(),
            b"content-length: " + str(len(body)).encode(), b"connection: close"]  # fmt: skip
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits of `GuardedHttpToolsProtocol`; set on uvicorn's `Config` as `connection_limits` (it travels,
    pickled with the config, to the server process)."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    min_body_rate: float = 16 * 1024
    max_connections: int = 256
    max_header_bytes: int = 64 * 1024


HEADERS, BODY = "headers", "body"  # the parts of a request a deadline times


class AnswersNow(Protocol):
    """An app that can answer some requests without an ASGI task (`FilmgraphApp`)."""

    def takes_now(self, scope: Scope) -> bool:
        """Whether to hold the request until its body is in, for `answer_now`: a cheap test of the scope."""

    def answer_now(self, scope: Scope, body: bytes) -> Response | None:
        """The answer, if it can be given at once; None: run the app."""


def _answering_now(app: Any) -> AnswersNow | None:
    """The app under uvicorn's wrappers (its proxy-headers middleware), if it answers at once. Skipping them is
    safe: they change the scope's client and scheme, which no answer given at once depends on."""
    while app is not None and not hasattr(app, "answer_now"):
        app = getattr(app, "app", None)
    return app


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with read deadlines, a header cap and a connection cap."""

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any], _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits: ConnectionLimits = getattr(config, "connection_limits", ConnectionLimits())
        self.header_timeout, self.body_timeout = limits.header_timeout, limits.body_timeout
        self.min_body_rate, self.max_connections = limits.min_body_rate, limits.max_connections
        self.max_header_bytes = limits.max_header_bytes
        self._now = None if self.access_log else _answering_now(self.app)
        self._held: RequestResponseCycle | None = None  # a request held for `answer_now` until its body is in
        self.app = self._capped(self.app)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading: str | None = None  # the part the parser is in (its callbacks say): HEADERS, BODY or None
        self._header_bytes = 0  # received since the request began, while its headers are not complete
        self._phase: str | None = None  # the part the deadline times
        self._phase_start = 0.0
        self._body_bytes = 0
        self._last_check = 0.0
        self._idle_since = time.monotonic()

    # --- the connection cap ---------------------------------------------------------------------------------------
    def _capped(self, app):
        async def capped(scope, receive, send) -> None:
            if scope["type"] == "http" and not self._make_room():
                self.logger.warning("more than %d connections: answered 503", self.max_connections)
                await _send_busy(send)
                return
            await app(scope, receive, send)

        return capped

    def _is_idle(self) -> bool:
        """No request in flight (uvicorn's own test in `shutdown`): closing it loses no one's answer."""
        return not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete)

    def _make_room(self) -> bool:
        """Within the cap, or back within it by closing the longest-idle other connection; False if all are busy.

        Called when a request arrives, not on accept: evicting on accept lets a client that reopens what is closed
        churn through every idle slot, a fresh legitimate connection's included, before it can send its request.
        """
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_) <= self.max_connections:
            return True
        idle = [c for c in open_ if c is not self and isinstance(c, GuardedHttpToolsProtocol) and c._is_idle()]
        if not idle:
            return False
        min(idle, key=lambda c: c._idle_since).transport.close()
        return True

    # --- what the parser is reading (its callbacks, during `data_received`) ----------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading, self._header_bytes = HEADERS, 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._reading = BODY

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading = None
        if self._held is not None and not self._held.more_body:
            self._answer_held()

    # --- answers given at once ------------------------------------------------------------------------------------
    def _start_asgi_task(self, cycle: RequestResponseCycle, app) -> None:
        if app is self.app and self._may_hold(cycle):
            self._held = cycle
            if not cycle.more_body:  # a pipelined request, read whole while the one before it was answered
                self._answer_held()
            return
        super()._start_asgi_task(cycle, app)

    def _may_hold(self, cycle: RequestResponseCycle) -> bool:
        """A request that can wait for its body without a task: small (uvicorn stops reading beyond
        HIGH_WATER_LIMIT, for the app to read), not chunked, no 100-continue to send first."""
        if self._now is None or cycle.waiting_for_100_continue or not self._now.takes_now(cycle.scope):
            return False
        length = 0
        for name, value in cycle.scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else HIGH_WATER_LIMIT
            elif name == b"transfer-encoding":
                return False
        return length < HIGH_WATER_LIMIT

    def _answer_held(self) -> None:
        cycle, self._held = self._held, None
        if cycle.disconnected or self.transport.is_closing():
            return
        if not self._make_room():  # the capped app answers 503
            super()._start_asgi_task(cycle, self.app)
            return
        try:
            response = self._now.answer_now(cycle.scope, bytes(cycle.body))
        except Exception as error:  # noqa: BLE001 - as uvicorn answers an app's exception: logged, a plain 500
            self.logger.error("Exception in ASGI application\n", exc_info=error)
            super()._start_asgi_task(cycle, _internal_error)
            return
        if response is None:
            super()._start_asgi_task(cycle, self.app)
        elif isinstance(response, StreamingResponse) or self.flow.write_paused:
            super()._start_asgi_task(cycle, response)  # a Starlette response is an ASGI app: its task streams it
        else:
            self._write_now(cycle, response)

    def _write_now(self, cycle: RequestResponseCycle, response: Response) -> None:
        """The answer in one write, framed as uvicorn's `send` frames it (its default headers, then the
        response's; `connection: close` when the connection ends), and the cycle completed as `send` completes it."""
        content = [STATUS_LINE[response.status_code]]
        for name, value in (*self.server_state.default_headers, *response.raw_headers):
            if name == b"connection" and b"close" in value.lower():
                cycle.keep_alive = False
            content += [name, b": ", value, b"\r\n"]
        if not cycle.keep_alive:
            content.append(b"connection: close\r\n")
        content += [b"\r\n", response.body]
        self.transport.write(b"".join(content))
        cycle.response_started = cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()

    # --- deadlines ------------------------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn arms the keep-alive timer only after a response: a connection that never speaks would stay.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._held = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._reading is HEADERS:
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
                detail = f"the request line and headers are longer than {self.max_header_bytes} bytes"
                self.transport.write(_raw_response(431, "Request Header Fields Too Large", detail))
                self.transport.close()
        self._track(len(data))

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._idle_since = time.monotonic()
        self._track(0)  # a pipelined request may have started reading

    def _track(self, received: int) -> None:
        """Start, keep or stop the deadline of the part the request is in after these bytes."""
        phase = None if self.transport.is_closing() else self._reading
        if phase is None:
            self._disarm()
            return
        if phase is not self._phase:
            self._disarm()
            self._phase, self._phase_start, self._body_bytes = phase, time.monotonic(), 0
            self._last_check = self._phase_start
            self._arm(min(self._allowed() - self._phase_start, 1.0))  # checked each second: see _check_deadline
        elif phase is BODY:
            self._body_bytes += received

    def _allowed(self) -> float:
        if self._phase is HEADERS:
            return self._phase_start + self.header_timeout
        return self._phase_start + self.body_timeout + self._body_bytes / self.min_body_rate

    def _arm(self, delay: float) -> None:
        self._deadline = self.loop.call_later(max(delay, 0.05), self._check_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _check_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self._phase is None:
            return
        now = time.monotonic()
        if self.flow.read_paused:  # the app is not reading: that second does not count against the client
            self._phase_start += now - self._last_check
        self._last_check = now
        if now < self._allowed():
            self._arm(min(self._allowed() - now, 1.0))
            return
        if self._phase is HEADERS:
            detail = f"the request line and headers did not arrive within {self.header_timeout:g} s"
            self.transport.write(_raw_response(408, "Request Timeout", detail))
        else:
            self.logger.info("a request body arrived too slowly: connection closed")
        self._phase = None
        self.transport.close()


async def _internal_error(scope, receive, send) -> None:
    """Starlette's answer to an unexpected exception, for one raised while answering at once."""
    await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)


async def _send_busy(send) -> None:
    detail = "the server has too many open connections; retry shortly"
    body = _problem_bytes(503, "Service Unavailable", detail)
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               (b"retry-after", str(BUSY_RETRY_AFTER_S).encode()), (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})

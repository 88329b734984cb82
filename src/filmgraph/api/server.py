"""Run the app under uvicorn: a supervisor process owns the socket and keeps one server process running.

The server process (the app, the serving store, its query workers and inline lane) may end itself: the inline
lane's watchdog exits it when an inline query outlives the timeout, the only way to stop pyoxigraph (see
serving/inline.py). uvicorn's supervisor then starts a new one on the same socket, and the service answers again
once it has opened the store. One server process: the query workers give the parallelism (see architecture.md).

Connections are read by `connections.GuardedHttpToolsProtocol` (deadlines, a cap). On SIGTERM requests in flight get
`shutdown_timeout` seconds; the supervisor then waits a little longer for the server process and kills what is
left of its process tree, so that a stop takes seconds whatever the load (issue 13: it took 30 s).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ..settings import Settings
from ..serving.serving_store import open_serving_store
from ..store import Store
from .app import create_app
from .connections import ConnectionLimits, GuardedHttpToolsProtocol

SETTINGS_VARIABLE = "FILMGRAPH_SERVE_SETTINGS"  # the settings, flags included, handed to the server process
STOP_MARGIN_S = 3.0  # beyond shutdown_timeout, for the app to close the store and its workers to exit
ANSWER_MARGIN_S = 0.5  # within shutdown_timeout, for a query in flight refused (503) to send that answer


def serve(settings: Settings, *, access_log: bool = False) -> int:
    """Serve until interrupted; the exit status (non-zero when the server process could not start)."""
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    config = uvicorn.Config(
        f"{__name__}:serving_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=1,
        http=GuardedHttpToolsProtocol,
        timeout_keep_alive=settings.timeout_keep_alive,  # type: ignore[arg-type]  # a float works
        timeout_graceful_shutdown=settings.shutdown_timeout,  # type: ignore[arg-type]
        access_log=access_log,
        log_level="info",
    )
    config.connection_limits = ConnectionLimits(  # type: ignore[attr-defined]  # read by GuardedHttpToolsProtocol
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        min_body_rate=settings.min_body_rate,
        max_connections=settings.max_connections,
    )
    supervisor = BoundedSupervisor(config, [config.bind_socket()], settings.shutdown_timeout + STOP_MARGIN_S)
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


class BoundedSupervisor(Multiprocess):
    """uvicorn's supervisor, but a stop waits at most `stop_within` seconds for the server process, then kills it
    and every process it started (query workers would otherwise outlive it, orphaned)."""

    def __init__(self, config: uvicorn.Config, sockets: list, stop_within: float) -> None:
        super().__init__(config, sockets)
        self.stop_within = stop_within
        self._tree: list[tuple[int, str]] = []

    def terminate_all(self) -> None:
        # Taken before the signal: once the server process is gone its children are no longer found under it.
        self._tree = [found for process in self.processes if process.pid for found in _descendants(process.pid)]
        super().terminate_all()

    def join_all(self) -> None:
        for process in self.processes:
            process.process.join(self.stop_within)
            if process.process.is_alive():
                process.kill()
                process.process.join()
        for pid, started in self._tree:
            if _start_time(pid) == started:  # still the same process (pids are reused)
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _on_stop_signal(loop: asyncio.AbstractEventLoop, store: Store, within: float) -> None:
    """Wrap uvicorn's SIGTERM/SIGINT handler (installed before the app starts) so that the store stops taking
    queries when shutdown begins: uvicorn cancels requests still running after `shutdown_timeout` (a plain-text
    500) and closes the store only after that. Scheduled on the loop: a signal handler may run mid-query."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # not uvicorn's (not the main thread): nothing to wrap

        def handler(number: int, frame, previous=previous) -> None:
            loop.call_soon_threadsafe(store.stop_taking_queries, within)
            previous(number, frame)

        signal.signal(sig, handler)


def _start_time(pid: int) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every process under `pid`, from /proc (none where there is no /proc)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append((int(entry.name), fields[19]))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += [child for child, _ in children]
    return found


def serving_app() -> FastAPI:
    """The app of one server process, with the serving store, closed when the process shuts down."""
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    store = open_serving_store(settings)

    @asynccontextmanager
    async def close_store(app: FastAPI) -> AsyncIterator[None]:
        _on_stop_signal(asyncio.get_running_loop(), store, max(settings.shutdown_timeout - ANSWER_MARGIN_S, 0.0))
        yield
        store.close()

    return create_app(settings, store, lifespan=close_store)

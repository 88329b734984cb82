"""Run the app under uvicorn: a supervisor process owns the socket and keeps one server process running.

The server process (the app, the serving store, its query workers and inline lane) may end itself: the inline
lane's watchdog exits it when an inline query outlives the timeout, the only way to stop pyoxigraph (see
store/inline.py). uvicorn's supervisor then starts a new one on the same socket, and the service answers again
once it has opened the store. One server process: the query workers give the parallelism (see architecture.md).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ..settings import Settings
from ..store import open_store
from .app import create_app

SETTINGS_VARIABLE = "FILMGRAPH_SERVE_SETTINGS"  # the settings, flags included, handed to the server process


def serve(settings: Settings, *, access_log: bool = False) -> int:
    """Serve until interrupted; the exit status (non-zero when the server process could not start)."""
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json()
    config = uvicorn.Config(
        f"{__name__}:serving_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=1,
        access_log=access_log,
        log_level="info",
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return STARTUP_FAILURE if failed else 0


def serving_app() -> FastAPI:
    """The app of one server process, with the serving store, closed when the process shuts down."""
    settings = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    store = open_store(settings, serving=True)

    @asynccontextmanager
    async def close_store(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    return create_app(settings, store, lifespan=close_store)

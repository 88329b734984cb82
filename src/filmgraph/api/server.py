"""Run the app under uvicorn with the serving store (query workers, limits, cache), and close it on the way out."""

from __future__ import annotations

import uvicorn

from ..settings import Settings
from ..store import open_store
from .app import create_app


def serve(settings: Settings, *, access_log: bool = False) -> None:
    """Serve until interrupted. One uvicorn process: the query workers give the parallelism (see architecture.md)."""
    store = open_store(settings, serving=True)
    try:
        app = create_app(settings, store)
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=access_log, log_level="info")
    finally:
        store.close()

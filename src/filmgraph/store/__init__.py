"""Stores: the `Store` interface and its implementations."""

from __future__ import annotations

from ..settings import Settings
from .base import Dataset, HealthCheck, QueryResult, SerializedResult, Store
from .embedded import EmbeddedStore

__all__ = ["Dataset", "EmbeddedStore", "HealthCheck", "QueryResult", "SerializedResult", "Store", "open_store"]


def open_store(settings: Settings, *, serving: bool = False) -> Store:
    """The store the settings name: embedded on disk by default, or a remote SPARQL endpoint.

    `serving=True` (the server) gives the embedded store its query worker processes, timeout and result cache;
    without it queries run in the calling process (CLI, build, notebooks)."""
    if settings.backend == "remote":
        from .remote import RemoteStore  # noqa: PLC0415 - only users of the remote backend need httpx

        return RemoteStore.from_settings(settings)
    return EmbeddedStore.from_settings(settings, serving=serving)

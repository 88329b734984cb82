"""Stores: the `Store` interface and its implementations."""

from __future__ import annotations

from ..settings import Settings
from .base import Dataset, HealthCheck, QueryResult, SerializedResult, Store
from .embedded import EmbeddedStore

__all__ = ["Dataset", "EmbeddedStore", "HealthCheck", "QueryResult", "SerializedResult", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name: embedded on disk by default, or a remote SPARQL endpoint. Queries run in the
    calling process (CLI, build, notebooks); the server wraps the embedded store in `filmgraph.serving`."""
    if settings.backend == "remote":
        from .remote import RemoteStore  # noqa: PLC0415 - only users of the remote backend need httpx

        return RemoteStore.from_settings(settings)
    return EmbeddedStore.from_settings(settings)

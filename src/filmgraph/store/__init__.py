"""Stores: the `Store` interface and its implementations."""

from __future__ import annotations

from ..settings import Settings
from .base import Dataset, QueryResult, SerializedResult, Store
from .embedded import EmbeddedStore

__all__ = ["Dataset", "EmbeddedStore", "QueryResult", "SerializedResult", "Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """The store the settings name: embedded on disk by default, or a remote SPARQL endpoint."""
    if settings.backend == "remote":
        from .remote import RemoteStore  # noqa: PLC0415 - only users of the remote backend need httpx

        return RemoteStore.from_settings(settings)
    return EmbeddedStore(settings.store)

"""Values derived from a store's content, computed once per version of it (the one generation-keyed cache).

The search index, the ontology's rules and the VoID description are each read with queries that take long enough
to matter on every request; they stay valid until the store's content moves on. `version` is what says so: the
store's generation by default, or something narrower a caller knows (the ontology graph's size for the rules).
The conditional-GET validators (api/conditional.py) are kept here too: a new one starts from the last (`kept`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from .base import Store

T = TypeVar("T")


class PerVersion(Generic[T]):
    """One value per store object, recomputed when the version it was computed for is no longer the store's.

    Thread-safe: routes read it from the thread pool. Two threads meeting a new version may both compute (the
    computation runs outside the lock, so a slow index never blocks a reader of another store); either result is
    right for that version. Keyed weakly, so a closed and dropped store takes its value with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: WeakKeyDictionary[Store, tuple[Hashable, T]] = WeakKeyDictionary()

    def get(self, store: Store, compute: Callable[[], T], version: Hashable | None = None) -> T:
        """The value for `store` at `version` (its generation unless given), computed now if not kept."""
        version = store.generation if version is None else version
        with self._lock:
            kept = self._values.get(store)
        if kept is not None and kept[0] == version:
            return kept[1]
        value = compute()
        with self._lock:
            self._values[store] = (version, value)
        return value

    def kept(self, store: Store) -> T | None:
        """The value last computed for `store`, whatever its version (for a computation that follows on from it)."""
        with self._lock:
            kept = self._values.get(store)
        return None if kept is None else kept[1]

"""A small LRU cache of serialised query results.

The graph changes rarely (a build, an occasional write), so the same query over the same generation gives the same
bytes; keys carry the store's generation, so a write makes every older entry unreachable (and it ages out).
Not a `PerVersion` value (store/derived.py), which keeps one value per store: this keeps many results per
generation, one per query, bounded by an LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping

from ..store.base import Dataset, SerializedResult, Term


def cache_key(
    generation: int, sparql: str, media_types: str, bindings: Mapping[str, Term] | None, dataset: Dataset | None
) -> Hashable:
    bound = tuple(sorted((name, str(term)) for name, term in (bindings or {}).items()))
    graphs = (tuple(dataset.default_graphs), tuple(dataset.named_graphs)) if dataset else None
    return (generation, sparql, media_types, bound, graphs)


class ResultCache:
    """Thread-safe LRU of serialised results; spooled ones (read once) and those above `max_entry_bytes` are not kept."""

    def __init__(self, size: int, max_entry_bytes: int = 2**20) -> None:
        self.size, self.max_entry_bytes = size, max_entry_bytes
        self._entries: OrderedDict[Hashable, SerializedResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> SerializedResult | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: SerializedResult) -> None:
        if self.size <= 0 or value.spooled is not None or len(value.body) > self.max_entry_bytes:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

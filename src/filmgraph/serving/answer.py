"""A result as the serving engine answered it: the result, and what the engine measured on the way.

The result is the `Store` interface's `SerializedResult`, handed on as it is to the HTTP response (and the cache);
the measurements are the serving engine's own business: the inline lane and the copy choice learn from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.base import SerializedResult


@dataclass(frozen=True)
class Answer:
    """`seconds`: the engine's CPU time (evaluation and serialisation), where it was measured; `copy`: the copy of
    the graph a worker answered from (`memory` or `disk`); `cold` when that was the first query on a newly opened
    checkpoint (its files read cold)."""

    result: SerializedResult
    seconds: float | None = None
    copy: str | None = None
    cold: bool = False

"""Evaluate one query against a pyoxigraph store into engine-serialised bytes.

Shared by the in-process path of `EmbeddedStore` and the worker processes, so that both answer identically.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store as OxStore,
    Variable,
)

from ..errors import BadRequest, NotAcceptable, QuerySyntaxError, ResultTooLarge
from .base import Dataset, QueryKind, Term


@dataclass(frozen=True)
class QueryTask:
    """Everything a worker needs to answer a query (picklable: pyoxigraph terms pickle)."""

    sparql: str
    media_types: str
    bindings: Mapping[str, Term] | None = None
    dataset: Dataset | None = None
    max_bytes: int = 256 * 2**20


@dataclass
class Evaluated:
    kind: QueryKind
    media_type: str
    body: bytes = field(repr=False)


class _LimitedBuffer(io.RawIOBase):
    """A sink that stops serialisation (and so lazy evaluation) once `limit` bytes were written."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.buffer += data
        if len(self.buffer) > self.limit:
            raise ResultTooLarge(f"the result is larger than {self.limit} bytes; page it with LIMIT and OFFSET")
        return len(data)


def run_query(store: OxStore, sparql: str, bindings: Mapping[str, Term] | None, dataset: Dataset | None):
    """Start a query: the default graph is the union of all graphs unless the dataset names graphs."""
    kwargs: dict = {"use_default_graph_as_union": True}
    if dataset and dataset.default_graphs:
        kwargs = {"default_graph": [NamedNode(g) for g in dataset.default_graphs]}
    if dataset and dataset.named_graphs:
        kwargs["named_graphs"] = [NamedNode(g) for g in dataset.named_graphs]
    if bindings:
        kwargs["substitutions"] = {Variable(name): term for name, term in bindings.items()}
    try:
        return store.query(sparql, **kwargs)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from error
    except (RuntimeError, ValueError) as error:  # e.g. a substituted variable the SELECT does not project
        raise BadRequest(str(error)) from error


def result_kind(result) -> QueryKind:
    if isinstance(result, QueryBoolean):
        return "ask"
    return "select" if isinstance(result, QuerySolutions) else "construct"


def pick_format(kind: QueryKind, media_types: str) -> QueryResultsFormat | RdfFormat:
    """The first media type of the comma-separated list that can carry this kind of result."""
    factory = RdfFormat.from_media_type if kind == "construct" else QueryResultsFormat.from_media_type
    for media_type in media_types.split(","):
        chosen = factory(media_type.split(";")[0].strip())
        if chosen is not None:
            return chosen
    raise NotAcceptable(f"cannot serialise a {kind.upper()} result as {media_types}")


def evaluate(store: OxStore, task: QueryTask) -> Evaluated:
    result = run_query(store, task.sparql, task.bindings, task.dataset)
    kind = result_kind(result)
    chosen = pick_format(kind, task.media_types)
    sink = _LimitedBuffer(task.max_bytes)
    try:
        result.serialize(sink, format=chosen)
    except OSError as error:  # pyoxigraph wraps errors raised by the sink
        if isinstance(error.__cause__, ResultTooLarge) or "larger than" in str(error):
            raise ResultTooLarge(str(error)) from error
        raise
    return Evaluated(kind, chosen.media_type, bytes(sink.buffer))

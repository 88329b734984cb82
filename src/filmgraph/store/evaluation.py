"""Evaluate one query against a pyoxigraph store into engine-serialised bytes.

Shared by the in-process path of `EmbeddedStore` and the worker processes, so that both answer identically.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pyoxigraph import QueryResultsFormat, RdfFormat, Store as OxStore, Variable

from ..errors import BadRequest, FilmgraphError, NotAcceptable, NotExecutable, QuerySyntaxError, ResultTooLarge
from ..formats import PLAIN_TEXT
from ..sparql_text import ENGINE_MAX_DEPTH, check_depth
from .base import Dataset, QueryKind, SerializedResult, Term, result_kind
from .dataset import engine_dataset
from .unsendable import releasing_frames


@dataclass(frozen=True)
class QueryTask:
    """Everything a worker needs to answer a query (picklable: pyoxigraph terms pickle).

    With a `spool_dir`, a result larger than `spill_bytes` is written to a file there instead of being sent
    back through the pipe, so the server can stream it from disk and the worker is free at once."""

    sparql: str
    media_types: str
    bindings: Mapping[str, Term] | None = None
    dataset: Dataset | None = None
    max_bytes: int = 256 * 2**20
    spool_dir: str | None = None
    spill_bytes: int = 2**20
    merge_union: bool = False  # evaluate on a merged view (store/merged.py): its default graph is the union
    copy: str = "memory"  # the copy a worker answers from, when it has both (choice.py); else the disk


class Overrun(Exception):
    """A result still being written at the evaluation's deadline: the engine stops (see `evaluate`)."""


class _Sink(io.RawIOBase):
    """Where the engine writes a result: memory, spilling to a spool file past `spill_at` bytes. It stops
    serialisation (and so lazy evaluation) once `limit` bytes were written, or once this thread's CPU time
    (`time.thread_time()`) has passed `deadline`."""

    def __init__(self, limit: int, spool_dir: str | None, spill_at: int, deadline: float | None = None) -> None:
        self.limit, self.spool_dir, self.spill_at, self.deadline = limit, spool_dir, spill_at, deadline
        self.buffer = bytearray()
        self.size = 0
        self.file: IO[bytes] | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.size += len(data)
        if self.size > self.limit:
            raise ResultTooLarge(f"the result is larger than {self.limit} bytes; page it with LIMIT and OFFSET")
        if self.deadline is not None and time.thread_time() > self.deadline:
            raise Overrun
        if self.file is not None:
            self.file.write(data)
            return len(data)
        self.buffer += data
        if self.spool_dir is not None and len(self.buffer) > self.spill_at:
            self.file = tempfile.NamedTemporaryFile(dir=self.spool_dir, prefix="result-", delete=False)
            self.file.write(self.buffer)
            self.buffer = bytearray()
        return len(data)

    def finish(self, kind: QueryKind, media_type: str) -> SerializedResult:
        if self.file is None:
            return SerializedResult(kind, media_type, bytes(self.buffer))
        self.file.close()
        return SerializedResult(kind, media_type, b"", self.file.name)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            Path(self.file.name).unlink(missing_ok=True)


def run_query(
    store: OxStore, sparql: str, bindings: Mapping[str, Term] | None, dataset: Dataset | None, *, merged: bool = False
):
    """Start a query over the dataset `store/dataset.py` chooses (the union of all graphs unless the protocol's
    dataset, the query's FROM or the endpoint's mode name another). `merged`: `store` is a merged view."""
    check_depth(sparql, ENGINE_MAX_DEPTH)  # every caller (CLI, named queries, workers): the engine would crash
    chosen = engine_dataset(sparql, dataset)
    kwargs = chosen.keywords(merged=merged)
    if bindings:
        kwargs["substitutions"] = {Variable(name): term for name, term in bindings.items()}
    try:
        return store.query(chosen.sparql, **kwargs)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from error
    except ValueError as error:  # a value the engine cannot take
        raise BadRequest(str(error)) from error
    except RuntimeError as error:  # well-formed, not executable: an unknown function, a binding not projected
        raise NotExecutable(str(error)) from error
    except OSError as error:  # an ASK is evaluated at once: its SERVICE failing, say
        raise evaluation_failure(error) from error


def evaluation_failure(error: Exception) -> FilmgraphError:
    """What the engine failing while it evaluates means to the client (evaluation is lazy: it fails while the
    result is read or written): the result limit reached, else a well-formed query it cannot carry out (409)."""
    if isinstance(error.__cause__, ResultTooLarge) or "larger than" in str(error):
        return ResultTooLarge(str(error))
    return NotExecutable(f"the query failed during evaluation: {error}")


# pyoxigraph reads text/plain as CSV for solutions, but it is offered as N-Triples for graphs (as in RDF 1.0): a
# client accepting only text/plain gets a graph, or 406 for solutions, never CSV under another name.
NOT_FOR_SOLUTIONS = frozenset({PLAIN_TEXT})


def pick_format(kind: QueryKind, media_types: str) -> QueryResultsFormat | RdfFormat:
    """The first media type of the comma-separated list that can carry this kind of result."""
    factory = RdfFormat.from_media_type if kind == "construct" else QueryResultsFormat.from_media_type
    for media_type in media_types.split(","):
        media_type = media_type.split(";")[0].strip().lower()
        if kind != "construct" and media_type in NOT_FOR_SOLUTIONS:
            continue
        chosen = factory(media_type)
        if chosen is not None:
            return chosen
    raise NotAcceptable(f"cannot serialise a {kind.upper()} result as {media_types}")


@releasing_frames  # an error leaves with the engine's solutions dropped here, whichever thread it reaches
def evaluate(store: OxStore, task: QueryTask, deadline: float | None = None) -> SerializedResult:
    """Evaluate and serialise. With a `deadline` (`time.thread_time()`: CPU, which the engine's evaluation in this
    thread counts towards, not the wall clock, which on a busy machine measures the neighbours), a result still
    being written then raises `Overrun`: the engine writes every 8 KB, so only a query that produces nothing for
    long runs on past it."""
    result = run_query(store, task.sparql, task.bindings, task.dataset, merged=task.merge_union)
    kind = result_kind(result)
    chosen = pick_format(kind, task.media_types)
    sink = _Sink(task.max_bytes, task.spool_dir, task.spill_bytes, deadline)
    try:
        result.serialize(sink, format=chosen)
    except ResultTooLarge:
        sink.discard()
        raise
    except (OSError, ValueError, RuntimeError) as error:  # evaluation is lazy: the engine fails while writing
        sink.discard()
        raise evaluation_failure(error) from error
    except BaseException:
        sink.discard()
        raise
    return sink.finish(kind, chosen.media_type)

"""The query worker process: answers queries from a read-only checkpoint of the store.

pyoxigraph cannot cancel a running query, so each query runs here; the pool kills the whole process when the
query outlives its timeout, which really stops the CPU work. Replies are plain tuples of bytes and strings.
"""

from __future__ import annotations

import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

from pyoxigraph import RdfFormat, Store as OxStore

from ..errors import FilmgraphError
from .evaluation import QueryTask, evaluate

# A request: (generation, checkpoint directory, task). A reply: ("ok", kind, media type, body, spool file or None)
# or ("error", FilmgraphError subclass name, message). A request without a task only opens the checkpoint (a
# warm-up, which may take seconds in memory mode): its reply is ("ready",).
Request = tuple[int, str, QueryTask | None]


def open_checkpoint(checkpoint: str, mode: str) -> OxStore:
    """Open a checkpoint read-only, or copy it into an in-memory store (faster queries, slower start)."""
    on_disk = OxStore.read_only(checkpoint)
    if mode != "memory":
        return on_disk
    in_memory = OxStore()
    with tempfile.TemporaryDirectory(prefix="filmgraph-worker-") as scratch:
        dump = Path(scratch) / "dump.nq"
        on_disk.dump(str(dump), format=RdfFormat.N_QUADS)
        in_memory.bulk_load(path=str(dump), format=RdfFormat.N_QUADS)
    return in_memory


def answer(store: OxStore, task: QueryTask) -> tuple:
    try:
        done = evaluate(store, task)
    except FilmgraphError as error:
        return ("error", type(error).__name__, str(error))
    except (OSError, ValueError, TypeError, RuntimeError) as error:  # the engine refusing this query
        return ("error", "BadRequest", str(error))
    except Exception as error:  # noqa: BLE001 - the process boundary: report a bug as a 500, keep the worker
        return ("error", "FilmgraphError", f"{type(error).__name__}: {error}")
    return ("ok", done.kind, done.media_type, done.body, done.spooled)


def serve(conn: Connection, mode: str) -> None:
    """The worker's loop: reopen the checkpoint when the generation changes, then answer."""
    generation, store = -1, None
    while True:
        try:
            request: Request = conn.recv()
        except (EOFError, OSError):
            return  # the pool is gone
        wanted, checkpoint, task = request
        if wanted != generation or store is None:
            store, generation = None, -1
            try:
                store, generation = open_checkpoint(checkpoint, mode), wanted
            except OSError as error:
                conn.send(("error", "BackendUnavailable", f"cannot open checkpoint: {error}"))
                continue
        conn.send(("ready",) if task is None else answer(store, task))

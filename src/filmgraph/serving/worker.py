"""The query worker process: answers queries from a read-only checkpoint of the store.

pyoxigraph cannot cancel a running query, so each query runs here; the pool kills the whole process when the
query outlives its timeout, which really stops the CPU work. Replies are plain tuples of bytes and strings, and
the server reads them as nothing else (`plain_values`).
"""

from __future__ import annotations

import io
import os
import pickle
import select
import struct
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import NoReturn

from pyoxigraph import Store as OxStore

from ..errors import BackendUnavailable, BadRequest, FilmgraphError
from ..store.evaluation import QueryTask, evaluate
from .choice import Copy
from .memory_copy import WRITE_PAUSE_SECONDS, Backoff, copy_of_checkpoint, wait_for_pause, wants_copy
from ..store.merged import MergedViews

# A request: (generation, checkpoint directory, task, the copy to answer from: `memory` or `disk`, see `Copies`).
# A reply: ("ok", kind, media type, body, spool file or None, engine seconds, copy answered from, whether it was the
# first query on a newly opened checkpoint) or ("error", module, qualified name of the error's FilmgraphError class,
# message): see `error_reply` and `raised_error`. A request without a task only opens the checkpoint (a warm-up,
# which may take seconds in memory mode): its reply is ("ready",). A checkpoint that cannot be opened (any
# exception: pyoxigraph raises RuntimeError for a missing file) is replied ("unopened", message); the worker lives on.
Request = tuple[int, str, QueryTask | None, Copy | None]

# Frames on the raw pipes: a 4-byte length, then a pickle. No multiprocessing framing: the server reads replies on
# its event loop from a permanently watched descriptor, chunk by chunk (64 KB reads: larger ones cost an mmap).
_HEADER = struct.Struct("<I")
CHUNK = 2**16


def write_frame(fd: int, message: tuple) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


class BrokenFrame(BackendUnavailable):
    """A reply the server will not read: no pickle of a tuple, or one naming a class or function. The worker that
    sent it is no longer trusted: the pool kills and replaces it, as one that died, and the query gets a 502."""


class _PlainValues(pickle.Unpickler):
    """Reads a reply, which holds plain values only (strings, bytes, numbers, booleans, None, in tuples: the
    replies above `Request`). Plain `pickle.loads` imports and calls whatever a frame names (`os.system`), so a
    worker subverted through the engine could run code in the server: here every name is refused, before anything
    is made."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(f"it names {module}.{name}: refused")


def plain_values(data: bytes) -> tuple:
    """A reply frame's tuple; BrokenFrame for a frame that names anything, does not decode, or holds no tuple."""
    try:
        message = _PlainValues(io.BytesIO(data)).load()
    except Exception as error:  # noqa: BLE001 - whatever a corrupt pickle raises (EOFError, ValueError, ...)
        problem = str(error) or type(error).__name__
    else:
        if isinstance(message, tuple):
            return message
        problem = f"a {type(message).__name__}, not a tuple"
    raise BrokenFrame(f"a query worker's reply cannot be read ({problem}); the worker is replaced")


class Frames:
    """Reassembles frames from chunks read off a pipe, read back by `loads`: by default a reply's plain values
    (`plain_values`); the worker reads its requests, which carry classes, with `pickle.loads`."""

    def __init__(self, loads: Callable[[bytes], tuple] = plain_values) -> None:
        self._data = bytearray()
        self._loads = loads

    def feed(self, chunk: bytes) -> None:
        self._data += chunk

    def pop(self) -> tuple | None:
        """The next complete message (always a tuple), or None while it is still incomplete. A frame that cannot
        be read stays, so nothing more is read from that pipe: its worker is replaced."""
        if len(self._data) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack_from(self._data)
        end = _HEADER.size + size
        if len(self._data) < end:
            return None
        message = self._loads(bytes(memoryview(self._data)[_HEADER.size : end]))  # one copy: BytesIO shares it
        del self._data[:end]
        return message


def read_frame(fd: int, frames: Frames, deadline: float | None = None) -> tuple:
    """Wait for a whole message on `fd` (blocking or not): EOFError when the other side is gone, TimeoutError
    once `deadline` (`time.monotonic()`) has passed."""
    while (message := frames.pop()) is None:
        if deadline is not None and not _readable(fd, deadline - time.monotonic()):
            raise TimeoutError
        try:
            chunk = os.read(fd, CHUNK)
        except BlockingIOError:  # a descriptor an event loop made non-blocking
            _readable(fd, None)
            continue
        if not chunk:
            raise EOFError("the pipe was closed")
        frames.feed(chunk)
    return message


def error_reply(error: FilmgraphError) -> tuple:
    """The reply that carries `error` to the server: its class by module and qualified name, so that a subclass
    defined anywhere (`push.PushMismatch`) arrives as itself, with its status, not as its name's namesake."""
    kind = type(error)
    return ("error", kind.__module__, kind.__qualname__, str(error))


def raised_error(module: str, qualname: str, message: str) -> FilmgraphError:
    """The error an error reply names, made again in the server. Only a FilmgraphError subclass of a module already
    loaded here is made: a frame never imports a module nor makes anything else (a name that resolves to another
    class, or to none, is a plain FilmgraphError, a 500)."""
    found: object = sys.modules.get(module)
    for part in qualname.split(".") if found is not None else ():
        if part.startswith("_"):  # no way out of a class through dunders (`__init__.__globals__`)
            found = None
            break
        found = getattr(found, part, None)
    if not (isinstance(found, type) and issubclass(found, FilmgraphError)):
        found = FilmgraphError
    return found(message)


def _readable(fd: int, seconds: float | None) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if seconds is None else max(0.0, seconds) * 1000))


class StoreWrites:
    """The store's generation as the pool publishes it (shared memory, `QueryPool.written`), for a copy built after a
    write: it waits until writes have paused, and is not built at all once a write has left its checkpoint behind.
    While the inline lane answers every read, a worker is asked nothing after its last query: its copy of that
    checkpoint, built a second later, was stale already (in the mixed benchmark each worker spent a dump and a load,
    ~0.6 s of CPU at 100k quads, on such a copy), and its next query moves it to a newer checkpoint anyway."""

    def __init__(self, shared) -> None:
        self._shared = shared  # a RawValue("q")
        self._seen, self._at = shared.value, time.monotonic()

    def last_write(self) -> float:
        """When this worker last saw the generation move (monotonic: the same clock as the server's)."""
        if (now := self._shared.value) != self._seen:
            self._seen, self._at = now, time.monotonic()
        return self._at

    def newer_than(self, generation: int) -> bool:
        return self._shared.value > generation


class Copies:
    """A worker's copies of one generation: the read-only checkpoint (opened from the directory `checkpoint`), and
    (memory and auto modes) an in-memory copy once built. The server says which answers a query (the request's
    copy, from choice.py); until the copy exists, the disk does."""

    def __init__(self, disk: OxStore, checkpoint: str, memory: OxStore | None = None, generation: int = -1) -> None:
        self.disk, self.checkpoint, self.memory, self.generation = disk, checkpoint, memory, generation
        self.retired = False  # set when the worker has moved on to a newer generation

    def attach_memory(self, memory: OxStore) -> None:
        self.memory = memory

    def pick(self, wanted: str) -> tuple[str, OxStore]:
        """The copy's name and store for a query that asks for `wanted`."""
        memory = self.memory  # read once: the copy may be attached meanwhile
        if wanted == "memory" and memory is not None:
            return "memory", memory
        return "disk", self.disk


_BUILDING = threading.Lock()  # one in-memory copy built at a time in a worker: bounded memory during bursts of writes


def open_checkpoint(
    checkpoint: str,
    mode: str,
    *,
    background: bool = False,
    generation: int = -1,
    writes: StoreWrites | None = None,
) -> OxStore | Copies:
    """Open a checkpoint (of `generation`) read-only. In `memory` mode, and in `auto` mode for a small enough graph
    (see memory_copy.py), also copy it into memory (faster on most queries, seconds to build at 1M quads), keeping
    both for the server to choose from (choice.py). With `background`, the copy is built on a thread while the
    worker answers from disk, so a write never makes queries wait for it, once `writes` have paused (and not if one
    has left the checkpoint behind). A copy that fails is retried on a thread, with backoff, while the disk
    answers."""
    on_disk = OxStore.read_only(checkpoint)
    if mode == "disk":
        return on_disk
    copies = Copies(on_disk, checkpoint, generation=generation)
    if background or not _try_memory_copy(copies, mode):
        threading.Thread(
            target=_build_memory_copy, args=(copies, mode, None, WRITE_PAUSE_SECONDS if background else 0.0, writes),
            daemon=True, name="memory-copy",
        ).start()
    return copies


def _build_memory_copy(
    copies: Copies, mode: str, backoff: Backoff | None = None, pause: float = 0.0, writes: StoreWrites | None = None
) -> None:
    """Build the copy, retrying with backoff until it is built or the worker has moved to a newer generation. A
    copy after a write waits `pause` seconds first, from the checkpoint's opening or the latest write the worker
    heard of (`writes`), whichever is later: in a burst of writes the worker moves on before (and copies nothing),
    and answers from the checkpoint on disk meanwhile. A checkpoint a write has left behind is not copied."""
    backoff = backoff or Backoff()
    opened = time.monotonic()
    since = (lambda: opened) if writes is None else (lambda: max(opened, writes.last_write()))
    wait_for_pause(since, pause, lambda: copies.retired)
    if writes is not None and writes.newer_than(copies.generation):
        return  # stale before it is built: the worker's next query moves it on, and its copy is built then
    while not copies.retired and not _try_memory_copy(copies, mode):
        backoff.sleep(lambda: copies.retired)


def _try_memory_copy(copies: Copies, mode: str) -> bool:
    """One attempt, from the checkpoint's shared dump (memory_copy.py); False when it failed (and is worth
    retrying). Any failure, MemoryError included: a thread that died of one used to leave the worker on the disk for
    good."""
    with _BUILDING:
        if copies.retired:
            return True  # a newer generation came before this copy could start: nothing left to do
        try:
            if wants_copy(copies.disk, mode):
                copies.attach_memory(copy_of_checkpoint(copies.checkpoint, copies.disk))
        except Exception as error:  # noqa: BLE001 - the copy is an optimisation: the disk answers meanwhile
            if not copies.retired:  # a retired checkpoint may be removed under us: that is no failure
                print(f"filmgraph worker: no in-memory copy yet ({type(error).__name__}: {error})", file=sys.stderr)
                return False
    return True


_MERGED = MergedViews()  # this worker's merged view of its generation, built when a task asks for it


def answer(store: OxStore | Copies, task: QueryTask, generation: int = 0, copy: Copy = "memory") -> tuple:
    """The reply to `task`, from the copy named (`memory` or `disk`) if this worker has it."""
    if task.merge_union:  # from the disk checkpoint: a copy of its own (merged.py)
        base = store.disk if isinstance(store, Copies) else store
        used, source = "disk", _MERGED.of(base, generation)
    else:
        used, source = store.pick(copy) if isinstance(store, Copies) else ("disk", store)
    started = time.thread_time()  # CPU: on a busy machine wall time says more about the neighbours
    try:
        done = evaluate(source, task)
    except FilmgraphError as error:
        return error_reply(error)
    except (OSError, ValueError, TypeError, RuntimeError) as error:  # the engine refusing this query
        return error_reply(BadRequest(str(error)))
    except Exception as error:  # noqa: BLE001 - the process boundary: report a bug as a 500, keep the worker
        return error_reply(FilmgraphError(f"{type(error).__name__}: {error}"))
    seconds = time.thread_time() - started
    return ("ok", done.kind, done.media_type, done.body, done.spooled, seconds, used)


def serve(requests: Connection, replies: Connection, mode: str, store_generation=None) -> None:
    """The worker's loop: reopen the checkpoint when the generation changes, then answer. `store_generation`: the
    store's, shared by the pool (`StoreWrites`)."""
    writes = StoreWrites(store_generation) if store_generation is not None else None
    generation, store, cold = -1, None, False
    # Requests carry classes (QueryTask, Dataset, pyoxigraph terms), and only the server, this process's parent,
    # holds the other end of their pipe: they are read with plain pickle
    inbox, outbox, frames = requests.fileno(), replies.fileno(), Frames(pickle.loads)
    while True:
        try:
            request: Request = read_frame(inbox, frames)
        except (EOFError, OSError):
            return  # the pool is gone
        wanted, checkpoint, task, copy = request
        if wanted != generation or store is None:
            if isinstance(store, Copies):
                store.retired = True
            first = generation == -1  # the first open, at start or respawn: the pool waits for it (warm-up)
            store, generation = None, -1
            _MERGED.forget()
            try:
                opened = open_checkpoint(checkpoint, mode, background=not first, generation=wanted, writes=writes)
                store, generation = opened, wanted
            except Exception as error:  # noqa: BLE001 - report, never die: the pool retries with the current one
                write_frame(outbox, ("unopened", f"cannot open checkpoint {wanted}: {type(error).__name__}: {error}"))
                continue
            cold = True
        if task is None:
            write_frame(outbox, ("ready",))
            continue
        reply = answer(store, task, generation, copy)
        if reply[0] == "ok":  # the first query on a new checkpoint reads its files cold: the lane weighs its time
            reply = (*reply, cold)  # accordingly (inline.py)
        cold = False
        write_frame(outbox, reply)

"""A pool of query worker processes with a hard timeout and a bounded queue.

Why processes: pyoxigraph cannot cancel a query from Python, so a timed-out query's process is killed (its CPU
work stops at once) and replaced, while the other workers keep answering. Why a bound: past `max_pending`
queued or running queries the service answers 503 at once instead of piling up work it cannot finish.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from .. import errors
from ..errors import BackendUnavailable, FilmgraphError, Overloaded, QueryTimeout
from . import worker
from .evaluation import Evaluated, QueryTask

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["filmgraph.store.worker"])


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    generation: int = field(default=-1)


class QueryPool:
    """`size` worker processes answering `QueryTask`s over the checkpoint set by `set_checkpoint`."""

    def __init__(self, size: int, mode: str = "disk", max_pending: int = 64) -> None:
        self.size, self.mode, self.max_pending = size, mode, max_pending
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._pending = 0
        self._checkpoint: tuple[int, str] | None = None
        self._closed = False
        self._waiting = ThreadPoolExecutor(max_workers=max_pending, thread_name_prefix="filmgraph-queue")

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers and let them open the current checkpoint together before any query comes."""
        spawned = [self._spawn() for _ in range(self.size)]
        for each in spawned:
            self._send_warm_up(each)
        for each in spawned:
            self._finish_warm_up(each)
            self._idle.put(each)

    def _send_warm_up(self, chosen: _Worker) -> int:
        generation, path = self._checkpoint
        chosen.conn.send((generation, path, None))
        return generation

    def _finish_warm_up(self, chosen: _Worker, generation: int | None = None) -> None:
        reply = chosen.conn.recv()
        if reply[0] != "ready":
            _unpack(reply)  # raises the worker's error
        chosen.generation = self._checkpoint[0] if generation is None else generation

    def _warm_up(self, chosen: _Worker) -> None:
        """Open the current checkpoint before a query is timed: loading is not the query's time."""
        if self._checkpoint is not None and chosen.generation != self._checkpoint[0]:
            self._finish_warm_up(chosen, self._send_warm_up(chosen))

    def _spawn(self) -> _Worker:
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=worker.serve, args=(child, self.mode), daemon=True, name="filmgraph-query")
        process.start()
        child.close()
        spawned = _Worker(process, parent)
        with self._lock:
            self._workers.add(spawned)
        return spawned

    def _kill(self, dead: _Worker) -> None:
        dead.process.kill()
        dead.process.join(5)
        dead.conn.close()
        with self._lock:
            self._workers.discard(dead)

    def _replace(self, dead: _Worker) -> None:
        """Kill a worker and start its successor in the background (it may take seconds to load)."""
        self._kill(dead)
        if not self._closed:
            threading.Thread(target=self._respawn, args=(self._spawn(),), daemon=True).start()

    def _respawn(self, fresh: _Worker) -> None:
        try:
            self._warm_up(fresh)
        except (EOFError, OSError, FilmgraphError):
            self._kill(fresh)  # the pool is one worker short until the next replacement
            return
        self._idle.put(fresh)

    def _ready(self, chosen: _Worker) -> None:
        """Warm a worker up before dispatch; a worker that cannot load is replaced and the query refused."""
        try:
            self._warm_up(chosen)
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died while loading ({error}); it was restarted") from None
        except FilmgraphError:
            self._idle.put(chosen)
            raise

    def close(self) -> None:
        self._closed = True
        self._waiting.shutdown(wait=False, cancel_futures=True)
        for each in list(self._workers):
            self._kill(each)

    # --- state -----------------------------------------------------------------------------------------
    def set_checkpoint(self, generation: int, path: str) -> None:
        """Queries dispatched from now on read this checkpoint (workers reopen it lazily)."""
        self._checkpoint = (generation, path)

    def generations_in_use(self) -> set[int]:
        with self._lock:
            return {w.generation for w in self._workers if w.generation >= 0}

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.process.pid for w in self._workers if w.process.pid is not None)

    @property
    def pending(self) -> int:
        return self._pending

    # --- queries ---------------------------------------------------------------------------------------
    def run(self, task: QueryTask, timeout: float) -> Evaluated:
        """Answer `task` in a worker; raise QueryTimeout (worker killed) or Overloaded (queue full/no worker)."""
        with self._lock:
            if self._pending >= self.max_pending:
                raise Overloaded(f"{self._pending} queries are already queued or running; retry later")
            self._pending += 1
        try:
            return self._dispatch(task, timeout)
        finally:
            with self._lock:
                self._pending -= 1

    async def run_async(self, task: QueryTask, timeout: float) -> Evaluated:
        """`run` for the event loop: with a worker free, wait on its pipe without a thread hop; else queue."""
        try:
            chosen = self._idle.get_nowait()
        except queue.Empty:
            # Queue in a thread of our own pool, sized to the queue bound (not asyncio's few default threads).
            return await asyncio.get_running_loop().run_in_executor(self._waiting, self.run, task, timeout)
        with self._lock:
            self._pending += 1
        try:
            return await self._dispatch_async(chosen, task, timeout)
        finally:
            with self._lock:
                self._pending -= 1

    async def _dispatch_async(self, chosen: _Worker, task: QueryTask, timeout: float) -> Evaluated:
        if self._checkpoint is None or self._closed:
            self._idle.put(chosen)
            raise BackendUnavailable("the query workers are not running")
        loop = asyncio.get_running_loop()
        if chosen.generation != self._checkpoint[0]:
            warming = loop.run_in_executor(self._waiting, self._ready, chosen)
            try:
                await asyncio.shield(warming)
            except asyncio.CancelledError:  # let the warm-up finish, then give the worker back
                warming.add_done_callback(lambda done: done.exception() or self._idle.put(chosen))
                raise
        generation, path = self._checkpoint
        chosen.generation = generation
        readable = loop.create_future()
        fd = chosen.conn.fileno()
        try:
            chosen.conn.send((generation, path, task))
            loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
            try:
                await asyncio.wait_for(readable, timeout)
            finally:
                loop.remove_reader(fd)
                # uvloop leaves a watched fd non-blocking; a large reply would then break off with EAGAIN.
                os.set_blocking(fd, True)
            reply = chosen.conn.recv()
        except TimeoutError:
            self._replace(chosen)  # SIGKILL and a fork from the forkserver: milliseconds
            raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from None
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died ({error or 'no reply'}); it was restarted") from None
        except asyncio.CancelledError:  # the request went away: stop its work rather than lose the worker
            self._replace(chosen)
            raise
        self._idle.put(chosen)
        return _unpack(reply)

    def _dispatch(self, task: QueryTask, timeout: float) -> Evaluated:
        if self._checkpoint is None or self._closed:
            raise BackendUnavailable("the query workers are not running")
        started = time.monotonic()
        try:
            chosen = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise Overloaded(f"no query worker became free within {timeout:g} s; retry later") from None
        queued = time.monotonic() - started
        self._ready(chosen)
        generation, path = self._checkpoint
        chosen.generation = generation
        try:
            chosen.conn.send((generation, path, task))
            if not chosen.conn.poll(max(timeout - queued, 0.0)):
                self._replace(chosen)
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            reply = chosen.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died ({error or 'no reply'}); it was restarted") from None
        self._idle.put(chosen)
        return _unpack(reply)


def _unpack(reply: tuple) -> Evaluated:
    if reply[0] == "ok":
        _, kind, media_type, body, spooled = reply
        return Evaluated(kind, media_type, body, spooled)
    _, name, message = reply
    error_type = getattr(errors, name, errors.BadRequest)
    if not (isinstance(error_type, type) and issubclass(error_type, FilmgraphError)):
        error_type = errors.BadRequest
    raise error_type(message)

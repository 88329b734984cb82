"""A pool of query worker processes with a hard timeout and a bounded queue.

Why processes: pyoxigraph cannot cancel a query from Python, so a timed-out query's process is killed (its CPU
work stops at once) and replaced, while the other workers keep answering. Why a bound: past `max_pending`
queued or running queries the service answers 503 at once instead of piling up work it cannot finish.

Requests from the event loop never leave it: they wait for a worker on a future, and each worker's reply pipe is
watched by the loop for as long as the loop uses that worker (no registration, no system call beyond the read
and the write per query), so a cheap query costs the server one pipe round trip and no thread hand-off. Threads
(REST lookups in FastAPI's thread pool) hand their query to that loop while it runs; without a running loop
(scripts, the CLI) they use the workers with blocking reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from .. import errors
from ..errors import BackendUnavailable, FilmgraphError, Overloaded, QueryTimeout
from . import worker
from .evaluation import Evaluated, QueryTask
from .worker import CHUNK, Frames, read_frame, write_frame

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["filmgraph.store.worker"])


@dataclass(eq=False)
class _Worker:
    """A worker process and the server's ends of its two pipes. While an event loop watches the reply pipe,
    `loop` is that loop and `reply` the future of the query in flight."""

    process: BaseProcess
    requests: Connection
    replies: Connection
    generation: int = field(default=-1)
    frames: Frames = field(default_factory=Frames)
    loop: asyncio.AbstractEventLoop | None = None
    loop_thread: int = 0
    reply: asyncio.Future | None = None

    @property
    def reply_fd(self) -> int:
        return self.replies.fileno()


_TIMED_OUT = object()


class _ThreadWaiter:
    """A thread waiting for a free worker; one that gave up (timed out) refuses a late offer."""

    def __init__(self) -> None:
        self._event, self._lock = threading.Event(), threading.Lock()
        self._worker: _Worker | None = None
        self._abandoned = False

    def offer(self, free: _Worker) -> bool:
        with self._lock:
            if self._abandoned:
                return False
            self._worker = free
        self._event.set()
        return True

    def wait(self, timeout: float) -> _Worker | None:
        self._event.wait(timeout)
        with self._lock:
            self._abandoned = self._worker is None
            return self._worker


class _LoopWaiter:
    """A coroutine waiting for a free worker on a future of its event loop; a worker offered after the
    coroutine gave up (timeout, cancellation) goes back to the pool."""

    def __init__(self, loop: asyncio.AbstractEventLoop, give_back) -> None:
        self.loop, self.future, self._give_back = loop, loop.create_future(), give_back
        self._thread = threading.get_ident()

    def offer(self, free: _Worker) -> bool:
        if self.future.done():
            return False
        if threading.get_ident() == self._thread:
            self._deliver(free)
        else:
            self.loop.call_soon_threadsafe(self._deliver, free)
        return True

    def _deliver(self, free: _Worker) -> None:
        if self.future.done():
            self._give_back(free)
        else:
            self.future.set_result(free)


def _expire(reply: asyncio.Future) -> None:
    if not reply.done():
        reply.set_result(_TIMED_OUT)


def _on_reply_readable(chosen: _Worker) -> None:
    """The loop's reader on a worker's reply pipe: collect chunks, hand a whole reply to the query waiting."""
    try:
        chunk = os.read(chosen.reply_fd, CHUNK)
    except BlockingIOError:
        return
    except OSError:
        chunk = b""
    if not chunk:  # the worker is gone: stop watching, fail the query in flight (it is replaced)
        _unwatch(chosen)
        if chosen.reply is not None and not chosen.reply.done():
            chosen.reply.set_exception(EOFError("the worker closed its pipe"))
        return
    chosen.frames.feed(chunk)
    message = chosen.frames.pop()
    if message is not None and chosen.reply is not None and not chosen.reply.done():
        chosen.reply.set_result(message)


def _watch(loop: asyncio.AbstractEventLoop, chosen: _Worker) -> None:
    """Let `loop` read this worker's replies from now on (once per worker and loop, not per query)."""
    if chosen.loop is loop:
        return
    _unwatch(chosen)
    os.set_blocking(chosen.reply_fd, False)
    loop.add_reader(chosen.reply_fd, _on_reply_readable, chosen)
    chosen.loop, chosen.loop_thread = loop, threading.get_ident()


def _unwatch(chosen: _Worker) -> None:
    """Stop the loop watching this worker. A loop running in another thread removes its reader itself, and this
    thread waits for that: until then its reader may read (and drop) a reply meant for someone else."""
    loop = chosen.loop
    if loop is None:
        return
    if _watched_elsewhere(chosen):
        removed = threading.Event()

        def remove() -> None:  # in the loop's thread
            if chosen.loop is loop:
                chosen.loop = None
                loop.remove_reader(chosen.reply_fd)
            removed.set()

        try:
            loop.call_soon_threadsafe(remove)
        except RuntimeError:  # closed in the meantime
            pass
        else:
            if removed.wait(_UNWATCH_GRACE):
                return
    chosen.loop = None
    if not loop.is_closed():
        loop.remove_reader(chosen.reply_fd)


_UNWATCH_GRACE = 5.0  # a loop that does not run the removal by then is blocked or stopped: remove it from here


def _watched_elsewhere(chosen: _Worker) -> bool:
    """Whether a running loop in another thread reads this worker's replies (so this thread must not)."""
    loop = chosen.loop
    return loop is not None and loop.is_running() and chosen.loop_thread != threading.get_ident()


class QueryPool:
    """`size` worker processes answering `QueryTask`s over the checkpoint set by `set_checkpoint`."""

    def __init__(self, size: int, mode: str = "disk", max_pending: int = 64) -> None:
        self.size, self.mode, self.max_pending = size, mode, max_pending
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[_ThreadWaiter | _LoopWaiter] = deque()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._pending = 0
        self._checkpoint: tuple[int, str] | None = None
        self._closed = False
        self._home: asyncio.AbstractEventLoop | None = None  # the loop that runs queries (the server's)
        # Warm-ups from the loop get threads of their own: the loop's default executor may be full of threads
        # waiting for the very queries (handed to the loop) that wait for these warm-ups. One per worker suffices.
        self._warm_ups = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="filmgraph-warm-up")

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers and let them open the current checkpoint together before any query comes."""
        spawned = [self._spawn() for _ in range(self.size)]
        for each in spawned:
            self._send_warm_up(each)
        for each in spawned:
            self._finish_warm_up(each)
            self._release(each)

    def _send_warm_up(self, chosen: _Worker) -> int:
        generation, path = self._checkpoint
        write_frame(chosen.requests.fileno(), (generation, path, None))
        return generation

    def _finish_warm_up(self, chosen: _Worker, generation: int | None = None) -> None:
        reply = read_frame(chosen.reply_fd, chosen.frames)
        if reply[0] != "ready":
            _unpack(reply)  # raises the worker's error
        chosen.generation = self._checkpoint[0] if generation is None else generation

    def _warm_up(self, chosen: _Worker) -> None:
        """Open the current checkpoint before a query is timed: loading is not the query's time."""
        if self._checkpoint is not None and chosen.generation != self._checkpoint[0]:
            self._finish_warm_up(chosen, self._send_warm_up(chosen))

    def _spawn(self) -> _Worker:
        inbox, requests = _CONTEXT.Pipe(duplex=False)
        replies, outbox = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(
            target=worker.serve, args=(inbox, outbox, self.mode), daemon=True, name="filmgraph-query"
        )
        process.start()
        inbox.close()
        outbox.close()
        spawned = _Worker(process, requests, replies)
        with self._lock:
            self._workers.add(spawned)
        return spawned

    def _kill(self, dead: _Worker) -> None:
        dead.process.kill()
        dead.process.join(5)
        _close_pipes(dead)  # after the watch ends, in the watching loop's thread if need be
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
        self._release(fresh)

    def _ready(self, chosen: _Worker) -> None:
        """Warm a worker up before dispatch; a worker that cannot load is replaced and the query refused."""
        try:
            self._warm_up(chosen)
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died while loading ({error}); it was restarted") from None
        except FilmgraphError:
            self._release(chosen)
            raise

    def close(self) -> None:
        self._closed = True
        self._home = None
        for each in list(self._workers):
            self._kill(each)
        self._warm_ups.shutdown(wait=False)

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

    # --- free workers: handed to the longest waiter first ------------------------------------------------
    def _release(self, free: _Worker) -> None:
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().offer(free):
                    return
            self._idle.append(free)

    def _take_or_queue(self, waiter: _ThreadWaiter | _LoopWaiter) -> _Worker | None:
        with self._lock:
            if self._idle:
                return self._idle.popleft()
            self._waiters.append(waiter)
            return None

    def _admit(self) -> None:
        with self._lock:
            if self._pending >= self.max_pending:
                raise Overloaded(f"{self._pending} queries are already queued or running; retry later")
            self._pending += 1

    def _leave(self) -> None:
        with self._lock:
            self._pending -= 1

    def _time_left(self, chosen: _Worker, timeout: float, queued: float) -> float:
        """The query's time once a worker is free: its timeout less the time it queued. A request whose time ran
        out in the queue is refused (503) rather than sent, which would only kill a healthy worker."""
        remaining = timeout - queued
        if remaining <= 0.05:
            self._release(chosen)
            raise Overloaded(f"no query worker became free within {timeout:g} s; retry later")
        return remaining

    def _check_running(self) -> None:
        if self._checkpoint is None or self._closed:
            raise BackendUnavailable("the query workers are not running")

    # --- queries from threads --------------------------------------------------------------------------
    def run(self, task: QueryTask, timeout: float) -> Evaluated:
        """Answer `task` in a worker; raise QueryTimeout (worker killed) or Overloaded (queue full/no worker).
        While the server's loop runs in another thread, the query goes through it (it watches the pipes)."""
        home = self._home
        if home is not None and home.is_running() and not _in_loop_thread(home):
            handed = asyncio.run_coroutine_threadsafe(self.run_async(task, timeout), home)
            try:
                return handed.result(timeout + _HAND_OVER_GRACE)
            except concurrent.futures.TimeoutError:
                handed.cancel()
                raise BackendUnavailable("the server's event loop did not answer; retry later") from None
        self._admit()
        try:
            self._check_running()
            started = time.monotonic()
            waiter = _ThreadWaiter()
            chosen = self._take_or_queue(waiter) or waiter.wait(timeout)
            if chosen is None:
                raise Overloaded(f"no query worker became free within {timeout:g} s; retry later")
            remaining = self._time_left(chosen, timeout, time.monotonic() - started)
            _unwatch(chosen)  # a loop that still watches it (not the running `_home`) would take our reply
            self._ready(chosen)  # after the clock was read: loading a checkpoint is not the query's time
            return self._dispatch(chosen, task, remaining, timeout)
        finally:
            self._leave()

    def _dispatch(self, chosen: _Worker, task: QueryTask, remaining: float, timeout: float) -> Evaluated:
        generation, path = self._checkpoint
        chosen.generation = generation
        try:
            write_frame(chosen.requests.fileno(), (generation, path, task))
            try:
                reply = read_frame(chosen.reply_fd, chosen.frames, time.monotonic() + remaining)
            except TimeoutError:
                self._replace(chosen)
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from None
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died ({error or 'no reply'}); it was restarted") from None
        self._release(chosen)
        return _unpack(reply)

    # --- queries from the event loop -------------------------------------------------------------------
    async def run_async(self, task: QueryTask, timeout: float) -> Evaluated:
        """`run` for the event loop: waits on futures and the worker's pipe, never on a thread."""
        self._admit()
        try:
            self._check_running()
            loop = asyncio.get_running_loop()
            self._home = loop
            started = loop.time()
            chosen = await self._acquire_async(loop, timeout)
            remaining = self._time_left(chosen, timeout, loop.time() - started)
            if chosen.generation != self._checkpoint[0]:
                await self._ready_async(loop, chosen)  # loading a checkpoint is not the query's time
            return await self._dispatch_async(loop, chosen, task, loop.time() + remaining, timeout)
        finally:
            self._leave()

    async def _acquire_async(self, loop: asyncio.AbstractEventLoop, timeout: float) -> _Worker:
        waiter = _LoopWaiter(loop, self._release)
        chosen = self._take_or_queue(waiter)
        if chosen is not None:
            return chosen
        # Not asyncio.wait_for: from Python 3.12 it drops a result that arrives in the same tick as a cancellation
        # or its own timeout, and the worker handed over would be lost to the pool for good.
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            waiter.future.cancel()

        timer = loop.call_later(timeout, expire)
        try:
            return await waiter.future
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                self._release(waiter.future.result())  # handed over just as we gave up: give it back
            else:
                waiter.future.cancel()
            task = asyncio.current_task()
            if expired and not (task is not None and task.cancelling()):
                raise Overloaded(f"no query worker became free within {timeout:g} s; retry later") from None
            raise
        finally:
            timer.cancel()

    async def _ready_async(self, loop: asyncio.AbstractEventLoop, chosen: _Worker) -> None:
        """Open a new checkpoint in a thread (seconds in memory mode); a cancelled request still lets it finish
        and gives the worker back."""
        _unwatch(chosen)  # the thread below reads the warm-up reply itself
        warming = loop.run_in_executor(self._warm_ups, self._ready, chosen)
        try:
            await asyncio.shield(warming)
        except asyncio.CancelledError:
            warming.add_done_callback(lambda done: done.exception() or self._release(chosen))
            raise

    async def _dispatch_async(
        self, loop: asyncio.AbstractEventLoop, chosen: _Worker, task: QueryTask, deadline: float, timeout: float
    ) -> Evaluated:
        generation, path = self._checkpoint
        chosen.generation = generation
        try:
            _watch(loop, chosen)
            chosen.reply = reply = loop.create_future()
            write_frame(chosen.requests.fileno(), (generation, path, task))
            expiry = loop.call_at(deadline, _expire, reply)
            try:
                answer = await reply
            finally:
                expiry.cancel()
                chosen.reply = None
            if answer is _TIMED_OUT:
                self._replace(chosen)  # SIGKILL and a fork from the forkserver: milliseconds
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died ({error or 'no reply'}); it was restarted") from None
        except asyncio.CancelledError:  # the request went away: stop its work rather than lose the worker
            self._replace(chosen)
            raise
        self._release(chosen)
        return _unpack(answer)


_HAND_OVER_GRACE = 60.0  # on top of the query's timeout: a warm-up in memory mode may take that long


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _close_pipes(dead: _Worker) -> None:
    _unwatch(dead)
    dead.requests.close()
    dead.replies.close()


def _unpack(reply: tuple) -> Evaluated:
    if reply[0] == "ok":
        _, kind, media_type, body, spooled, seconds = reply
        return Evaluated(kind, media_type, body, spooled, seconds)
    _, name, message = reply
    error_type = getattr(errors, name, errors.BadRequest)
    if not (isinstance(error_type, type) and issubclass(error_type, FilmgraphError)):
        error_type = errors.BadRequest
    raise error_type(message)

"""A pool of query worker processes with a hard timeout and a bounded queue.

Why processes: pyoxigraph cannot cancel a query from Python, so a timed-out query's process is killed (its CPU
work stops at once) and replaced, while the other workers keep answering. Why a bound: past `max_pending`
queued or running queries the service answers 503 at once instead of piling up work it cannot finish.

Requests from the event loop never leave it: they wait for a worker on a future, and each worker's reply pipe is
watched by the loop for as long as the loop uses that worker (no registration, no system call beyond the read
and the write per query), so a cheap query costs the server one pipe round trip and no thread hand-off. Threads
(REST lookups in FastAPI's thread pool) hand their query to that loop while it runs; without a running loop
(scripts, the CLI) they use the workers with blocking reads.

Why it cannot wedge: each worker leases the checkpoint it opens (checkpoints.py), so none is deleted under it; a
worker that cannot open one says so and stays alive, and the pool retries with the current checkpoint; a supervisor
thread replaces every worker that dies (killed on timeout, crashed, killed from outside), with backoff when
starting one fails, so the pool returns to its configured size; and while no worker is running, queries are
refused at once (503) instead of waiting for one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from ..errors import (
    BackendUnavailable, FilmgraphError, Overloaded, QueryTimeout, ShuttingDown, StorageError, WorkersUnavailable,
)
from . import worker
from .checkpoints import Checkpoint, Checkpoints
from .choice import Copy
from ..store.base import SerializedResult
from ..store.evaluation import QueryTask
from .answer import Answer
from .worker import CHUNK, BrokenFrame, Frames, read_frame, write_frame

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["filmgraph.serving.worker"])
log = logging.getLogger(__name__)

OPEN_ATTEMPTS = 3  # a worker told to open the current checkpoint this many times and failing is replaced
WARM_UP_SECONDS = 600.0  # a worker that has not opened its checkpoint by then is stuck: replaced
SUPERVISOR_BACKOFF = (0.1, 10.0)  # first and longest wait after a failed start of a worker
_CLOSE_GRACE = 10.0  # for the supervisor to notice `close`


@dataclass(eq=False)
class _Worker:
    """A worker process and the server's ends of its two pipes. `checkpoint` is the one it leases (has opened or
    is opening); `started` once it first opened one. While an event loop watches the reply pipe, `loop` is that
    loop and `reply` the future of the query in flight."""

    process: BaseProcess
    requests: Connection
    replies: Connection
    checkpoint: Checkpoint | None = None
    started: bool = False
    killed: bool = False
    frames: Frames = field(default_factory=Frames)
    loop: asyncio.AbstractEventLoop | None = None
    loop_thread: int = 0
    reply: asyncio.Future | None = None

    @property
    def reply_fd(self) -> int:
        return self.replies.fileno()

    @property
    def generation(self) -> int:
        return -1 if self.checkpoint is None else self.checkpoint[0]


_TIMED_OUT = object()
_STOPPED = object()  # a query in flight when the server's grace period ran out


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

    def refuse(self, error: FilmgraphError) -> None:
        """No worker is running, or the server stops: stop waiting now (the caller raises `_refusal`)."""
        self._event.set()

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

    def refuse(self, error: FilmgraphError) -> None:
        """No worker is running, or the server stops: fail the wait now (503) rather than at its timeout."""
        if threading.get_ident() == self._thread:
            self._fail(error)
        else:
            self.loop.call_soon_threadsafe(self._fail, error)

    def _fail(self, error: FilmgraphError) -> None:
        if not self.future.done():
            self.future.set_exception(error)


_NO_WORKERS = "no query worker is running and none could be started just now; retry in a moment"
_STOPPING = "the server is shutting down; retry in a moment (on this or another instance)"


def _expire(reply: asyncio.Future, outcome: object = _TIMED_OUT) -> None:
    if not reply.done():
        reply.set_result(outcome)


def _on_reply_readable(chosen: _Worker) -> None:
    """The loop's reader on a worker's reply pipe: collect chunks, hand a whole reply to the query waiting."""
    try:
        chunk = os.read(chosen.reply_fd, CHUNK)
    except BlockingIOError:
        return
    except OSError:
        chunk = b""
    try:
        if not chunk:
            raise EOFError("the worker closed its pipe")
        chosen.frames.feed(chunk)
        message = chosen.frames.pop()
    except (EOFError, BrokenFrame) as error:  # the worker is gone, or no longer trusted: stop watching, fail the
        _unwatch(chosen)  # query in flight (its dispatcher replaces the worker)
        if chosen.reply is not None and not chosen.reply.done():
            chosen.reply.set_exception(error)
        return
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
    """`size` worker processes answering `QueryTask`s over the current checkpoint of `checkpoints`."""

    def __init__(self, size: int, checkpoints: Checkpoints, mode: str = "disk", max_pending: int = 64) -> None:
        self.size, self.mode, self.max_pending = size, mode, max_pending
        self.checkpoints = checkpoints
        # The store's generation, shared with the workers: a worker copies its checkpoint into memory only while no
        # write has left it behind (worker.py, `StoreWrites`).
        self._store_generation = _CONTEXT.RawValue("q", -1)
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[_ThreadWaiter | _LoopWaiter] = deque()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self._stopping = False  # the server shuts down: no query is taken any more (`stop_taking_queries`)
        self._home: asyncio.AbstractEventLoop | None = None  # the loop that runs queries (the server's)
        # Warm-ups from the loop get threads of their own: the loop's default executor may be full of threads
        # waiting for the very queries (handed to the loop) that wait for these warm-ups. One per worker suffices.
        self._warm_ups = concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="filmgraph-warm-up")
        self._wake_read, self._wake_write = os.pipe()  # type: tuple[int, int | None]  # wakes the supervisor when a worker is gone
        os.set_blocking(self._wake_write, False)
        self._supervisor: threading.Thread | None = None
        self.last_start_error: str | None = None  # why the supervisor last failed to start a worker
        self._failing = False  # the supervisor's last round could not start every missing worker

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers and let them open the current checkpoint together before any query comes; then the
        supervisor keeps their number up. Fails only if not one worker could start."""
        if self._start_workers(self.size) == 0:
            self.close()
            raise BackendUnavailable(f"no query worker could start: {self.last_start_error}")
        self._supervisor = threading.Thread(target=self._supervise, daemon=True, name="filmgraph-pool-supervisor")
        self._supervisor.start()

    def _start_workers(self, count: int) -> int:
        """Spawn `count` workers, warm them up together, hand the ready ones out; how many started."""
        if self._closed:
            return 0
        try:  # start on the newest state: after a write, the current checkpoint may be old (or broken)
            self.checkpoints.catch_up()
        except Exception as error:  # noqa: BLE001 - the workers open the current one; a query catches up
            log.warning("could not take a checkpoint for the starting workers: %s", error)
        spawned = []
        try:
            spawned.extend(self._spawn() for _ in range(count))
        except Exception as error:  # noqa: BLE001 - e.g. fork failing (EMFILE, ENOMEM): warm those that did start
            self.last_start_error = f"{type(error).__name__}: {error}"
            log.warning("could not start a query worker: %s", self.last_start_error)
        sent = [each for each in spawned if self._send_warm_up_or_kill(each)]
        started = 0
        for each in sent:
            try:
                self._finish_warm_up(each, time.monotonic() + WARM_UP_SECONDS)
            except (EOFError, OSError, TimeoutError, FilmgraphError) as error:  # BrokenFrame among them
                self.last_start_error = f"{type(error).__name__}: {error}"
                self._kill(each)
                continue
            each.started = True
            started += 1
            self._release(each)
        return started

    def _supervise(self) -> None:
        """Reap workers that died while idle, and start one for each missing, backing off while starts fail.
        Never ends before `close`: whatever one round raises is logged and the next round tries again."""
        delay = SUPERVISOR_BACKOFF[0]
        while not self._closed:
            try:
                self._reap_idle()
                missing = self.size - len(self._workers)
                if missing > 0 and self._start_workers(missing) < missing:
                    self._set_failing(True)
                    self._wait_for_change(delay)
                    delay = min(delay * 2, SUPERVISOR_BACKOFF[1])
                    continue
                delay = SUPERVISOR_BACKOFF[0]
                self._set_failing(False)
                self._wait_for_change(1.0)
            except Exception as error:  # noqa: BLE001 - a bug here must not leave the pool short for good
                self.last_start_error = f"{type(error).__name__}: {error}"
                log.exception("the query pool's supervisor failed; retrying")
                self._wait_for_change(delay)
                delay = min(delay * 2, SUPERVISOR_BACKOFF[1])

    def _set_failing(self, failing: bool) -> None:
        with self._lock:
            self._failing = failing
            refused = self._waiters_if_none_running()
        self._refuse(refused)

    def _wait_for_change(self, seconds: float) -> None:
        """Until a worker process ends, `_wake` is called, or `seconds` pass."""
        with self._lock:
            watched = [w for w in self._workers if not w.killed]  # referenced: their sentinels stay open meanwhile
        ready = multiprocessing.connection.wait([self._wake_read, *(w.process.sentinel for w in watched)], seconds)
        if self._wake_read in ready:
            os.read(self._wake_read, 4096)
        elif ready:  # a busy worker that died, until its dispatcher reaps it: do not spin on its sentinel
            time.sleep(0.05)

    def _wake(self) -> None:
        with self._lock:  # not after `close` closed the pipe: its number may belong to another file by then
            if self._wake_write is not None:
                try:
                    os.write(self._wake_write, b"x")
                except BlockingIOError:  # full: the supervisor is due to wake anyway
                    pass

    def _reap_idle(self) -> None:
        """Workers that died while idle (killed from outside): out of the queue, their leases given back. A busy
        one that dies is reaped by its dispatcher, which sees its pipe close."""
        with self._lock:
            dead = [each for each in self._idle if each.process.exitcode is not None]
            for each in dead:
                self._idle.remove(each)
        for each in dead:
            log.warning("query worker %s ended (exit status %s); starting another", each.process.pid, each.process.exitcode)
            self._kill(each)

    def _send_warm_up_or_kill(self, chosen: _Worker) -> bool:
        try:
            self._send_warm_up(chosen)
        except OSError as error:
            self.last_start_error = f"{type(error).__name__}: {error}"
            self._kill(chosen)
            return False
        return True

    def _move_to_current(self, chosen: _Worker) -> Checkpoint:
        """Lease the current checkpoint for this worker and give back the one it held (atomically with reading
        which one is current: a checkpoint handed out is never deleted before the worker leaves it)."""
        held, chosen.checkpoint = chosen.checkpoint, self.checkpoints.lease()
        if held is not None:
            self.checkpoints.release(held[0])
        return chosen.checkpoint

    def _forget_checkpoint(self, chosen: _Worker) -> None:
        held, chosen.checkpoint = chosen.checkpoint, None
        if held is not None:
            self.checkpoints.release(held[0])

    def _send_warm_up(self, chosen: _Worker) -> None:
        generation, path = self._move_to_current(chosen)
        write_frame(chosen.requests.fileno(), (generation, path, None, None))

    def _finish_warm_up(self, chosen: _Worker, deadline: float) -> None:
        """Wait for the worker to open its checkpoint; one it could not open is retried with the current one."""
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            reply = read_frame(chosen.reply_fd, chosen.frames, deadline)
            if reply[0] == "ready":
                return
            self._forget_checkpoint(chosen)
            if reply[0] != "unopened":
                _unpack(reply)  # raises the worker's error
            log.warning("query worker %s: %s (attempt %d)", chosen.process.pid, reply[1], attempt)
            if attempt < OPEN_ATTEMPTS:
                self._send_warm_up(chosen)
        raise BackendUnavailable(f"a query worker could not open the store's checkpoint: {reply[1]}")

    def _warm_up(self, chosen: _Worker) -> None:
        """Open the current checkpoint before a query is timed: loading is not the query's time. After a write, the
        checkpoint is taken first (`_catch_up`), so the query sees every write acknowledged before it."""
        current = self.checkpoints.current
        if current is not None and chosen.generation != current[0]:
            self._send_warm_up(chosen)
            self._finish_warm_up(chosen, time.monotonic() + WARM_UP_SECONDS)

    def _spawn(self) -> _Worker:
        inbox, requests = _CONTEXT.Pipe(duplex=False)
        replies, outbox = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(
            target=worker.serve, args=(inbox, outbox, self.mode, self._store_generation), daemon=True,
            name="filmgraph-query",
        )
        try:
            process.start()
        finally:
            inbox.close()
            outbox.close()
        spawned = _Worker(process, requests, replies)
        with self._lock:
            self._workers.add(spawned)
        return spawned

    def _kill(self, dead: _Worker) -> None:
        """Stop a worker and give back its lease; the supervisor starts its successor. When it was the last one
        running, the queries waiting for a worker are refused at once (503), not left to their timeouts."""
        with self._lock:
            if dead.killed:
                return
            dead.killed = True
        dead.process.kill()
        dead.process.join(5)
        _close_pipes(dead)  # after the watch ends, in the watching loop's thread if need be
        self._forget_checkpoint(dead)
        with self._lock:
            self._workers.discard(dead)
            refused = self._waiters_if_none_running()
        self._refuse(refused)
        self._wake()

    _replace = _kill  # a worker killed on timeout or death is replaced by the supervisor

    def _waiters_if_none_running(self) -> list[_ThreadWaiter | _LoopWaiter]:
        """Under the lock: the waiters to refuse, all of them when no worker runs nor is coming."""
        if self._can_answer():
            return []
        refused = list(self._waiters)
        self._waiters.clear()
        return refused

    def _refuse(self, refused: list[_ThreadWaiter | _LoopWaiter]) -> None:
        for waiter in refused:
            waiter.refuse(self._refusal())

    def _can_answer(self) -> bool:
        """Under the lock: whether a worker runs, or one is coming (the supervisor is not failing to start them).
        A query waits for a worker being restarted (e.g. after a timeout killed the only one), but is refused at
        once while none can be started."""
        if self._closed or self._stopping:
            return False
        return not self._failing or any(each.started and not each.killed for each in self._workers)

    def _ready(self, chosen: _Worker) -> None:
        """Warm a worker up before dispatch; a worker that cannot load is replaced and the query refused."""
        self._catch_up(chosen)
        try:
            self._warm_up(chosen)
        except (EOFError, OSError, TimeoutError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died while loading ({error}); it was restarted") from None
        except FilmgraphError:  # a BrokenFrame too
            self._replace(chosen)
            raise

    def _catch_up(self, chosen: _Worker) -> None:
        """A checkpoint of every write acknowledged so far (taken now if a write came since the last one). If the
        store cannot take one (a full disk), the query is refused: an older checkpoint would miss a write."""
        try:
            self.checkpoints.catch_up()
        except Exception as error:  # noqa: BLE001 - RocksDB's OSError, or the store being reopened
            self._release(chosen)
            if isinstance(error, FilmgraphError):
                raise
            raise StorageError(f"could not snapshot the store for the query workers: {error}") from error

    def _refusal(self) -> WorkersUnavailable:
        """The 503 for a query no worker will answer: the server stopping, or no worker running."""
        return ShuttingDown(_STOPPING) if self._stopping else WorkersUnavailable(_NO_WORKERS)

    def stop_taking_queries(self, within: float) -> None:
        """The server shuts down: refuse queued and new queries at once (503), and answer the queries in flight
        on the event loop 503 unless they finish `within` seconds, before the server cancels their requests
        (a cancelled request gets a plain-text 500). In the loop's thread."""
        with self._lock:
            self._stopping = True
            refused = self._waiters_if_none_running()  # all of them: none can be answered now
            in_flight = [each.reply for each in self._workers if each.reply is not None]
        self._refuse(refused)
        for reply in in_flight:
            reply.get_loop().call_later(within, _expire, reply, _STOPPED)

    def close(self) -> None:
        if self._wake_write is None:
            return  # closed already
        self._closed = True
        self._home = None
        self._wake()
        for each in list(self._workers):  # first: a warm-up the supervisor waits for then ends at once (EOF)
            self._kill(each)
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(_CLOSE_GRACE)
        for each in list(self._workers):  # one it started meanwhile
            self._kill(each)
        self._warm_ups.shutdown(wait=False)
        with self._lock:
            os.close(self._wake_write)
            self._wake_write = None
        if self._supervisor is None or not self._supervisor.is_alive():
            os.close(self._wake_read)

    # --- state -----------------------------------------------------------------------------------------
    def written(self, generation: int) -> None:
        """A write made `generation` (the workers' copy builders read it: worker.py, `StoreWrites`)."""
        self._store_generation.value = generation

    def generations_in_use(self) -> set[int]:
        with self._lock:
            return {w.generation for w in self._workers if w.generation >= 0}

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.process.pid for w in self._workers if w.process.pid is not None and not w.killed)

    def state(self) -> dict:
        """For `/readyz`: workers answering (`alive`) against `configured`, those starting, and their pids."""
        with self._lock:
            running = [w for w in self._workers if w.started and not w.killed]
            starting = [w for w in self._workers if not w.started and not w.killed]
            return {
                "alive": len(running),
                "configured": self.size,
                "starting": len(starting),
                "pids": sorted(w.process.pid for w in running),
                "start_failing": self._failing,
                "last_start_error": self.last_start_error,
            }

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
            if not self._can_answer():
                raise self._refusal()
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
        if self._stopping:
            raise self._refusal()
        if self.checkpoints.current is None or self._closed:
            raise BackendUnavailable("the query workers are not running")

    # --- queries from threads --------------------------------------------------------------------------
    def run(self, task: QueryTask, timeout: float, copy: Copy = "memory") -> Answer:
        """Answer `task` in a worker, from its `copy` (`memory`, when it has one, or `disk`: choice.py); raise
        QueryTimeout (worker killed) or Overloaded (queue full/no worker). While the server's loop runs in another
        thread, the query goes through it (it watches the pipes)."""
        home = self._home
        if home is not None and home.is_running() and not _in_loop_thread(home):
            handed = asyncio.run_coroutine_threadsafe(self.run_async(task, timeout, copy), home)
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
                if not self._can_answer():
                    raise self._refusal()
                raise Overloaded(f"no query worker became free within {timeout:g} s; retry later")
            remaining = self._time_left(chosen, timeout, time.monotonic() - started)
            _unwatch(chosen)  # a loop that still watches it (not the running `_home`) would take our reply
            self._ready(chosen)  # after the clock was read: loading a checkpoint is not the query's time
            return self._dispatch(chosen, task, copy, remaining, timeout)
        finally:
            self._leave()

    def _dispatch(self, chosen: _Worker, task: QueryTask, copy: Copy, remaining: float, timeout: float) -> Answer:
        generation, path = chosen.checkpoint  # the one it has opened (leased): at least as new as the request
        try:
            write_frame(chosen.requests.fileno(), (generation, path, task, copy))
            try:
                reply = read_frame(chosen.reply_fd, chosen.frames, time.monotonic() + remaining)
            except TimeoutError:
                self._replace(chosen)
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped") from None
        except BrokenFrame:
            self._replace(chosen)
            raise
        except (EOFError, OSError) as error:
            self._replace(chosen)
            raise BackendUnavailable(f"a query worker died ({error or 'no reply'}); it was restarted") from None
        self._release(chosen)
        return _unpack(reply)

    # --- queries from the event loop -------------------------------------------------------------------
    async def run_async(self, task: QueryTask, timeout: float, copy: Copy = "memory") -> Answer:
        """`run` for the event loop: waits on futures and the worker's pipe, never on a thread."""
        self._admit()
        try:
            self._check_running()
            loop = asyncio.get_running_loop()
            self._home = loop
            started = loop.time()
            chosen = await self._acquire_async(loop, timeout)
            remaining = self._time_left(chosen, timeout, loop.time() - started)
            if self.checkpoints.behind() or chosen.generation != self.checkpoints.current[0]:
                await self._ready_async(loop, chosen)  # taking and loading a checkpoint is not the query's time
            return await self._dispatch_async(loop, chosen, task, copy, loop.time() + remaining, timeout)
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
            if waiter.future.done() and not waiter.future.cancelled() and waiter.future.exception() is None:
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
        self, loop: asyncio.AbstractEventLoop, chosen: _Worker, task: QueryTask, copy: Copy, deadline: float,
        timeout: float,
    ) -> Answer:
        generation, path = chosen.checkpoint  # the one it has opened (leased): at least as new as the request
        try:
            _watch(loop, chosen)
            chosen.reply = reply = loop.create_future()
            write_frame(chosen.requests.fileno(), (generation, path, task, copy))
            expiry = loop.call_at(deadline, _expire, reply)
            try:
                answer = await reply
            finally:
                expiry.cancel()
                chosen.reply = None
            if answer is _TIMED_OUT:
                self._replace(chosen)  # SIGKILL and a fork from the forkserver: milliseconds
                raise QueryTimeout(f"the query ran longer than {timeout:g} s and was stopped")
            if answer is _STOPPED:
                self._kill(chosen)  # the server stops: its work stops too
                raise ShuttingDown(_STOPPING)
        except BrokenFrame:
            self._replace(chosen)
            raise
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


def _unpack(reply: tuple) -> Answer:
    if reply[0] == "ok":
        _, kind, media_type, body, spooled, seconds, copy, cold = reply
        return Answer(SerializedResult(kind, media_type, body, spooled), seconds, copy, cold)
    _, module, qualname, message = reply
    raise worker.raised_error(module, qualname, message)

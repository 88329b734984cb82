"""The inline lane: cheap queries evaluated in the server process itself, without the hop to a worker.

On a cheap query (an entity lookup, a 2-hop path, an ASK) the hand-off to a worker process costs more CPU than the
engine does (see BENCHMARKS.md). pyoxigraph cannot cancel a query, so one runs inline only when it is all but
certain to stay cheap, and every way out is bounded:

- Its *shape* — the text with IRIs, literals and numbers blanked — was answered by the workers `admit_after` times
  in a row, each time in under `fast_seconds` of engine CPU time. A new or slow shape always goes to the workers.
- It has no SERVICE (a remote call): those always go to the workers. A shape with an operator that evaluates
  everything before writing its first result (aggregates, GROUP BY, ORDER BY) is *blocking*: the deadline below
  cannot stop it, so a single inline run of it over the budget bars its shape for good (a hub constant costs the
  event loop one such run per shape, never a second). A run between `fast_seconds` and the budget only sends it
  back to the workers, as for any shape (below): barred after one run over `fast_seconds`, cheap anchored ORDER
  BY shapes whose constants now and then give a few more rows, or whose run met a busy core, paid the hop to a
  worker for good (issue 21: 0.30× Oxigraph server on disk with 4 clients).
- Its result is written under a budget of CPU time (`budget_seconds`): the engine writes every 8 KB, so a result
  still being written then stops the engine (`Overrun`); the query goes to a worker after all, and its shape never
  runs inline again. CPU, not wall time: at a load average of 10 on 2 cores (the write benchmark), a lookup's
  wall time passed 50 ms while it was only waiting for a core, and barred cheap shapes for good, sending every
  read after a write to a worker, which needs a checkpoint (BENCHMARKS.md). A shape goes back to the workers,
  until they have again answered it fast `admit_after` times in a row, when one inline run takes more than
  SEND_BACK_AT times `fast_seconds` of CPU, or when its inline runs take more than `fast_seconds` on average (a
  mean weighted towards the latest MEAN_RUNS): one run over `fast_seconds` used to send it back, and at a load
  average of 6 a few runs per thousand of a 0.1 ms lookup took 0.5–0.6 ms, each sending its shape to the
  workers, where every read after a write paid a checkpoint and a reopen until it came back (issue 14).
- The one case left, a query that runs past the query timeout without writing anything, only a process exit can
  stop: the watchdog thread then ends the server process, and `filmgraph serve`'s supervisor starts a new one.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from pyoxigraph import Store as OxStore

from ..store.evaluation import Overrun, QueryTask, evaluate
from .answer import Answer

log = logging.getLogger(__name__)

RUNAWAY_EXIT = 75  # the exit status of a server process ended by the watchdog (EX_TEMPFAIL: start it again)

# IRIs, quoted literals, numbers: `<…>|"…"|'…'|\d+`, written as one first character and a branch per character
# (lookbehind), which runs about twice as fast on a query's text as the plain alternation.
_CONSTANTS = re.compile(r"""[<"'\d](?:(?<=<)[^>\s]*>|(?<=")[^"\n]*"|(?<=')[^'\n]*'|(?<=\d)\d*)""")
# Words looked for in the upper-cased shape: one that keeps a query out of the lane, and those of operators that
# write nothing before the end (blocking). A variable or prefixed name that contains one (?summary, fg:minister)
# only makes the check stricter: it errs on the safe side.
_NEVER_INLINE = ("SERVICE",)
_BLOCKING = ("GROUP", "ORDER", "COUNT", "SUM", "AVG", "MIN", "MAX", "SAMPLE")


def blank_constants(sparql: str) -> str:
    """The query's shape: its text with IRIs, literals and numbers replaced by `?`."""
    return _CONSTANTS.sub("?", sparql)


def shape_of(sparql: str) -> str | None:
    """The query's shape, or None for a query that never runs inline."""
    return inline_shape(blank_constants(sparql))


def inline_shape(shape: str) -> str | None:
    """`shape` (blanked already), or None for a query that never runs inline."""
    upper = shape.upper()
    return None if any(word in upper for word in _NEVER_INLINE) else shape


def is_blocking(shape: str) -> bool:
    """Whether the shape has an operator that evaluates everything before writing its first result."""
    upper = shape.upper()
    return any(word in upper for word in _BLOCKING)


def exit_process(shape: str) -> None:
    log.critical("an inline query outlived the query timeout; ending the server process to stop it: %s", shape)
    os._exit(RUNAWAY_EXIT)


# Per shape: (runs in a row under fast_seconds, under thread_fast_seconds) of the workers' answers, then the mean
# CPU seconds of its inline runs measured against each bar (None until one ran since it was admitted).
_NEW, _BARRED = (0, 0, None, None), (-1, -1, None, None)
COLD_ALLOWANCE = 4  # a worker's first query on a new checkpoint reads its files cold (measured: 6–10× a warm one)
SEND_BACK_AT = 4  # an inline run over this many times its lane's bar sends its shape back to the workers at once
MEAN_RUNS = 8  # the inline runs' mean weighs each new run by 1 / MEAN_RUNS


def _step(streak: int, mean: float | None, seconds: float, bar: float, count: bool) -> tuple[int, float | None]:
    """One lane's (streak, inline mean) after a run of `seconds`: a worker's answer (`count`) or an inline run."""
    if count:
        return (streak + 1 if seconds <= bar else 0), mean
    mean = seconds if mean is None else mean + (seconds - mean) / MEAN_RUNS
    if seconds > SEND_BACK_AT * bar or mean > bar:
        return 0, None  # back to the workers, and a fresh mean once they have admitted it again
    return streak, mean


class InlineLane:
    """Learns which query shapes are cheap from the workers' timings, and evaluates those in this process."""

    def __init__(
        self,
        store: OxStore,
        *,
        admit_after: int = 3,
        fast_seconds: float = 0.0005,
        budget_seconds: float = 0.05,
        thread_fast_seconds: float = 0.01,
        thread_budget_seconds: float = 1.0,
        max_shapes: int = 4096,
        on_runaway: Callable[[str], None] = exit_process,
    ) -> None:
        self._store = store
        self.admit_after, self.fast_seconds, self.budget_seconds = admit_after, fast_seconds, budget_seconds
        # A thread (a REST route) may wait longer than the event loop, which every request shares: its bar is
        # higher (entity cards run shapes of 1–5 ms), so its lookups need no worker while runaways hold them all.
        self.thread_fast_seconds, self.thread_budget_seconds = thread_fast_seconds, thread_budget_seconds
        self.max_shapes = max_shapes
        # shape -> (runs in a row, inline mean) per bar, see _NEW; _BARRED once it overran a budget
        self._fast_runs: OrderedDict[str, tuple[int, int, float | None, float | None]] = OrderedDict()
        self._on_runaway = on_runaway
        # (shape, monotonic deadline) of the inline run under way, per thread: the event loop's, and REST routes'
        # threads, which evaluate their lookups here too (no worker needed: they are answered while runaway
        # queries hold every worker)
        self._running: dict[int, tuple[str, float]] = {}
        self._lock = threading.Lock()  # the shapes' counts are updated from those threads too
        self._watchdog: threading.Thread | None = None

    def use_store(self, store: OxStore | None) -> None:
        """Evaluate on `store` from now on: the server reopened its engine after a storage failure (None meanwhile,
        when the lane is not asked)."""
        self._store = store

    def admits(self, shape: str | None, from_thread: bool = False) -> bool:
        """Whether `shape` runs inline: on the event loop, or (`from_thread`) in a thread of a REST route."""
        return shape is not None and self._fast_runs.get(shape, _NEW)[from_thread] >= self.admit_after

    def learn(self, shape: str | None, seconds: float | None, cold: bool = False) -> None:
        """Count a worker's answer to a query of `shape` that took `seconds` of engine time. A `cold` answer, the
        first on a newly opened checkpoint, is held to a bar COLD_ALLOWANCE times higher: after a write every
        worker query is one (checkpoints are taken per read after writes), and a lookup answered in 0.07 ms warm
        took 0.4–0.7 ms cold, so under steady writes no shape was ever admitted. Each inline run is still held to
        the plain bar (`run`)."""
        if shape is None or seconds is None or self._fast_runs.get(shape) == _BARRED:
            return
        self._observe(shape, seconds / COLD_ALLOWANCE if cold else seconds, count=True)

    def run(
        self, shape: str, task: QueryTask, timeout: float, store: OxStore | None = None, from_thread: bool = False
    ) -> Answer | None:
        """Evaluate inline, on `store` if given (an in-memory copy of this generation) else on the store itself;
        None when the run overran its budget, or while the store is being reopened (then the caller asks a worker)."""
        store = self._store if store is None else store
        if store is None:
            return None
        started, cpu = time.monotonic(), time.thread_time()
        self._start_watchdog()
        me = threading.get_ident()
        self._running[me] = (shape, started + timeout)
        budget = self.thread_budget_seconds if from_thread else self.budget_seconds
        try:
            result = evaluate(store, task, deadline=cpu + budget)
        except Overrun:
            self._bar(shape, "overran its budget")
            return None
        finally:
            self._running.pop(me, None)
        seconds = time.thread_time() - cpu
        if seconds > budget and is_blocking(shape):
            self._bar(shape, "a blocking shape ran past the budget inline")
        else:
            self._observe(shape, seconds, count=False)  # a much slower run, or a slow mean, sends it back
        return Answer(result, seconds)

    def _observe(self, shape: str, seconds: float, count: bool) -> None:
        """With `count` (a worker's answer), lengthen each lane's streak that `seconds` keeps and reset those it
        breaks; else (an inline run) reset those it breaks for good: one run over SEND_BACK_AT times the bar, or
        the inline runs' mean over it."""
        with self._lock:
            runs = self._fast_runs.get(shape, _NEW)
            if runs == _BARRED:
                return
            loop, loop_mean = _step(runs[0], runs[2], seconds, self.fast_seconds, count)
            thread, thread_mean = _step(runs[1], runs[3], seconds, self.thread_fast_seconds, count)
        self._remember(shape, (loop, thread, loop_mean, thread_mean))

    def _bar(self, shape: str, why: str) -> None:
        log.info("query shape no longer runs inline (%s): %s", why, shape)
        self._remember(shape, _BARRED)

    def _remember(self, shape: str, runs: tuple[int, int, float | None, float | None]) -> None:
        with self._lock:
            self._fast_runs[shape] = runs
            self._fast_runs.move_to_end(shape)
            while len(self._fast_runs) > self.max_shapes:
                self._fast_runs.popitem(last=False)

    def _start_watchdog(self) -> None:
        with self._lock:
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name="filmgraph-inline-watchdog", daemon=True)
                self._watchdog.start()

    def _watch(self) -> None:
        """The engine releases the GIL while it evaluates, so this thread runs beside a query that never returns."""
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            for thread, (shape, deadline) in list(self._running.items()):
                if now > deadline:
                    self._running.pop(thread, None)
                    self._on_runaway(shape)

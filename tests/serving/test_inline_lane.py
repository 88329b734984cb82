"""The inline lane (cheap query shapes answered in the server process): what gets in, every way out, and that
answers stay the same."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store as OxStore

from filmgraph.serving import inline
from filmgraph.serving.serving_store import ServingStore
from filmgraph.store import evaluation
from filmgraph.store.evaluation import QueryTask, evaluate
from filmgraph.serving.inline import RUNAWAY_EXIT, InlineLane, blank_constants, is_blocking, shape_of

JSON = "application/sparql-results+json"
LOOKUP = "SELECT ?p ?o WHERE {{ <http://example.org/e{n}> ?p ?o }}"
# About a second of engine work and not a byte written before the end: what only the watchdog can stop.
SLOW_SILENT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def small_graph(triples: int = 200) -> OxStore:
    store = OxStore()
    p = NamedNode("http://example.org/p")
    store.extend(Quad(NamedNode(f"http://example.org/e{n}"), p, Literal(f"v{n}")) for n in range(triples))
    return store


def task(sparql: str) -> QueryTask:
    return QueryTask(sparql, JSON)


def test_a_shape_blanks_constants_keeps_service_out_and_knows_blocking_operators():
    one, other = shape_of(LOOKUP.format(n=1)), shape_of(LOOKUP.format(n=22))
    assert one == other == "SELECT ?p ?o WHERE { ? ?p ?o }"
    assert shape_of('ASK { ?s ?p "x" }') == shape_of("ASK { ?s ?p 'y' }") == shape_of("ASK { ?s ?p 42 }")
    assert shape_of("SELECT ?s WHERE { SERVICE <x:y> {} }") is None
    for blocking in (SLOW_SILENT, "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"):
        assert is_blocking(shape_of(blocking)), blocking
    assert not is_blocking(one)


def test_a_shape_runs_inline_only_after_enough_fast_answers_in_a_row():
    lane = InlineLane(small_graph(), admit_after=3, fast_seconds=0.001)
    shape = shape_of(LOOKUP.format(n=1))
    lane.learn(shape, 0.0002)
    lane.learn(shape, 0.0002)
    assert not lane.admits(shape)
    lane.learn(shape, 0.5)  # one slow answer starts the count again
    lane.learn(shape, 0.0002)
    lane.learn(shape, 0.0002)
    assert not lane.admits(shape)
    lane.learn(shape, 0.0002)
    assert lane.admits(shape)
    assert not lane.admits(None) and not lane.admits(shape_of("ASK { ?s ?p ?o }"))


def test_an_inline_answer_is_the_engines_answer():
    graph = small_graph()
    lane = InlineLane(graph)
    query = LOOKUP.format(n=7)
    done = lane.run(shape_of(query), task(query), timeout=5)
    assert done is not None and done.result.body == evaluate(graph, task(query)).body
    assert b'"v7"' in done.result.body and done.seconds is not None


def test_a_result_still_being_written_past_the_budget_stops_and_bars_its_shape():
    lane = InlineLane(small_graph(5000), admit_after=1, budget_seconds=0.0)
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    shape = shape_of(everything)
    lane.learn(shape, 0.0)
    assert lane.admits(shape)
    assert lane.run(shape, task(everything), timeout=5) is None, "the caller asks a worker instead"
    assert not lane.admits(shape)
    lane.learn(shape, 0.0)
    assert not lane.admits(shape), "a barred shape stays barred"


def test_waiting_for_a_core_does_not_count_against_the_budget(monkeypatch):
    """On a loaded machine (the write benchmark, load average 10) a cheap run's wall time passed the budget while
    it only waited for a core, and barred its shape for good: the budget counts the thread's CPU time."""

    class Preempted:  # the wall clock jumps a second between two of the engine's writes, the CPU clock does not
        thread_time = staticmethod(time.thread_time)
        _wall = [time.monotonic()]

        @classmethod
        def monotonic(cls) -> float:
            cls._wall[0] += 1.0
            return cls._wall[0]

    monkeypatch.setattr(evaluation, "time", Preempted)
    lane = InlineLane(small_graph(5000), admit_after=1, budget_seconds=0.05, fast_seconds=1.0)
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"  # ~40 writes of 8 KB
    shape = shape_of(everything)
    lane.learn(shape, 0.0)
    assert lane.run(shape, task(everything), timeout=30) is not None and lane.admits(shape)


def test_an_inline_run_that_takes_too_much_cpu_goes_back_to_the_workers():
    lane = InlineLane(small_graph(20000), admit_after=1, fast_seconds=1e-9)
    query = "SELECT ?o WHERE { ?s ?p ?o } LIMIT 5000"
    shape = shape_of(query)
    lane.learn(shape, 0.0)
    assert lane.run(shape, task(query), timeout=5) is not None
    assert not lane.admits(shape)
    lane.learn(shape, 0.0)
    assert lane.admits(shape), "unlike an overrun, it may come back after fast answers"


def test_the_watchdog_acts_on_an_inline_query_that_outlives_the_timeout():
    runaways: list[str] = []
    lane = InlineLane(small_graph(200), on_runaway=runaways.append)
    finished = threading.Event()
    threading.Thread(target=lambda: (lane.run("the shape", task(SLOW_SILENT), timeout=0.2), finished.set())).start()
    assert finished.wait(60)
    assert runaways == ["the shape"]
    assert lane.run("the shape", task(LOOKUP.format(n=1)), timeout=0.2) is not None
    assert runaways == ["the shape"], "a query within its timeout is left alone"


def test_by_default_the_watchdog_ends_the_process(tmp_path: Path):
    script = textwrap.dedent(
        f"""
        from pyoxigraph import Literal, NamedNode, Quad, Store
        from filmgraph.store.evaluation import QueryTask
        from filmgraph.serving.inline import InlineLane
        store = Store()
        store.extend(Quad(NamedNode(f"http://e/{{n}}"), NamedNode("http://p"), Literal(str(n))) for n in range(400))
        InlineLane(store).run("shape", QueryTask({SLOW_SILENT!r}, "application/sparql-results+json"), timeout=0.2)
        print("the query was allowed to finish")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == RUNAWAY_EXIT, result.stderr
    assert "allowed to finish" not in result.stdout


def test_the_serving_store_answers_a_learnt_shape_inline_and_sees_its_own_writes(tmp_path: Path):
    store = ServingStore(tmp_path / "store", workers=1, inline_queries=True)
    try:
        triples = " ".join(f"<http://example.org/e{n}> <http://example.org/p> 'v{n}' ." for n in range(50))
        store.update(f"INSERT DATA {{ {triples} }}")
        query = LOOKUP.format(n=1)
        shape = shape_of(query)
        for n in range(30):  # three fast answers in a row from the worker admit the shape (a busy machine: more)
            answer = asyncio.run(store.query_serialized_async(LOOKUP.format(n=n), JSON))
            assert f'"v{n}"'.encode() in answer.body
            if store.inline.admits(shape):
                break
        assert store.inline.admits(shape), "three fast answers from the worker"
        inline = asyncio.run(store.query_serialized_async(LOOKUP.format(n=42), JSON))
        assert b'"v42"' in inline.body
        store.update("INSERT DATA { <http://example.org/e9> <http://example.org/q> 'new' }")
        after = asyncio.run(store.query_serialized_async(LOOKUP.format(n=9), JSON))
        assert b'"new"' in after.body, "read-after-write holds inline too"
    finally:
        store.close()


def test_the_shape_regex_blanks_exactly_what_the_plain_alternation_does():
    plain = re.compile(r"<[^>\s]*>|\"[^\"\n]*\"|'[^'\n]*'|\d+")
    rng = random.Random(5)
    alphabet = list("<>\"' \n0123456789\u0663ab?{}.")  # \u0663: a non-ASCII digit, which \d matches too
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert blank_constants(text) == plain.sub("?", text), text


@pytest.mark.parametrize("shape_words", ["GROUP BY ?s", "ORDER BY ?s"])
def test_a_blocking_shape_is_admitted_after_fast_answers_and_sent_back_by_a_slow_inline_run(shape_words):
    """Issue 21: cheap ORDER BY / GROUP BY shapes paid the hop to a worker every time. They run inline once the
    workers answered them fast; an inline run slower than that sends the shape back to the workers until they have
    answered it fast again (it was barred for good, and cheap ORDER BY shapes paid the hop for good)."""
    lane = InlineLane(small_graph(), admit_after=2, fast_seconds=1e-7)  # any real run is slower than that
    query = f"SELECT ?s WHERE {{ ?s ?p ?o }} {shape_words}"
    shape = shape_of(query)
    lane.learn(shape, 0.0)
    assert not lane.admits(shape), "not before enough fast answers"
    lane.learn(shape, 0.0)
    assert lane.admits(shape)
    done = lane.run(shape, task(query), timeout=30)
    assert done is not None and done.seconds > lane.fast_seconds and b'example.org/e1"' in done.result.body
    assert not lane.admits(shape), "back to the workers after a slow run"
    lane.learn(shape, 0.0)
    lane.learn(shape, 0.0)
    assert lane.admits(shape), "admitted again after fast answers"


@pytest.mark.parametrize("shape_words", ["GROUP BY ?s", "ORDER BY ?s"])
def test_a_blocking_shape_is_barred_for_good_after_one_inline_run_past_the_budget(shape_words):
    """The budget cannot stop a blocking shape (nothing is written before its end): one run past it bars it."""
    lane = InlineLane(small_graph(), admit_after=2, fast_seconds=1e-7, budget_seconds=2e-7)
    query = f"SELECT ?s WHERE {{ ?s ?p ?o }} {shape_words}"
    shape = shape_of(query)
    lane.learn(shape, 0.0)
    lane.learn(shape, 0.0)
    assert lane.run(shape, task(query), timeout=30) is None  # stopped at its first write, past the budget
    for _ in range(5):
        lane.learn(shape, 0.0)
    assert not lane.admits(shape), "barred for good, however fast the workers answer it again"


def test_entity_cards_are_answered_while_a_runaway_holds_every_worker(service_data, tmp_path):
    """Issue 13.6: REST entity cards got 503 while runaway queries held all the workers. A REST route's lookups,
    of shapes the workers answered fast, run in the route's thread: no worker needed."""
    from filmgraph.entities import entity_card  # noqa: PLC0415
    from filmgraph.errors import QueryTimeout  # noqa: PLC0415

    from service_support import store_directory, wait_for  # noqa: PLC0415

    directory = store_directory(service_data, tmp_path / "store")
    store = ServingStore(directory, workers=1, inline_queries=True, result_cache_size=0, query_timeout=30)
    try:
        for _ in range(store.inline.admit_after + 1):  # the workers answer the card's shapes, fast
            expected = entity_card(store, "russia")
        timed_out: list[Exception] = []

        def runaway() -> None:
            endless = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(8)) + " }"
            try:
                store.pool.run(QueryTask(endless, "text/csv"), 15)
            except QueryTimeout as error:
                timed_out.append(error)

        holder = threading.Thread(target=runaway)
        holder.start()
        wait_for(lambda: not store.pool._idle)
        assert not store.pool._idle, "the runaway has the only worker"
        assert entity_card(store, "russia") == expected
        assert holder.is_alive(), "answered while the runaway still held the worker"
        holder.join(30)
        assert timed_out
    finally:
        store.close()


class MeasuredRuns:
    """inline.py's clock: each inline run takes the next of `runs` seconds of CPU as the lane measures it, whatever
    the engine really took (the engine's budget, on the real clock, is set far off: `admitted_after`)."""

    monotonic, sleep = staticmethod(time.monotonic), staticmethod(time.sleep)

    def __init__(self, runs: list[float]) -> None:
        self.runs, self.calls, self.now = list(runs), 0, time.thread_time()

    def thread_time(self) -> float:
        self.calls += 1
        if self.calls % 2 == 0:  # the second reading of a run: after it
            self.now += self.runs.pop(0)
        return self.now


def admitted_after(monkeypatch, runs: list[float]) -> bool:
    lane = InlineLane(small_graph(), admit_after=1, fast_seconds=0.001, budget_seconds=600)
    query = LOOKUP.format(n=1)
    shape = shape_of(query)
    lane.learn(shape, 0.0)
    monkeypatch.setattr(inline, "time", MeasuredRuns(runs))
    for _ in range(len(runs)):
        if not lane.admits(shape):
            return False
        assert lane.run(shape, task(query), timeout=5) is not None
    return lane.admits(shape)


def test_a_rare_slow_inline_run_keeps_a_cheap_shape_inline(monkeypatch):
    """Issue 14: one inline run over the bar sent its shape back to the workers. At a load average of 6, a 0.1 ms
    lookup took 0.5–0.6 ms a few times per thousand runs, and each time every read after a write of that shape
    paid a worker's checkpoint and reopen until the workers had answered it fast three times in a row again."""
    assert admitted_after(monkeypatch, [0.0002] * 8 + [0.0015] + [0.0002] * 8)


def test_an_inline_run_far_over_the_bar_or_slow_runs_on_average_send_the_shape_back(monkeypatch):
    assert not admitted_after(monkeypatch, [0.0002] * 8 + [inline.SEND_BACK_AT * 0.001 + 0.0001])
    assert not admitted_after(monkeypatch, [0.0002] * 8 + [0.0015] * 8), "a mean over the bar"
    assert not admitted_after(monkeypatch, [0.0015]), "the first run over the bar: no mean to absorb it yet"

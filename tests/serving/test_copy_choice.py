"""Which copy a worker answers a query shape from (serving/choice.py): a new shape in memory, the disk tried once
and only for costly shapes, the faster kept, shared by every worker and every generation (issue 21)."""

from __future__ import annotations

import asyncio

from pyoxigraph import Literal, NamedNode, Quad

from service_support import wait_for

from filmgraph.serving.choice import EXPLORE_ABOVE, RETRY_AFTER, CopyChoice
from filmgraph.serving.serving_store import ServingStore

SHAPE = "SELECT ?s WHERE { ?s ?p ? }"


def run(choice: CopyChoice, times: dict[str, float], count: int) -> list[str]:
    picks = []
    for _ in range(count):
        copy = choice.pick(SHAPE)
        picks.append(copy)
        choice.record(SHAPE, copy, times[copy])
    return picks


def test_a_new_shape_runs_in_memory_and_a_cheap_one_never_tries_the_disk():
    choice = CopyChoice()
    assert choice.pick(SHAPE) == "memory"
    cheap = {"memory": EXPLORE_ABOVE / 4, "disk": EXPLORE_ABOVE / 8}
    assert set(run(choice, cheap, 200)) == {"memory"}


def test_a_costly_shape_tries_the_disk_once_then_keeps_the_faster():
    joins = CopyChoice()  # memory ten times faster: the disk once, then (almost) never
    picks = run(joins, {"memory": 0.1, "disk": 1.0}, 300)
    assert picks[0] == "memory" and picks[1] == "disk"
    assert picks.count("disk") == 1, "a ten times slower copy is not retried within 320 runs"
    scans = CopyChoice()  # one predicate's GROUP BY: the disk twice as fast
    picks = run(scans, {"memory": 0.034, "disk": 0.017}, 200)
    assert picks[:2] == ["memory", "disk"] and picks[2:].count("memory") in range(1, 5), "the other now and then"
    assert picks[2:].count("disk") > 190


def test_one_request_at_a_time_tries_the_disk():
    choice = CopyChoice()
    choice.record(SHAPE, "memory", 0.5)
    assert [choice.pick(SHAPE) for _ in range(4)] == ["disk", "memory", "memory", "memory"]
    choice.failed(SHAPE, "disk", timed_out_after=30.0)
    assert all(choice.pick(SHAPE) == "memory" for _ in range(RETRY_AFTER)), "a copy that timed out is slow"


def test_the_server_keeps_the_choice_across_workers_and_writes(tmp_path):
    store = ServingStore(tmp_path / "store", workers=2, worker_store="memory", result_cache_size=0)
    p = NamedNode("http://example.org/p")
    try:
        store.add_to_graph("urn:g", [Quad(NamedNode(f"urn:e{n}"), p, Literal(f"v{n}")) for n in range(500)])
        query = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER(?o != 'x{n}') }}"  # never inline: an aggregate
        shape = None
        asked = iter(range(10_000))

        def answered_from_memory() -> bool:  # the copy of a new checkpoint is built once writes pause (~1 s)
            asyncio.run(store.query_serialized_async(query.format(n=next(asked)), "text/csv"))
            return next(iter(store._choice._shapes.values())).memory is not None

        wait_for(answered_from_memory, 20)
        shape = next(iter(store._choice._shapes))
        known = store._choice._shapes[shape]
        assert known.memory is not None, "workers' answers say which copy they read"
        store.update("INSERT DATA { <urn:new> <urn:p> 'w' }")  # a new generation keeps what was learnt
        assert store._choice._shapes[shape] is known
        rows = store.query("SELECT ?o WHERE { <urn:new> <urn:p> ?o }").rows
        assert rows == [{"o": Literal("w")}], "read-after-write"
    finally:
        store.close()

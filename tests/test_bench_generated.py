"""The generated read benchmark (benchmarks/queryset.py, generated_run.py): the grammar draws every feature it
names, its texts run on the generated graph, and the runner measures real servers end to end (tiny size)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyoxigraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import generated_run  # noqa: E402
import run as bench  # noqa: E402
from generate import generate  # noqa: E402
from queryset import generated_queries  # noqa: E402

from filmgraph.serving.inline import blank_constants

FEATURES = {"OPTIONAL": "OPTIONAL {", "UNION": "} UNION {", "FILTER": "FILTER(", "GROUP BY": "GROUP BY",
            "path": "/", "ORDER BY": "ORDER BY", "ASK": "ASK {", "CONSTRUCT": "CONSTRUCT {", "DESCRIBE": "DESCRIBE "}


def test_the_seed_decides_the_shapes_and_every_feature_is_drawn():
    queries = generated_queries(3000, seed=21, count=40, variants=3)
    assert queries == generated_queries(3000, seed=21, count=40, variants=3)
    assert [q.variants for q in queries] != [q.variants for q in generated_queries(3000, seed=22, count=40, variants=3)]
    bodies = [q.variants[0].split("PREFIX dcterms: <http://purl.org/dc/terms/>\n")[1] for q in queries]
    for feature, marker in FEATURES.items():
        assert any(marker in body for body in bodies), feature


def test_each_shape_varies_its_constants_only_and_answers_on_the_generated_graph():
    store = pyoxigraph.Store()
    store.extend(generate(3000))
    answered = 0
    for query in generated_queries(3000, seed=21, count=40, variants=4):
        assert len({blank_constants(text) for text in query.variants}) == 1, query.name
        assert len(set(query.variants)) > 1 or "anchored" not in query.name, query.name
        for text in query.variants:
            result = store.query(text, use_default_graph_as_union=True)
            answered += bool(result) if query.kind == "ask" else bool(list(result))
    assert answered > 40, "most variants find something: the constants exist in the graph"


def test_the_runner_measures_both_oxigraph_servers_and_filmgraph(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "OUT", tmp_path)
    args = argparse.Namespace(size=1500, clients=[1, 2], requests=4, seconds=0.3, seed=3, generated=3)
    results = generated_run.run_generated(args, *bench.prepare(args.size))
    assert set(results["servers"]) == {*generated_run.REFERENCES, generated_run.FILMGRAPH}
    for figures in results["servers"].values():
        assert len(figures.load) == 3 and all(m.latencies for m in figures.load.values())
        assert figures.memory["end"]["rss"] > 0 and figures.ready_seconds > 0
    text = "\n".join(generated_run.report_generated(results, args))
    assert "filmgraph / Oxigraph server in memory: worst" in text and "PSS per million quads" in text

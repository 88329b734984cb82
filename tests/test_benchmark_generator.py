"""The benchmark's generator is deterministic and shaped like the real graph (small size; no timing here)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pyoxigraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import STATE_COUNT, TRIPLES_PER_UNIT, generate  # noqa: E402
from workload import workload  # noqa: E402

FG = "https://w3id.org/filmgraph/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def test_same_size_and_seed_give_the_same_quads() -> None:
    assert list(generate(3000)) == list(generate(3000))
    assert list(generate(3000)) != list(generate(3000, seed=1))


def test_size_and_shape() -> None:
    quads = list(generate(5000))
    units = 5000 // TRIPLES_PER_UNIT
    assert len(quads) == STATE_COUNT * 4 + units * TRIPLES_PER_UNIT
    assert len({q for q in quads}) == len(quads), "no quad is written twice"
    types = Counter(q.object.value for q in quads if q.predicate.value == RDF_TYPE)
    assert types[FG + "State"] == STATE_COUNT
    assert types[FG + "Person"] == units and types[FG + "Post"] == units
    assert types[FG + "EvidenceSpan"] == 4 * units
    assert len({q.graph_name for q in quads}) == units + 1  # one named graph per source, one for the states


def test_every_workload_query_parses_and_answers_on_the_generated_graph() -> None:
    store = pyoxigraph.Store()
    store.extend(generate(3000))
    for query in workload(3000):
        answers = [store.query(text, use_default_graph_as_union=True) for text in query.texts()]
        if query.kind == "ask":
            assert any(bool(answer) for answer in answers), query.name
        else:
            assert any(list(answer) for answer in answers), query.name

"""What the union default graph's RDF merge costs (store/dataset.py, store/merged.py), on the generated graph.

    .venv/bin/python benchmarks/union_merge.py --size 1000000 [--copies 1000]

Measures, on one in-memory pyoxigraph store in one run: the per-generation check whether any triple is held in
several graphs (when none is: the whole scan; when some are: it stops at the first), the merged view's build, and
two queries on the engine's union (which counts a copied triple twice) against the merged view (which counts it
once). Not a test (timings depend on the machine and its load).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import NamedNode, Quad, Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_nquads  # noqa: E402

from filmgraph.store.dataset import holds_duplicate_triples  # noqa: E402
from filmgraph.store.merged import merged_view  # noqa: E402

QUERIES = {
    "COUNT(*)": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "GROUP BY type": "SELECT ?o (COUNT(?s) AS ?n) { ?s a ?o } GROUP BY ?o",
}


def timed(label: str, work):
    started = time.perf_counter()
    result = work()
    print(f"| {label} | {time.perf_counter() - started:.3f} s |")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=1000, help="triples copied into a user graph")
    args = parser.parse_args()
    store = Store()
    with tempfile.TemporaryDirectory() as scratch:
        store.bulk_load(path=str(write_nquads(args.size, Path(scratch) / "graph.nq")))
    print(f"{len(store)} quads\n\n| step | time |\n|---|---:|")
    timed("check: a triple in several graphs? (none)", lambda: holds_duplicate_triples(store))
    copy = NamedNode("urn:benchmark:user-copy")
    store.extend([Quad(q.subject, q.predicate, q.object, copy) for _, q in zip(range(args.copies), store)])
    timed(f"check, {args.copies} triples copied into a user graph", lambda: holds_duplicate_triples(store))
    view = timed("merged view build (once per generation)", lambda: merged_view(store))
    for name, query in QUERIES.items():
        timed(f"{name}, engine's union (counts copies twice)", lambda: list(store.query(query, use_default_graph_as_union=True)))
        timed(f"{name}, merged view", lambda: list(view.query(query)))


if __name__ == "__main__":
    main()

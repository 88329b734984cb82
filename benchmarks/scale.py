"""Scale benchmark: full build and one-source ingest at growing corpus sizes (synthetic sources, benchmarks/corpus.py).

    .venv/bin/python benchmarks/scale.py --sizes 1 10 100 1000

For each size N it writes N synthetic sources (plus the shared one), builds them into a fresh store, then ingests
source N+1 into that store, and prints seconds and the growth against the previous size: time ratio / size ratio
is 1.0 for linear growth, below 1 for better. Not a test (timings depend on the machine and its load).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus, write_source  # noqa: E402

from filmgraph.build import BuildPaths, build_store  # noqa: E402
from filmgraph.ingest import ingest_files  # noqa: E402
from filmgraph.settings import PROJECT_ROOT  # noqa: E402
from filmgraph.store import EmbeddedStore  # noqa: E402


@dataclass
class Row:
    sources: int
    quads: int
    build: float
    ingest: float


def measure(count: int, workdir: Path) -> Row:
    """Build `count` sources, then ingest one more; seconds of each."""
    paths = BuildPaths.from_dirs(write_corpus(count, workdir / "data"), PROJECT_ROOT / "ontology")
    started = time.monotonic()
    report = build_store(workdir / "store", paths)
    build = time.monotonic() - started
    incoming = write_source(count + 1, workdir / "incoming")
    store = EmbeddedStore(workdir / "store")
    try:
        started = time.monotonic()
        ingested = ingest_files(store, incoming, paths=paths)
        ingest = time.monotonic() - started
        assert ingested.changed and ingested.claims_added, ingested
    finally:
        store.close()
        del store
        gc.collect()
    return Row(count, report.total, build, ingest)


def table(rows: list[Row]) -> list[str]:
    """Markdown rows with growth ratios ((time ratio) / (size ratio) against the previous size)."""
    lines = ["| sources | quads | full build (s) | growth | ingest one (s) | growth |", "|---:|---:|---:|---:|---:|---:|"]
    previous: Row | None = None
    for row in rows:
        if previous is None:
            growth = ("", "")
        else:
            size = row.sources / previous.sources
            growth = (f"{row.build / previous.build / size:.2f}", f"{row.ingest / previous.ingest / size:.2f}")
        lines.append(f"| {row.sources} | {row.quads} | {row.build:.1f} | {growth[0]} | {row.ingest:.2f} | {growth[1]} |")
        previous = row
    return lines


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    args = parser.parse_args(argv)
    rows = []
    for count in args.sizes:
        with tempfile.TemporaryDirectory(prefix="filmgraph-scale-") as workdir:
            rows.append(measure(count, Path(workdir)))
        print(f"{count} sources: build {rows[-1].build:.1f} s, ingest {rows[-1].ingest:.2f} s", file=sys.stderr)
    print("\n".join(table(rows)))
    return rows


if __name__ == "__main__":
    main()

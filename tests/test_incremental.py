"""Incremental ingest equals a full build: a sequence of adds, changes and re-adds on a synthetic corpus, with a
triple two sources assert (it lives in the first source's graph, and moves when that changes), and the scale
benchmark runs at a tiny size."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from ingest_support import build_again, nquads

from filmgraph.build import BuildPaths, build_store
from filmgraph.ingest import ingest_files
from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import EmbeddedStore
from filmgraph.vocab import source_graph

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from corpus import write_corpus, write_source  # noqa: E402
import scale  # noqa: E402

SHARED_CLAIM = """source:
  id: {sid}
  type: fg:NewsArticle
  title: A note on fund 0002
  url: https://example.org/notes/{sid}
  publisher: film-wire
  issued: "2005"
  language: en

claims:
  - id: claim-{sid}-fund
    subject: fund-0002
    predicate: fg:ofState
    object: {state}
    status: fg:Asserted
    said_by: film-wire
    quote: "The fund belongs to the state."
"""


def note(directory: Path, sid: str, state: str, *, asserted: bool = True) -> Path:
    """A source asserting (or only reporting as expected) the triple `fund-0002 fg:ofState <state>`."""
    directory.mkdir(parents=True, exist_ok=True)
    text = SHARED_CLAIM.format(sid=sid, state=state)
    if not asserted:
        text = text.replace("status: fg:Asserted", "status: fg:Expected")
    (directory / f"{sid}.txt").write_text("A note. The fund belongs to the state.\n", encoding="utf-8")
    path = directory / f"{sid}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def holders(store: EmbeddedStore, state: str) -> list[str]:
    rows = store.query(f"""SELECT ?g WHERE {{ GRAPH ?g {{ <https://w3id.org/filmgraph/id/fund-0002>
        <https://w3id.org/filmgraph/ontology#ofState> <https://w3id.org/filmgraph/id/{state}> }} }}""").rows
    return sorted(row["g"].value for row in rows)


@pytest.fixture
def corpus(tmp_path: Path):
    paths = BuildPaths.from_dirs(write_corpus(3, tmp_path / "data"), PROJECT_ROOT / "ontology")
    build_store(tmp_path / "store", paths)
    store = EmbeddedStore(tmp_path / "store")
    yield store, paths
    store.close()


def test_a_sequence_of_ingests_equals_a_full_build(corpus, tmp_path: Path) -> None:
    store, paths = corpus
    fund_file = (paths.claims_dir).glob("scale-0002-*.yaml")
    state = re.search(r"object: (state-\w+)", next(fund_file).read_text(encoding="utf-8")).group(1)
    second = next(paths.claims_dir.glob("scale-0002-*.yaml")).stem
    incoming = tmp_path / "incoming"

    ingest_files(store, write_source(4, incoming), paths=paths)  # add
    later = ingest_files(store, note(incoming, "scale-0009-note", state), paths=paths)  # shares the triple
    assert later.changed and holders(store, state) == [source_graph(second)]
    earlier = ingest_files(store, note(incoming, "scale-0001-a-note", state), paths=paths)  # an earlier source
    assert holders(store, state) == [source_graph("scale-0001-a-note")]
    assert earlier.quads_removed.get(source_graph(second)) == 1  # the triple moved out of the later graph
    assert build_again(paths, tmp_path / "b1") == nquads(store)

    ingest_files(store, note(incoming, "scale-0001-a-note", state, asserted=False), paths=paths)  # change
    assert holders(store, state) == [source_graph(second)]  # back to the next source that asserts it
    changed = write_source(4, incoming)
    changed.write_text(changed.read_text(encoding="utf-8").replace("label: Film Fund 0004", "label: Film Fund No. 4"), "utf-8")
    ingest_files(store, changed, paths=paths)  # change (its claims' labels follow)
    relabel = next(paths.claims_dir.glob("scale-0002-*.yaml"))
    edited = incoming / relabel.name
    edited.write_text(relabel.read_text(encoding="utf-8").replace("label: Film Fund 0002", "label: Fund Two"), "utf-8")
    (incoming / f"{relabel.stem}.txt").write_bytes((paths.sources_dir / f"{relabel.stem}.txt").read_bytes())
    ingest_files(store, edited, paths=paths)  # a label other sources' claims quote: the full path
    again = ingest_files(store, write_source(4, incoming), paths=paths)  # re-add the first version
    assert again.changed
    assert build_again(paths, tmp_path / "b2") == nquads(store)


def test_the_scale_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    rows = scale.main(["--sizes", "1", "2"])
    assert [row.sources for row in rows] == [1, 2] and rows[1].quads > rows[0].quads
    assert all(row.build > 0 and row.ingest > 0 for row in rows)
    assert "| 2 |" in capsys.readouterr().out

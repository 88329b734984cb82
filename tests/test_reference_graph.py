"""The reference graph under ingest: a source that names a reference row gets its identifiers in graph/reference
(not in its own graph), exactly as a full build gives them, and loses them when it stops naming the row."""

from __future__ import annotations

from pathlib import Path

from ingest_support import World, build_again, world_fixtures

from filmgraph.ingest import ingest_files
from filmgraph.vocab import ID, REFERENCE_GRAPH, source_graph

SOURCE_ID = "reference-test-2012-baltic"
TEXT = "Latvia signed nothing in 2012, says Film Letter.\n"
CURATION = """\
source:
  id: reference-test-2012-baltic
  type: fg:NewsArticle
  title: A test source naming a state
  url: https://example.org/reference-test
  publisher: film-letter-of-the-test
  issued: "2012"
  language: en

entities:
  - id: film-letter-of-the-test
    type: fg:Publication
    label: Film Letter of the test
    mention: "Film Letter"
  - id: latvia
    type: fg:State
    label: Latvia
    mention: "Latvia"
{reference}
claims: []
"""


def _add_latvia(root: Path) -> None:
    with (root / "data" / "reference" / "external-ids.tsv").open("a", encoding="utf-8") as table:
        table.write("Latvia\tState\tQ211\tLV\tLVA\tfor the test\n")


template, world = world_fixtures("reference-template", _add_latvia)


def _ingest(world: World, tmp_path: Path, reference: str) -> None:
    curation = tmp_path / f"{SOURCE_ID}.yaml"
    curation.write_text(CURATION.format(reference=reference), encoding="utf-8")
    (tmp_path / f"{SOURCE_ID}.txt").write_text(TEXT, encoding="utf-8")
    ingest_files(world.store, curation, paths=world.paths, data_dir=world.data_dir)


def _latvia_ids(world: World, graph: str) -> set[str]:
    return {q.object.value for q in world.store.quads(graph) if q.subject.value == ID + "latvia"
            and q.predicate.value.endswith(("exactMatch", "iso3166Alpha2"))}  # fmt: skip


def test_an_ingested_reference_lands_in_the_reference_graph_as_a_build_would(world: World, tmp_path: Path) -> None:
    _ingest(world, tmp_path, "    reference: Latvia")
    assert _latvia_ids(world, REFERENCE_GRAPH) == {"http://www.wikidata.org/entity/Q211", "LV"}
    assert _latvia_ids(world, source_graph(SOURCE_ID)) == set()
    assert world.nquads() == build_again(world.paths, tmp_path / "rebuilt-with")
    _ingest(world, tmp_path, "")  # the source no longer names the row: its identifiers go
    assert _latvia_ids(world, REFERENCE_GRAPH) == set()
    assert any(q.subject.value == ID + "external-id-russia-wikidata" for q in world.store.quads(REFERENCE_GRAPH))
    assert world.nquads() == build_again(world.paths, tmp_path / "rebuilt-without")


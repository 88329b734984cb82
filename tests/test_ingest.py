"""`filmgraph ingest`: a second source joins the built store, queryable with its spans, reproducible by a full build;
a dry run, a repeat and a refused source change nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ingest_support import SECOND, SECOND_ID, World, build_again, world_fixtures

from filmgraph.errors import IngestError
from filmgraph.ingest import ingest_files, ingest_texts
from filmgraph.vocab import INFERRED_GRAPH, source_graph

FILMGRAPH = Path(sys.executable).with_name("filmgraph")
PREFIXES = """PREFIX fg: <https://w3id.org/filmgraph/ontology#>
PREFIX fgid: <https://w3id.org/filmgraph/id/>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
"""


template, world = world_fixtures("ingest-template")


def edited(tmp_path: Path, old: str, new: str, text: str | None = None) -> Path:
    """A copy of the second source's curation file with one edit (and optionally another text)."""
    target = tmp_path / "edited" / SECOND.name
    target.parent.mkdir(exist_ok=True)
    content = SECOND.read_text(encoding="utf-8")
    assert old in content
    target.write_text(content.replace(old, new), encoding="utf-8")
    target.with_suffix(".txt").write_text(text or SECOND.with_suffix(".txt").read_text(encoding="utf-8"), "utf-8")
    return target


def test_a_second_source_reuses_entities_and_its_claims_have_spans(world: World) -> None:
    report = ingest_files(world.store, SECOND, paths=world.paths)
    assert report.changed and report.claims_added == ["signing-russia-germany-2011"]
    assert report.quads_added[source_graph(SECOND_ID)] > 50
    rows = world.store.query(PREFIXES + """
        SELECT ?agreement ?quote WHERE { GRAPH ?g {
          fgid:signing-russia-germany-2011 fg:concernsAgreement ?agreement ; fg:evidence ?span .
          ?span nif:anchorOf ?quote ; nif:beginIndex ?b } } ORDER BY ?b""").rows
    assert [row["agreement"].value.rsplit("/", 1)[1] for row in rows] == ["agreement-russia-germany-co-production"] * 2
    assert rows[0]["quote"].value == "Russia and Germany have signed their agreement on joint film production."
    # the existing agreement gains the event through the inverse property: an inference of what the source touches
    assert world.store.query(PREFIXES + f"""ASK {{ GRAPH <{INFERRED_GRAPH}> {{
        fgid:agreement-russia-germany-co-production fg:hasEvent fgid:signing-russia-germany-2011 }} }}""").boolean


def test_ingest_then_full_build_gives_the_same_store(world: World, tmp_path: Path) -> None:
    ingest_files(world.store, SECOND, paths=world.paths)
    assert (world.data_dir / "claims" / f"{SECOND_ID}.yaml").read_bytes() == SECOND.read_bytes()
    assert (world.data_dir / "sources" / f"{SECOND_ID}.txt").read_bytes() == SECOND.with_suffix(".txt").read_bytes()
    assert build_again(world.paths, tmp_path) == world.nquads()


def test_the_copy_ingest_keeps_in_data_can_be_ingested_again(world: World) -> None:
    ingest_files(world.store, SECOND, paths=world.paths)
    before = world.nquads()
    again = ingest_files(world.store, world.data_dir / "claims" / f"{SECOND_ID}.yaml", paths=world.paths)
    assert not again.changed and world.nquads() == before  # its text is found in data/sources/


def test_a_dry_run_changes_nothing(world: World) -> None:
    before, files = world.nquads(), world.data_files()
    report = ingest_files(world.store, SECOND, paths=world.paths, dry_run=True)
    assert report.dry_run and report.changed and report.claims_added == ["signing-russia-germany-2011"]
    assert world.nquads() == before and world.data_files() == files


def test_the_same_file_twice_changes_nothing(world: World) -> None:
    ingest_files(world.store, SECOND, paths=world.paths)
    once, files = world.nquads(), world.data_files()
    report = ingest_files(world.store, SECOND, paths=world.paths)
    assert not report.changed and report.quads_added == {} and report.quads_removed == {}
    assert world.nquads() == once and world.data_files() == files


def test_a_changed_file_replaces_only_its_own_contributions(world: World, tmp_path: Path) -> None:
    first = source_graph("screendaily-2010-russia-european-coproduction")
    before = sorted(map(str, world.store.quads(first)))
    ingest_files(world.store, SECOND, paths=world.paths)
    changed = edited(tmp_path, "      - \"The signing came in the spring\"\n", "")
    report = ingest_files(world.store, changed, paths=world.paths)
    assert report.changed and report.claims_added == [] and report.claims_removed == []
    assert report.quads_removed.get(source_graph(SECOND_ID), 0) > 0
    assert set(report.quads_added) | set(report.quads_removed) <= {source_graph(SECOND_ID), INFERRED_GRAPH}
    assert sorted(map(str, world.store.quads(first))) == before
    assert b'"The signing came in the spring"' not in world.nquads()  # the span, not its sentence
    assert build_again(world.paths, tmp_path) == world.nquads()


def refused(world: World, curation: Path) -> str:
    """Ingest a bad file: the message, after checking that neither the store nor the data directory changed."""
    before, files = world.nquads(), world.data_files()
    with pytest.raises(IngestError) as caught:
        ingest_files(world.store, curation, paths=world.paths)
    assert caught.value.status_code == 422
    assert world.nquads() == before and world.data_files() == files
    return str(caught.value)


def test_a_quote_not_in_the_text_is_refused(world: World, tmp_path: Path) -> None:
    message = refused(world, edited(tmp_path, "The signing came in the spring", "The signing came in the winter"))
    assert "The signing came in the winter" in message and "not" in message


def test_an_inconsistent_source_is_refused(world: World, tmp_path: Path) -> None:
    # a signing that is also a planned signing: the two classes are disjoint
    message = refused(world, edited(tmp_path, "type: fg:Signing", "type: [fg:Signing, fg:PlannedSigning]"))
    assert "signing-russia-germany-2011" in message and "disjoint" in message


def test_a_shacl_violation_is_refused(world: World, tmp_path: Path) -> None:
    # a postponement must say what it postpones and the new target time (shapes.ttl)
    message = refused(world, edited(tmp_path, "type: fg:Signing", "type: fg:Postponement"))
    assert "fgid:signing-russia-germany-2011 fg:postpones" in message


def test_texts_are_ingested_like_files_and_messages_name_the_curation(world: World, tmp_path: Path) -> None:
    yaml_text, text = SECOND.read_text(encoding="utf-8"), SECOND.with_suffix(".txt").read_text(encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest_texts(world.store, yaml_text, text.replace("in the spring", "in the autumn"), paths=world.paths)
    assert str(caught.value).startswith("curation.yaml:") and "The signing came in the spring" in str(caught.value)
    report = ingest_texts(world.store, yaml_text, text, paths=world.paths)
    assert report.claims_added == ["signing-russia-germany-2011"]
    assert build_again(world.paths, tmp_path) == world.nquads()


def test_the_command_line_dry_run(template: Path, tmp_path: Path) -> None:
    shutil.copytree(template, tmp_path / "world")
    result = subprocess.run(
        [str(FILMGRAPH), "ingest", str(SECOND), "--dry-run", "--store", str(tmp_path / "world" / "store")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "FILMGRAPH_DATA_DIR": str(tmp_path / "world" / "data")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "claims would add: signing-russia-germany-2011" in result.stdout
    assert "dry run, nothing written" in result.stdout
    assert not (tmp_path / "world" / "data" / "claims" / SECOND.name).exists()

"""Entity resolution of a new curation file against the built store: unknown ids come with the closest existing
ids, and a node declared anew that is an existing entity (label, alternative label, external identifier) is refused
unless it says `same_as` or `distinct_from`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from filmgraph.build import BuildPaths
from filmgraph.claims import ExternalIds, read_curation
from filmgraph.errors import ResolutionError
from filmgraph.resolution import check_resolution, closest_ids, normalise_name
from filmgraph.settings import Settings
from filmgraph.store import EmbeddedStore

# A short text written for these tests (not from a real article).
TEXT = "Spain and Russia met in Madrid. The Madrid Film Office hosted the talks.\n"
SOURCE = """\
source:
  id: test-second-source
  type: fg:NewsArticle
  title: A second source
  url: https://example.org/second
  publisher: screen-daily
  issued: "2011"
  language: en
entities:
{entities}
claims:
  - id: claim-madrid-office-of-spain
    subject: madrid-film-office
    predicate: fg:ofState
    object: {state}
    status: fg:Asserted
    said_by: screen-daily
    quote: "The Madrid Film Office hosted the talks"
"""
OFFICE = """\
  - id: madrid-film-office
    type: fg:Institution
    label: Madrid Film Office
"""


def curation(tmp_path: Path, entities: str = OFFICE, state: str = "spain"):
    (tmp_path / "test-second-source.txt").write_text(TEXT, encoding="utf-8")
    path = tmp_path / "test-second-source.yaml"
    path.write_text(SOURCE.format(entities=entities, state=state), encoding="utf-8")
    return read_curation(path, tmp_path)


def refusal(curation_, store, **kwargs) -> str:
    with pytest.raises(ResolutionError) as error:
        check_resolution(curation_, store, **kwargs)
    assert error.value.status_code == 422
    return str(error.value)


def test_the_first_source_resolves_against_an_empty_store_and_against_itself(built_store, tmp_path):
    settings = Settings()
    first = read_curation(next((settings.data_dir / "claims").glob("*.yaml")), settings.data_dir / "sources")
    empty = EmbeddedStore(tmp_path / "empty")
    try:
        check_resolution(first, empty)
    finally:
        empty.close()
    check_resolution(first, built_store)  # re-reading a source already in the store: its own graph is no candidate


def test_a_new_source_that_reuses_existing_ids_passes(built_store, tmp_path):
    check_resolution(curation(tmp_path), built_store)


def test_a_mistyped_id_names_the_line_and_the_closest_existing_id(built_store, tmp_path):
    message = refusal(curation(tmp_path, state="spian"), built_store)
    assert "test-second-source.yaml:" in message and "unknown entity 'spian' in object" in message
    assert "did you mean `spain`?" in message


def test_an_id_with_nothing_close_gets_no_suggestion(built_store, tmp_path):
    message = refusal(curation(tmp_path, state="atlantis"), built_store)
    assert "unknown entity 'atlantis'" in message and "did you mean" not in message


def test_an_existing_entity_declared_again_under_a_new_id_is_refused_with_candidates(built_store, tmp_path):
    again = OFFICE + "  - id: russian-federation\n    type: fg:State\n    label: russia\n"
    message = refusal(curation(tmp_path, again), built_store)
    assert "'russian-federation' ('russia') is declared as new but matches existing russia ('Russia'" in message
    assert "same_as: russia" in message and "distinct_from: russia" in message


def test_an_alternative_label_matches_too_accents_and_quotes_folded(built_store, tmp_path):
    again = OFFICE + "  - id: cinecitta\n    type: fg:StateFilmStudio\n    label: CINECITTÀ LUCE\n"
    assert "matches existing cinecitta-luce" in refusal(curation(tmp_path, again), built_store)
    union = OFFICE + "  - id: cinema-union\n    type: fg:ProfessionalUnion\n    label: Union\n    alt: [Cinematographers’ Union]\n"
    assert "matches existing russian-cinematographers-union" in refusal(curation(tmp_path, union), built_store)


def test_an_external_identifier_matches(built_store, tmp_path):
    again = OFFICE + "  - id: rossiya\n    type: fg:State\n    label: Rossiya\n    reference: RF\n"
    table = {"RF": ExternalIds(wikidata="Q159")}
    assert "matches existing russia ('http://www.wikidata.org/entity/Q159'" in refusal(
        curation(tmp_path, again), built_store, external_ids=table
    )


@pytest.mark.parametrize("decision", ["same_as", "distinct_from"])
def test_same_as_or_distinct_from_settles_the_match(built_store, tmp_path, decision):
    again = OFFICE + f"  - id: russian-federation\n    type: fg:State\n    label: Russia\n    {decision}: russia\n"
    settled = curation(tmp_path, again)
    check_resolution(settled, built_store)
    node = next(node for node in settled.nodes if node.id == "russian-federation")
    predicate = {"same_as": "owl:sameAs", "distinct_from": "owl:differentFrom"}[decision]
    assert node.links[predicate] == ["russia"]


def test_a_settling_id_must_exist(built_store, tmp_path):
    again = OFFICE + "  - id: russian-federation\n    type: fg:State\n    label: Russia\n    same_as: rusia\n"
    message = refusal(curation(tmp_path, again), built_store)
    assert "unknown entity 'rusia' in same_as" in message and "did you mean `russia`" in message


def test_an_id_another_source_declares_is_not_declared_again(built_store, tmp_path):
    again = OFFICE + "  - id: spain\n    type: fg:State\n    label: Kingdom of Spain\n"
    message = refusal(curation(tmp_path, again), built_store)
    assert "id 'spain' is already declared by source screendaily-2010-russia-european-coproduction" in message


def test_every_problem_is_reported_at_once(built_store, tmp_path):
    again = OFFICE + "  - id: russian-federation\n    type: fg:State\n    label: Russia\n"
    message = refusal(curation(tmp_path, again, state="spian"), built_store)
    assert len(message.splitlines()) == 2


def test_helpers():
    assert closest_ids("spian", ["spain", "russia", "russian-state-fund"]) == ["spain"]
    assert normalise_name("  Cinecittà   Luce ") == normalise_name("cinecitta luce")
    assert normalise_name("Cinematographers’ Union") == normalise_name("cinematographers' union")


def test_a_build_accepts_same_as_and_distinct_from(tmp_path):
    """The identity links are OWL (owl:sameAs, owl:differentFrom): the reasoner and the shapes take them."""
    from filmgraph.build import compute_graphs  # noqa: PLC0415
    from filmgraph.vocab import ID, source_graph  # noqa: PLC0415

    root = Path(__file__).resolve().parents[1]
    for name in ("data", "ontology"):
        shutil.copytree(root / name, tmp_path / name)
    paths = BuildPaths.from_dirs(tmp_path / "data", tmp_path / "ontology")
    entities = OFFICE + (
        "  - id: russian-federation\n    type: fg:State\n    label: Russia\n    same_as: russia\n"
        "  - id: spain-films\n    type: fg:Institution\n    label: Spain\n    distinct_from: spain\n"
    )
    (paths.sources_dir / "test-second-source.txt").write_text(TEXT, encoding="utf-8")
    (paths.claims_dir / "test-second-source.yaml").write_text(SOURCE.format(entities=entities, state="spain"))
    graphs = compute_graphs(paths)
    second = {(q.subject.value, q.predicate.value, q.object.value) for q in graphs[source_graph("test-second-source")]}
    owl = "http://www.w3.org/2002/07/owl#"
    assert (ID + "russian-federation", owl + "sameAs", ID + "russia") in second
    assert (ID + "spain-films", owl + "differentFrom", ID + "spain") in second

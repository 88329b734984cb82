"""Curation files: quotes become spans found in the text itself; bad input names the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmgraph.claims import load_curation, load_external_ids
from filmgraph.errors import BuildError
from filmgraph.settings import PROJECT_ROOT
from filmgraph.spans import AmbiguousQuote, QuoteNotFound, find_evidence_span, split_sentences

SOURCES = PROJECT_ROOT / "data" / "sources"
CURATION = PROJECT_ROOT / "data" / "claims" / "screendaily-2010-russia-european-coproduction.yaml"
TEXT = (SOURCES / "screendaily-2010-russia-european-coproduction.txt").read_text(encoding="utf-8")


def test_exact_quote_gives_its_offsets() -> None:
    span = find_evidence_span(TEXT, "Sergei Tolstikov")
    assert TEXT[span.begin : span.end] == "Sergei Tolstikov" == span.text


def test_straight_apostrophe_finds_the_curly_one_and_keeps_the_source_text() -> None:
    span = find_evidence_span(TEXT, "Russian Cinematographers' Union")
    assert span.text == "Russian Cinematographers’ Union" == TEXT[span.begin : span.end]


def test_whitespace_and_double_quotes_are_folded() -> None:
    span = find_evidence_span(TEXT, '"no agreements   have been\nsigned yet')
    assert span.text == "“no agreements have been signed yet"


def test_missing_and_ambiguous_quotes_are_refused() -> None:
    with pytest.raises(QuoteNotFound):
        find_evidence_span(TEXT, "Russia signed with Spain")
    with pytest.raises(AmbiguousQuote):
        find_evidence_span(TEXT, "co-production")


def test_sentences_cover_the_article_and_respect_quotation_marks() -> None:
    sentences = split_sentences(TEXT)
    assert len(sentences) == 15
    assert all(TEXT[s.begin : s.end] == s.text for s in sentences)
    assert sentences[0].text == "After Italy pact, Russia wants to get closer ties with France, Spain and Germany."
    # the full stop inside Mikhalkov's quotation does not end the sentence
    assert sentences[9].text.startswith("“Cinematography is a business") and sentences[9].text.endswith("he said.")
    assert sentences[-1].text.startswith("Theminister has also not ruled out")


def test_the_curation_file_loads_with_every_quote_resolved() -> None:
    curation = load_curation(CURATION, SOURCES)
    claims = [node for node in curation.nodes if node.provenance] + curation.relations
    assert len(claims) >= 30
    for claim in claims:
        assert claim.provenance.evidence, claim.id
        for span in claim.provenance.evidence:
            assert TEXT[span.begin : span.end] == span.text
    assert curation.source.issued == "2010"


def test_external_ids_keep_only_verified_cells() -> None:
    ids = load_external_ids(PROJECT_ROOT / "data" / "reference" / "external-ids.tsv")
    assert ids["Russia"].wikidata == "Q159" and ids["Russia"].iso3166_alpha3 == "RUS"
    assert ids["Berlin"].wikidata == "Q64" and ids["Berlin"].iso3166_alpha2 is None
    assert ids["Sergei Tolstikov"].wikidata is None


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = CURATION.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / CURATION.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"the project requires more detailed study"', '"the project requires much more study"', "not in the source"),
        ('"the project requires more detailed study"', '"co-production projects"', "occurs 2 times"),
        ("object: italy", "object: atlantis", "unknown entity 'atlantis'"),
        ("predicate: fg:ofState\n    object: italy", "predicate: zz:ofState\n    object: italy", "known prefix"),
    ],
)
def test_bad_claims_name_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(BuildError) as error:
        load_curation(path, SOURCES)
    assert message in str(error.value)
    assert str(path) in str(error.value)
    line = int(str(error.value).split(f"{path}:")[1].split(":")[0])
    claim_line = _line_of(path, new.splitlines()[0])
    assert 0 < claim_line - line < 12  # the line of the claim's mapping, a few lines above the bad field


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  - id: berlin\n", "  - id: berlin\n   bad: [unclosed\n")
    with pytest.raises(BuildError, match=rf"{path}:\d+: YAML syntax error"):
        load_curation(path, SOURCES)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  - id: berlin\n", "  - id: russia\n")
    with pytest.raises(BuildError, match="defined twice") as error:
        load_curation(path, SOURCES)
    first = _line_of(path, "  - id: russia")
    assert f"(first at {path}:{first})" in str(error.value)

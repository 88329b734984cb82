"""Each research question returns exactly the article's answer, on both backends, and parameters are bound as
terms (a VALUES row at the head of the WHERE group, written by pyoxigraph), never spliced."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from filmgraph.errors import BuildError, InvalidParameter
from filmgraph.named_queries import bind_parameters, load_named_queries, parse_named_query, run_named_query
from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import Store

QUERIES = load_named_queries(PROJECT_ROOT / "queries")
ID = "https://w3id.org/filmgraph/id/"
FG = "https://w3id.org/filmgraph/ontology#"


def short(value: str) -> str:
    return value.removeprefix(ID).replace(FG, "fg:")


def answer(store: Store, name: str, *columns: str, **params: str) -> set[tuple[str, ...]]:
    """The rows of a named query reduced to the given columns (IRIs shortened), as a set."""
    result = run_named_query(store, QUERIES[name], params)
    return {tuple(short(row[c].value) if c in row else "" for c in columns) for row in result.rows}


def test_there_are_at_least_twelve_documented_questions() -> None:
    assert len(QUERIES) >= 12
    for query in QUERIES.values():
        assert query.title and query.description, query.name
        select = re.search(r"SELECT(.*?)WHERE", query.text, re.S)
        for parameter in query.parameters:
            # pyoxigraph substitutes only projected variables; the remote backend joins on them
            assert f"?{parameter.name} " in select.group(1) + " ", (query.name, parameter.name)


def test_which_states_has_a_russian_body_signed_with(any_store: Store) -> None:
    assert answer(any_store, "signed-partners", "partnerState", "partnerParty", "ownParty", "agreement") == {
        ("italy", "cinecitta-luce", "russian-state-fund", "agreement-russian-state-fund-cinecitta-luce")
    }
    assert answer(any_store, "signed-partners", "partnerState", state="fgid:italy") == {("russia",)}
    assert answer(any_store, "signed-partners", "partnerState", state="germany") == set()


def test_postponed_agreements_where_and_until_when(any_store: Store) -> None:
    rows = answer(
        any_store, "postponed-agreements",
        "agreement", "venue", "forum", "originalTimeWorded", "newTargetWorded", "newTargetNotAfter", "decidedBy",
    )  # fmt: skip
    assert len(rows) == 1
    (agreement, venue, forum, original, target, not_after, decided) = rows.pop()
    assert (agreement, venue, forum) == ("agreement-russia-germany-co-production", "petersburg-dialogue-10", "petersburg-dialogue")
    assert (original, target, not_after) == ("this summer", "the end of the year", "2010-12-31")
    assert set(decided.split(", ")) == {"Russia", "Germany"}
    assert answer(any_store, "postponed-agreements", "agreement", agreement="agreement-russian-state-fund-cinecitta-luce") == set()


def test_who_heads_what(any_store: Store) -> None:
    assert answer(any_store, "who-heads-what", "holder", "roleLabel", "institution", "heldAt") == {
        ("sergei-tolstikov", "head", "russian-state-fund", "2010"),
        ("nikita-mikhalkov", "head", "russian-cinematographers-union", "2010"),
        ("alexander-avdeev", "culture minister", "russia", "2010"),  # a post of the state: no ministry is named
    }
    assert answer(any_store, "who-heads-what", "holder", "state", "institution", institution="russia") == {
        ("alexander-avdeev", "russia", "russia"),
    }
    assert answer(any_store, "who-heads-what", "holderLabel", institution="fgid:russian-state-fund") == {("Sergei Tolstikov",)}


def test_who_is_sceptical_of_what_in_which_words(any_store: Store) -> None:
    assert answer(any_store, "stances", "speaker", "about", "kind", "quote", stance="fg:Sceptical") == {
        ("nikita-mikhalkov", "agreement-russia-germany-co-production", "reported view", "the project requires more detailed study"),
        (
            "nikita-mikhalkov", "agreement-russia-germany-co-production", "quotation",
            "Cinematography is a business, which is associated with large investments. And in this case there is "
            "still unclear what should arise from such an agreement,",
        ),
    }  # fmt: skip
    assert answer(any_store, "stances", "speaker", "about", stance="fg:Supportive") == {
        ("german-side", "agreement-russia-germany-co-production"),
        ("alexander-avdeev", "topic-film-co-production"),
        ("sergei-tolstikov", "spain"),
    }
    assert answer(any_store, "stances", "speaker", "stance", about="agreement-russia-germany-co-production") == {
        ("nikita-mikhalkov", "fg:Sceptical"),
        ("german-side", "fg:Supportive"),
    }


def test_which_sentence_supports_a_claim(any_store: Store, source_text: str) -> None:
    rows = run_named_query(any_store, QUERIES["evidence"], {"claim": "fgid:postponement-russia-germany-signing"}).rows
    assert len(rows) == 1
    row = {name: term.value for name, term in rows[0].items()}
    assert row["quote"] == "However the partners have decided to postpone it the signing until the end of the year."
    assert source_text[int(row["begin"]) : int(row["end"])] == row["quote"]
    assert row["sentenceText"] == row["quote"] and row["sentenceNumber"] == "7"
    assert row["saidByLabel"] == "Screen Daily" and row["statusLabel"] == "asserted"
    assert row["sourceTitle"] == "Russia eyeing more European co-production talks"
    minister = answer(any_store, "evidence", "sentenceNumber", "saidBy", "status", claim="possibility-state-support-for-co-production")
    assert minister == {("15", "alexander-avdeev", "fg:Possible")}


def test_what_russia_hopes_plans_and_expects_versus_what_is_signed(any_store: Store) -> None:
    assert answer(any_store, "hopes-versus-signed", "kind", "item", "state") == {
        ("hoped", "hope-russia-ties-france-germany-spain", "france"),
        ("hoped", "hope-russia-ties-france-germany-spain", "germany"),
        ("hoped", "hope-russia-ties-france-germany-spain", "spain"),
        ("hoped", "aim-russia-closer-ties-france-spain-germany", "france"),  # the headline, in Screen Daily's voice
        ("hoped", "aim-russia-closer-ties-france-spain-germany", "germany"),
        ("hoped", "aim-russia-closer-ties-france-spain-germany", "spain"),
        ("planned", "plan-russia-european-co-production", ""),
        ("expected", "agreement-russia-germany-co-production", "germany"),  # "had been likely to be signed"
        # not the expectation of more similar agreements: that sentence names no actor
        ("negated", "negation-russia-spain-agreements", "spain"),
        ("signed", "agreement-russian-state-fund-cinecitta-luce", "italy"),
    }
    signed = {row for row in answer(any_store, "hopes-versus-signed", "kind", "state") if row[0] == "signed"}
    assert signed == {("signed", "italy")}  # a hope is not a signing: France, Germany and Spain are not signed


def test_timeline(any_store: Store) -> None:
    rows = run_named_query(any_store, QUERIES["timeline"]).rows
    events = [(short(r["event"].value), r["when"].value, r["worded"].value) for r in rows]
    assert set(events) == {
        ("establishment-russian-german-film-academy", "at", "last year"),
        ("cooperation-russia-germany", "at", "already under way"),
        ("planned-signing-russia-germany", "at", "this summer"),
        ("postponement-russia-germany-signing", "new target", "the end of the year"),
        ("signing-russian-state-fund-cinecitta-luce", "at", "recently"),
    }
    assert events[0][0] == "establishment-russian-german-film-academy"  # 2009 comes first


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            "fg:Hoped",
            {
                ("hope-russia-ties-france-germany-spain", "sergei-tolstikov", "russia"),
                ("aim-russia-closer-ties-france-spain-germany", "screen-daily", "russia"),
            },
        ),
        ("fg:Planned", {("plan-russia-european-co-production", "screen-daily", "russia")}),
        (
            "fg:Expected",
            {("expectation-more-similar-agreements", "screen-daily", ""), ("expectation-image-of-national-cinema", "screen-daily", "")},
        ),
        ("fg:Possible", {("possibility-state-support-for-co-production", "alexander-avdeev", "alexander-avdeev")}),
        ("fg:Negated", {("negation-russia-spain-agreements", "sergei-tolstikov", "russia")}),
    ],
)
def test_statements_by_status(any_store: Store, status: str, expected: set) -> None:
    assert answer(any_store, "statements-by-status", "statement", "saidBy", "actor", status=status) == expected


def test_agreements_kinds_parties_and_signed(any_store: Store) -> None:
    assert answer(any_store, "agreements", "agreement", "kind", "party", "status", "signed") == {
        ("agreement-russian-state-fund-cinecitta-luce", "fg:InterInstitutionalCoProductionAgreement", "russian-state-fund", "fg:Asserted", "true"),
        ("agreement-russian-state-fund-cinecitta-luce", "fg:InterInstitutionalCoProductionAgreement", "cinecitta-luce", "fg:Asserted", "true"),
        ("agreement-russia-germany-co-production", "fg:IntergovernmentalCoProductionAgreement", "russia", "fg:Expected", "false"),
        ("agreement-russia-germany-co-production", "fg:IntergovernmentalCoProductionAgreement", "germany", "fg:Expected", "false"),
    }
    assert answer(any_store, "agreements", "agreement", party="cinecitta-luce") == {("agreement-russian-state-fund-cinecitta-luce",)}


def test_institutions_by_state(any_store: Store) -> None:
    assert answer(any_store, "institutions-by-state", "institution", "kind", "relation", state="russia") == {
        ("russian-state-fund", "fg:StateFilmFund", "of state"),
        ("russian-cinematographers-union", "fg:ProfessionalUnion", "of state"),
        ("russian-german-film-academy", "fg:BinationalFilmAcademy", "between states"),
        ("russian-french-film-academy", "fg:BinationalFilmAcademy", "between states"),
        ("petersburg-dialogue", "fg:BilateralForum", "between states"),
    }
    assert answer(any_store, "institutions-by-state", "institution", state="italy") == {("cinecitta-luce",)}
    assert answer(any_store, "institutions-by-state", "institution", state="spain") == set()


def test_quotations(any_store: Store) -> None:
    assert answer(any_store, "quotations", "quotation", "speaker") == {
        ("quotation-mikhalkov-cinematography-is-a-business", "nikita-mikhalkov"),
        ("quotation-avdeev-co-production", "alexander-avdeev"),
        ("negation-russia-spain-agreements", "sergei-tolstikov"),
        ("view-russia-considers-spain-important", "sergei-tolstikov"),
    }
    avdeev = answer(any_store, "quotations", "verbatim", "stanceLabel", speaker="alexander-avdeev")
    assert avdeev == {
        (
            "Co-production, in most cases, requires less state support. In addition, the co-production projects with "
            "the participation of foreign partners usually has a guarantee of quality execution and completion on time.",
            "supportive",
        )
    }


def test_negations(any_store: Store) -> None:
    assert answer(any_store, "negations", "statement", "saidBy", "state", "quote") == {
        ("negation-russia-spain-agreements", "sergei-tolstikov", "spain", "no agreements have been signed yet")
    }


def test_asserted_versus_inferred(any_store: Store) -> None:
    rows = answer(any_store, "asserted-versus-inferred", "property", "value", "origin", entity="sergei-tolstikov")
    assert ("http://www.w3.org/ns/org#holds", "post-head-of-russian-state-fund", "asserted") in rows
    assert ("fg:worksFor", "russian-state-fund", "inferred") in rows
    assert ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "fg:Official", "inferred") in rows
    assert ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "fg:Person", "asserted") in rows
    assert not {(p, v) for p, v, o in rows if o == "asserted"} & {(p, v) for p, v, o in rows if o == "inferred"}


def test_establishments(any_store: Store) -> None:
    rows = answer(any_store, "establishments", "institution", "worded", "notBefore", "placeLabel", "states")
    by_institution = {row[0]: row[1:] for row in rows}
    assert set(by_institution) == {"russian-german-film-academy", "russian-french-film-academy"}
    worded, year_start, place, states = by_institution["russian-german-film-academy"]
    assert (worded, year_start, place, set(states.split(", "))) == ("last year", "2009-01-01", "Berlin", {"Russia", "Germany"})
    worded, year_start, place, states = by_institution["russian-french-film-academy"]
    assert (worded, year_start, place, set(states.split(", "))) == ("", "", "", {"Russia", "France"})  # no date or place given


def test_sources(any_store: Store) -> None:
    assert answer(any_store, "sources", "source", "title", "publisherLabel", "url", "issued", "language") == {
        (
            "screendaily-2010-russia-european-coproduction",
            "Russia eyeing more European co-production talks",
            "Screen Daily",
            "https://www.screendaily.com/russia-eyeing-more-european-co-production-talks/5020017.article",
            "2010",
            "en",
        )
    }


def test_claims_by_speaker(any_store: Store) -> None:
    assert answer(any_store, "claims-by-speaker", "claim", "status", speaker="sergei-tolstikov") == {
        ("hope-russia-ties-france-germany-spain", "fg:Hoped"),
        ("negation-russia-spain-agreements", "fg:Negated"),
        ("view-russia-considers-spain-important", "fg:Opinion"),
    }
    assert answer(any_store, "claims-by-speaker", "claim", speaker="german-side") == {("view-german-side-good-opportunity",)}



def test_what_the_source_says_about_spain_and_the_german_agreement(any_store: Store) -> None:
    assert answer(any_store, "statements-about", "statement", "role", "status", entity="spain") == {
        ("hope-russia-ties-france-germany-spain", "with state", "fg:Hoped"),
        ("aim-russia-closer-ties-france-spain-germany", "with state", "fg:Hoped"),
        ("negation-russia-spain-agreements", "with state", "fg:Negated"),
        ("view-russia-considers-spain-important", "about", "fg:Opinion"),
        ("view-russia-considers-spain-important", "with state", "fg:Opinion"),
    }
    about_agreement = answer(any_store, "statements-about", "statement", "saidBy", entity="agreement-russia-germany-co-production")
    assert about_agreement == {
        ("view-german-side-good-opportunity", "german-side"),
        ("view-mikhalkov-more-detailed-study", "nikita-mikhalkov"),
        ("quotation-mikhalkov-cinematography-is-a-business", "nikita-mikhalkov"),
    }


@pytest.mark.parametrize(
    ("agreement", "date", "expected"),
    [
        ("agreement-russia-germany-co-production", "2009-12-31", ("false", "", "")),  # nothing surely that early
        ("agreement-russia-germany-co-production", "2010-07-01", ("false", "", "")),  # summer straddles the day
        ("agreement-russia-germany-co-production", "2010-08-31", ("false", "", "")),  # the article is of 2010: not yet
        ("agreement-russia-germany-co-production", "2010-12-31", ("true", "postponed", "postponement-russia-germany-signing")),
        ("agreement-russian-state-fund-cinecitta-luce", "2010-12-31", ("true", "signed", "signing-russian-state-fund-cinecitta-luce")),
    ],
)
def test_agreement_status_as_of(any_store: Store, agreement: str, date: str, expected: tuple[str, str, str]) -> None:
    """One source only here; tests/test_status_history.py adds a second that reports the signing."""
    assert answer(any_store, "agreement-status-as-of", "known", "status", "claimNode", agreement=agreement, date=date) == {
        expected
    }


# --- parameters ------------------------------------------------------------------------------------------------


def test_parameters_become_terms_of_their_type() -> None:
    query = parse_named_query(
        "t",
        "# title: T\n# param: a iri required  A\n# param: n integer optional  N\n# param: d date optional\n"
        "# param: s string optional default=x\nSELECT ?a ?n ?d ?s WHERE {}",
    )
    bound = bind_parameters(query, {"a": "fgid:russia", "n": "10", "d": "2010-06-01"})
    assert bound["a"].value == ID + "russia"
    assert (bound["n"].value, bound["n"].datatype.value) == ("10", "http://www.w3.org/2001/XMLSchema#integer")
    assert bound["d"].datatype.value == "http://www.w3.org/2001/XMLSchema#date"
    assert bound["s"].value == "x"  # the default
    assert bind_parameters(query, {"a": "https://example.org/x"})["a"].value == "https://example.org/x"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "needs parameter 'a'"),
        ({"a": "russia> } ; DROP ALL ; #"}, "is not valid"),
        ({"a": "russia", "n": "ten"}, "is not valid"),
        ({"a": "russia", "d": "summer 2010"}, "is not valid"),
        ({"a": "russia", "zzz": "1"}, "has no parameter zzz"),
    ],
)
def test_bad_parameters_are_refused(params: dict, message: str) -> None:
    query = parse_named_query("t", "# title: T\n# param: a iri required\n# param: n integer optional\n# param: d date optional\nSELECT ?a ?n ?d WHERE {}")
    with pytest.raises(InvalidParameter, match=re.escape(message)):
        bind_parameters(query, params)


def test_a_malformed_header_is_refused() -> None:
    with pytest.raises(BuildError, match="no `# title:`"):
        parse_named_query("t", "SELECT * WHERE {}")
    with pytest.raises(BuildError, match="not a variable"):
        parse_named_query("t", "# title: T\n# param: nowhere iri optional\nSELECT * WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("stance", ["fg:Sceptical", FG + "Sceptical", "Sceptical", "sceptical"])
def test_iri_parameters_take_an_iri_a_curie_or_a_bare_local_name_of_any_namespace(any_store: Store, stance) -> None:
    expected = answer(any_store, "stances", "statement", stance="fg:Sceptical")
    assert len(expected) == 2 and answer(any_store, "stances", "statement", stance=stance) == expected
    planned = answer(any_store, "statements-by-status", "statement", status="fg:Planned")
    assert planned and answer(any_store, "statements-by-status", "statement", status="Planned") == planned
    for fund in ("russian-state-fund", "fgid:russian-state-fund", ID + "russian-state-fund"):
        assert answer(any_store, "who-heads-what", "holder", institution=fund) == {("sergei-tolstikov",)}


FILTERED = """\
# title: Labelled like this
# description: What carries a given label; the label is used only in a FILTER.
# param: label string required  The label's text.
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing WHERE {
  ?thing skos:prefLabel ?name .  # a { or WHERE in a comment does not count
  FILTER(STR(?name) = ?label)
}"""


def test_a_parameter_used_only_in_a_filter_constrains_the_answer(any_store: Store) -> None:
    query = parse_named_query("filtered", FILTERED)
    rows = run_named_query(any_store, query, {"label": "Russian State Fund"}).rows
    assert [row["thing"].value for row in rows] == [ID + "russian-state-fund"]
    assert run_named_query(any_store, query, {"label": '" ) || true || ("'}).rows == []  # data, not query text


def test_a_string_parameter_is_data_not_query_text(built_store: Store) -> None:
    query = parse_named_query(
        "labels", "# title: L\n# param: name string required\nSELECT ?name ?x WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    )
    assert run_named_query(built_store, query, {"name": '" } UNION { ?x ?p ?name } #'}).rows == []


def test_cli_query_formats(built_store_path: Path, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    base = [sys.executable, "-m", "filmgraph.cli", "query"]
    table = subprocess.run([*base, "who-heads-what", "--store", str(store)], capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "Sergei Tolstikov" in table.stdout and "(3 rows)" in table.stdout
    csv = subprocess.run(
        [*base, "stances", "--store", str(store), "--param", "stance=fg:Sceptical", "--format", "csv"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert csv.returncode == 0 and csv.stdout.splitlines()[0].startswith("statement,kind,speaker")
    assert len(csv.stdout.strip().splitlines()) == 3
    bad = subprocess.run([*base, "evidence", "--store", str(store)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "needs parameter 'claim'" in bad.stderr and "Traceback" not in bad.stderr


SAMPLE_ARGUMENTS = {
    "claim": "fgid:hope-russia-ties-france-germany-spain",
    "entity": "fgid:russia",
    "agreement": "fgid:agreement-russia-germany-co-production",
    "date": "2010-12-31",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_question_answers_and_is_tested_above(built_store: Store, name: str) -> None:
    query = QUERIES[name]
    params = {p.name: SAMPLE_ARGUMENTS[p.name] for p in query.parameters if p.required}
    assert run_named_query(built_store, query, params).rows, name
    tests = Path(__file__).read_text(encoding="utf-8")
    assert f'"{name}"' in tests.split("SAMPLE_ARGUMENTS")[0], f"no exact-answer test for {name}"

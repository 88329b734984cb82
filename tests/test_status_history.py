"""Status as reported over time, with a second source (tests/data/second-source, an invented text) that reports the
signing of the Russian-German agreement in February 2011: the history in time order with attribution, `as_of`
before and after, the named query, a card and a list that agree, and the first source's graph left as it was."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode, Triple

from api_support import SOURCE_ID, assert_span_in_source
from filmgraph.api import create_app
from filmgraph.build import BuildPaths, build_store
from filmgraph.claims import Location, Node, Provenance
from filmgraph.named_queries import load_named_queries, run_named_query
from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import EmbeddedStore, Store
from filmgraph.triples import reported_agreements, reported_status
from filmgraph.vocab import source_graph

SECOND = PROJECT_ROOT / "tests" / "data" / "second-source"
SECOND_ID = "testbulletin-2011-russia-germany-signed"
GERMAN = "agreement-russia-germany-co-production"
ITALIAN = "agreement-russian-state-fund-cinecitta-luce"
AS_OF = load_named_queries(PROJECT_ROOT / "queries")["agreement-status-as-of"]


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> EmbeddedStore:
    """A full build over the project's data plus the second source (its text and curation file)."""
    root = tmp_path_factory.mktemp("two-sources")
    shutil.copytree(PROJECT_ROOT / "data", root / "data")
    for part in ("sources", "claims"):
        for path in (SECOND / part).iterdir():
            shutil.copy(path, root / "data" / part / path.name)
    build_store(root / "store", BuildPaths.from_dirs(root / "data", PROJECT_ROOT / "ontology"))
    store = EmbeddedStore(root / "store")
    request.addfinalizer(store.close)
    return store


@pytest.fixture(scope="module")
def client(two_sources: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(store=two_sources)) as test_client:
        yield test_client


def _history(client: TestClient, agreement: str) -> list[dict]:
    response = client.get(f"/api/agreements/{agreement}/history")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agreement"]["id"] == agreement and body["total"] == len(body["reports"])
    return body["reports"]


def _states(client: TestClient, **params: str) -> dict[str, dict]:
    response = client.get("/api/agreements", params=params)
    assert response.status_code == 200, response.text
    return {a["entity"]["id"]: a for a in response.json()["agreements"]}


def _text(source_id: str) -> str:
    folder = PROJECT_ROOT / "data" if source_id == SOURCE_ID else SECOND
    return (folder / "sources" / f"{source_id}.txt").read_text(encoding="utf-8")


def test_the_history_is_every_report_in_time_order_with_who_and_where(client: TestClient) -> None:
    reports = _history(client, GERMAN)
    assert [(r["status"], r["claim"]["id"], r["time"]["not_after"]) for r in reports] == [
        ("expected", GERMAN, "2010-12-31"),  # the agreement itself: "had been likely to be signed", not planned
        # the signing likely "this summer": known at publication, not in the summer; the postponement then moved it
        ("expected", "planned-signing-russia-germany", "2010-12-31"),
        ("postponed", "postponement-russia-germany-signing", "2010-12-31"),  # decided by publication
        ("signed", "signing-russia-germany-co-production", "2011-02-28"),  # the second source: the signing's time
    ]
    planned_signing, signed = reports[1], reports[-1]
    assert planned_signing["provenance"]["status"] == "fg:Expected"
    assert planned_signing["time"]["not_before"] == "2010-01-01"  # the publication's year, not "this summer"
    assert [a["id"] for a in planned_signing["provenance"]["attributed_to"]] == ["screen-daily"]
    assert signed["provenance"]["status"] == "fg:Asserted" and signed["status_concept"] == "fg:StatusSigned"
    assert [a["id"] for a in signed["provenance"]["attributed_to"]] == ["film-diplomacy-test-bulletin"]
    assert (signed["time"]["as_worded"], signed["time"]["not_before"]) == ("in February 2011", "2011-02-01")
    assert [r["source"]["id"] for r in reports] == [SOURCE_ID] * 3 + [SECOND_ID]
    for report in reports:
        [evidence] = report["provenance"]["evidence"]
        assert evidence["source_id"] == report["source"]["id"] and evidence["sentence_text"]
        assert_span_in_source(evidence, _text(evidence["source_id"]))
    assert signed["provenance"]["evidence"][0]["quote"] == (
        "Russia and Germany signed an agreement on joint film production in February 2011"
    )


def test_a_possibility_about_the_agreement_is_not_a_status(client: TestClient) -> None:
    claims = {r["claim"]["id"] for r in _history(client, GERMAN)}
    assert "possibility-first-joint-projects-2012" not in claims  # a view about it, not where it stands


def test_status_as_of_a_date(client: TestClient) -> None:
    def state(day: str) -> tuple[str, str | None]:
        german = _states(client, as_of=day)[GERMAN]
        assert german["as_of"] == day
        report = german["status_report"]
        return german["state"], report["claim"]["id"] if report else None

    assert state("2009-12-31") == ("unknown", None)  # nothing reported for a time surely that early
    assert state("2010-08-31") == ("unknown", None)  # the article (2010) is not surely out by then
    assert state("2010-12-31") == ("postponed", "postponement-russia-germany-signing")
    assert state("2011-02-15") == ("postponed", "postponement-russia-germany-signing")  # "in February" straddles
    assert state("2011-03-01") == ("signed", "signing-russia-germany-co-production")
    assert _states(client)[GERMAN]["state"] == "signed"  # no date: the latest report


def test_as_of_works_with_the_other_filters(client: TestClient) -> None:
    assert set(_states(client, as_of="2010-12-31", status="signed")) == {ITALIAN}
    assert set(_states(client, as_of="2010-12-31", status="postponed")) == {GERMAN}
    assert set(_states(client, as_of="2011-03-01", status="signed")) == {ITALIAN, GERMAN}
    assert set(_states(client, as_of="2011-03-01", status="signed", party="germany")) == {GERMAN}
    assert set(_states(client, as_of="2011-03-01", **{"from": "2011-01-01"})) == {GERMAN}


def test_a_state_word_filters_on_the_state_not_on_a_modality_of_the_same_name(client: TestClient) -> None:
    # the German agreement's own claim is fg:Expected, but once signed it is no longer listed as expected
    assert GERMAN not in _states(client, as_of="2011-03-01", status="expected")
    assert GERMAN not in _states(client, status="expected")
    assert GERMAN in _states(client, status="fg:Expected")  # the CURIE still names the epistemic status


def test_as_of_lists_only_the_events_placed_by_then(client: TestClient) -> None:
    def events(**params: str) -> set[str]:
        return {event["entity"]["id"] for event in _states(client, **params)[GERMAN]["events"]}

    later = events() - events(as_of="2010-12-31")
    assert later == {"signing-russia-germany-co-production"}  # the 2011 signing is not shown as of 2010
    assert events(as_of="2011-03-01") == events()


@pytest.mark.parametrize("bad", ["2010-13-01", "yesterday", "2010-02-30"])
def test_an_invalid_date_is_a_422_problem(client: TestClient, bad: str) -> None:
    response = client.get("/api/agreements", params={"as_of": bad})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["parameter"] == "as_of"


@pytest.mark.parametrize("unknown", ["no-such-agreement", "russia"])
def test_the_history_of_an_unknown_agreement_is_a_404_problem(client: TestClient, unknown: str) -> None:
    response = client.get(f"/api/agreements/{unknown}/history")
    assert response.status_code == 404 and unknown in response.json()["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")


def _as_of(store: Store, agreement: str, day: str) -> dict[str, str]:
    [row] = run_named_query(store, AS_OF, {"agreement": agreement, "date": day}).rows
    return {name: term.value for name, term in row.items()}


def test_the_named_query_answers_as_the_api(two_sources: EmbeddedStore, client: TestClient) -> None:
    after = _as_of(two_sources, GERMAN, "2011-03-01")
    assert (after["status"], after["claimNode"].rsplit("/", 1)[1]) == ("signed", "signing-russia-germany-co-production")
    assert after["fromSource"].endswith(SECOND_ID) and after["said"].endswith("film-diplomacy-test-bulletin")
    assert after["claimModality"].endswith("#Asserted") and after["timeNotAfter"] == "2011-02-28"
    assert _as_of(two_sources, GERMAN, "2010-12-31")["status"] == "postponed"
    before = _as_of(two_sources, GERMAN, "2009-12-31")
    assert before["known"] == "false" and "status" not in before
    for day in ("2010-06-30", "2010-08-31", "2010-12-31", "2011-02-28", "2011-03-01", "2030-01-01"):
        for agreement in (GERMAN, ITALIAN):
            api = _states(client, as_of=day)[agreement]
            answer = _as_of(two_sources, agreement, day)
            assert answer.get("status", "unknown") == api["state"], (agreement, day)
            if api["status_report"]:
                assert answer["basedOn"] == api["status_report"]["report"]


def test_the_card_and_the_list_do_not_contradict_themselves(client: TestClient) -> None:
    card = client.get(f"/api/entities/{GERMAN}").json()
    inferred = {t["curie"]: t["label"] for t in card["types"] if t["inferred"]}
    assert inferred["fg:SignedAgreement"] == "agreement reported as signed"
    assert inferred["fg:PostponedAgreement"] == "agreement reported as postponed"  # at some time, by some source
    listed = _states(client)[GERMAN]
    history = _history(client, GERMAN)
    assert listed["state"] == history[-1]["status"] and listed["status_report"] == history[-1]
    assert listed["kinds"] == ["fg:IntergovernmentalCoProductionAgreement"]  # no timeless status class asserted
    reports = {
        r["other"]["iri"]
        for group in card["relations"]
        if group["property"].endswith("#hasStatusReport")
        for r in group["relations"]
    }
    assert reports == {r["report"] for r in history}


def test_the_first_sources_graph_is_unchanged_by_the_second(two_sources: EmbeddedStore, built_store: Store) -> None:
    graph = NamedNode(source_graph(SOURCE_ID))
    alone = {(q.subject, q.predicate, q.object) for q in built_store.quads() if q.graph_name == graph}
    together = {(q.subject, q.predicate, q.object) for q in two_sources.quads() if q.graph_name == graph}
    assert alone == together and len(alone) > 500
    second = NamedNode(source_graph(SECOND_ID))
    added = {q.subject.value.rsplit("/", 1)[1] for q in two_sources.quads() if q.graph_name == second}
    assert "status-report-signing-russia-germany-co-production" in added
    assert GERMAN not in added  # the second source reports on the agreement; it does not describe it again


def _claim(types: list[str], status: str, **links: list[str]) -> Node:
    where = Location(Path("test.yaml"), 1)
    return Node("x", types, "x", where, links=dict(links), provenance=Provenance(status, "screen-daily", []))


@pytest.mark.parametrize(
    ("types", "status", "reported"),
    [
        (["fg:Signing"], "fg:Asserted", "fg:StatusSigned"),
        (["fg:Signing"], "fg:Expected", "fg:StatusExpected"),  # "likely to be signed" is not signed
        (["fg:Signing"], "fg:Planned", "fg:StatusPlanned"),  # a plan is not a signing
        (["fg:Signing"], "fg:Hoped", "fg:StatusHoped"),  # a hope is not a plan
        (["fg:Signing"], "fg:Negated", "fg:StatusUnsigned"),
        (["fg:PlannedSigning"], "fg:Asserted", "fg:StatusPlanned"),
        (["fg:Postponement"], "fg:Asserted", "fg:StatusPostponed"),
        (["fg:Signing"], "fg:Opinion", None),
    ],
)
def test_the_reported_status_follows_the_modality(types: list[str], status: str, reported: str | None) -> None:
    event = _claim(types, status, **{"fg:concernsAgreement": [GERMAN]})
    assert reported_status(event) == reported
    assert reported_agreements(event) == [GERMAN]


def test_an_agreements_own_claim_reports_only_a_modality() -> None:
    kind = ["fg:IntergovernmentalCoProductionAgreement"]
    agreement = _claim(kind, "fg:Planned", **{"fg:party": ["russia", "germany"]})
    assert (reported_status(agreement), reported_agreements(agreement)) == ("fg:StatusPlanned", ["x"])
    asserted = _claim(kind, "fg:Asserted", **{"fg:party": ["a", "b"]})
    assert reported_status(asserted) is None  # that an agreement exists says nothing of where it stands
    statement = _claim(["fg:ReportedView"], "fg:Possible", **{"fg:about": [GERMAN]})
    assert reported_agreements(statement) == []


def _local(iri: str) -> str:
    return re.split("[#/]", iri)[-1]


def _card_edges(client: TestClient, entity_id: str) -> dict[tuple[str, str, str], dict]:
    response = client.get(f"/api/entities/{entity_id}")
    assert response.status_code == 200, response.text
    return {
        (relation["direction"], _local(relation["property"]), _local(relation["other"]["iri"])): relation
        for group in response.json()["relations"]
        for relation in group["relations"]
    }


def _supports(relation: dict) -> list[tuple[str, str | None, list[str | None]]]:
    return [(p["claim"].split("/")[-1], p["status"], [e["source_id"] for e in p["evidence"]])
            for p in relation["provenance"]]  # fmt: skip


def test_an_edge_carries_the_claim_that_states_it_not_the_agreements_own(client: TestClient) -> None:
    """The signing reported by the second source is the event's claim (fg:Asserted, second source), and each status
    report carries the claim it is derived from; the agreement's own fg:Expected claim supports only its own edges."""
    edges = _card_edges(client, GERMAN)
    signing = "signing-russia-germany-co-production"
    signed_by_second = [(signing, "fg:Asserted", [SECOND_ID])]
    assert _supports(edges[("out", "hasEvent", signing)]) == signed_by_second
    assert _supports(edges[("in", "concernsAgreement", signing)]) == signed_by_second
    assert edges[("out", "hasEvent", signing)]["status"] == "fg:Asserted"
    for direction, prop in (("out", "hasStatusReport"), ("in", "statusOf")):
        assert _supports(edges[(direction, prop, f"status-report-{signing}")]) == signed_by_second
        assert _supports(edges[(direction, prop, "status-report-planned-signing-russia-germany")]) == [
            ("planned-signing-russia-germany", "fg:Expected", [SOURCE_ID])
        ]
    own = [(GERMAN, "fg:Expected", [SOURCE_ID])]
    assert _supports(edges[("out", "party", "germany")]) == own  # the agreement's own edges keep its claim
    assert _supports(edges[("in", "partyTo", "russia")]) == own


def test_a_users_triple_about_a_claim_borrows_no_sources_provenance(two_sources: EmbeddedStore,
                                                                      client: TestClient) -> None:
    note = NamedNode("urn:test:my-note")
    about = NamedNode("http://purl.org/dc/terms/references")
    agreement = NamedNode(f"https://w3id.org/filmgraph/id/{GERMAN}")
    two_sources.add_to_graph("urn:notes", [Triple(note, about, agreement), Triple(agreement, about, note)])
    try:
        edges = _card_edges(client, GERMAN)
        for key in (("in", "references", "urn:test:my-note"), ("out", "references", "urn:test:my-note")):
            assert edges[key]["origin"] == "asserted" and edges[key]["provenance"] == [], edges[key]
            assert edges[key]["status"] is None
    finally:
        two_sources.drop_graph("urn:notes")

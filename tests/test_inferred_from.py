"""Inferred values say they are inferred and from what: the rules and the asserted premises, with their evidence
(issue 17, "Evidence on every answer"), on entity cards and /id/ pages."""

from __future__ import annotations

import pytest

from filmgraph.vocab import FG, INFERRED_GRAPH, source_graph

ACADEMY = "russian-german-film-academy"
SOURCE_GRAPH = source_graph("screendaily-2010-russia-european-coproduction")
ESTABLISHED = "Russian-German Film Academy, which was established last year in Berlin"


def _relation(card: dict, prop: str, other: str) -> dict:
    return next(r for g in card["relations"] for r in g["relations"]
                if r["property"] == prop and r["other"]["id"] == other)  # fmt: skip


def test_an_academy_s_founding_time_and_place_name_their_premises(rest) -> None:
    card = rest.get(f"/api/entities/{ACADEMY}").json()
    for prop, other, link in ((FG + "foundingTime", "time-2009", "atTime"), (FG + "foundingPlace", "berlin", "location")):
        relation = _relation(card, prop, other)
        assert relation["origin"] == "inferred"
        derivation = relation["derivation"]
        assert derivation["rules"] == [
            f"fg:{prop.removeprefix(FG)} is the chain fg:establishedThrough ∘ fg:{link}",
            "fg:establishedThrough is the inverse of fg:establishes",
        ]
        premises = {(p["subject"]["id"], p["property"].removeprefix(FG), p["object"]["id"]) for p in derivation["premises"]}
        assert premises == {(f"establishment-{ACADEMY}", "establishes", ACADEMY), (f"establishment-{ACADEMY}", link, other)}
        for premise in derivation["premises"]:
            assert premise["graphs"] == [SOURCE_GRAPH]
            [claim] = premise["provenance"]
            assert claim["status"] == "fg:Asserted" and [e["quote"] for e in claim["evidence"]] == [ESTABLISHED]
        assert relation["status"] == "fg:Asserted"  # the premises' claims are the relation's evidence
        assert [p["claim"].rsplit("/", 1)[1] for p in relation["provenance"]] == [f"establishment-{ACADEMY}"]


def test_an_asserted_relation_has_no_derivation(rest) -> None:
    card = rest.get(f"/api/entities/{ACADEMY}").json()
    relation = _relation(card, FG + "betweenStates", "germany")
    assert relation["origin"] == "asserted" and relation["derivation"] is None


@pytest.mark.parametrize("entity_id", ["russia", ACADEMY, "sergei-tolstikov", "agreement-russia-germany-co-production"])
def test_every_inferred_relation_and_type_is_derived_from_asserted_triples(rest, entity_id: str) -> None:
    card = rest.get(f"/api/entities/{entity_id}").json()
    inferred = [r for g in card["relations"] for r in g["relations"] if r["origin"] == "inferred"]
    inferred += [t for t in card["types"] if t["inferred"]]
    assert inferred
    for value in inferred:
        assert value["derivation"], value
        for premise in value["derivation"]["premises"]:
            assert premise["graphs"] and INFERRED_GRAPH not in premise["graphs"]


def _premises(derivation: dict) -> set[tuple[str, str, str]]:
    return {(p["subject"]["id"], p["property"].rsplit("#", 1)[-1], p["object"]["id"] or p["object"]["iri"].rsplit("#")[-1])
            for p in derivation["premises"]}  # fmt: skip


def test_an_official_is_one_because_he_holds_a_post(rest) -> None:
    types = {t["curie"]: t for t in rest.get("/api/entities/sergei-tolstikov").json()["types"]}
    official = types["fg:Official"]
    assert official["inferred"] and official["derivation"]["rules"] == [
        "fg:Official is defined as org:holds some fg:Post and fg:Person"]
    post = "post-head-of-russian-state-fund"
    assert _premises(official["derivation"]) == {
        ("sergei-tolstikov", "holds", post), (post, "type", "Post"), ("sergei-tolstikov", "type", "Person")}
    [claim] = next(p for p in official["derivation"]["premises"] if p["property"].endswith("holds"))["provenance"]
    assert claim["claim"].endswith(post) and claim["evidence"][0]["quote"] == "the head of the Fund, Sergei Tolstikov"
    assert types["fg:Person"]["derivation"] is None  # asserted


def test_postponed_is_read_from_the_postponed_report_not_any_report(rest) -> None:
    types = {t["curie"]: t for t in rest.get("/api/entities/agreement-russia-germany-co-production").json()["types"]}
    report = "status-report-postponement-russia-germany-signing"
    assert (report, "reportedStatus", "StatusPostponed") in _premises(types["fg:PostponedAgreement"]["derivation"])
    assert (report, "statusOf", "agreement-russia-germany-co-production") in _premises(
        types["fg:PostponedAgreement"]["derivation"])


def test_the_page_says_inferred_from_what(rest) -> None:
    page = rest.get(f"/id/{ACADEMY}", headers={"Accept": "text/html"}).text
    assert "inferred by the reasoner (fg:foundingTime is the chain fg:establishedThrough ∘ fg:atTime;" in page
    assert f"“{ESTABLISHED}”" in page

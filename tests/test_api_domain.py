"""Domain views against the article: the two agreements and their histories, the timeline, the source."""

from __future__ import annotations

from api_support import SOURCE_ID, assert_span_in_source

ITALIAN = "agreement-russian-state-fund-cinecitta-luce"
GERMAN = "agreement-russia-germany-co-production"


def _agreements(rest, **params) -> dict[str, dict]:
    response = rest.get("/api/agreements", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["agreements"])
    return {a["entity"]["id"]: a for a in body["agreements"]}


def test_the_two_agreements_their_parties_and_state(rest):
    found = _agreements(rest)
    assert set(found) == {ITALIAN, GERMAN}
    italian, german = found[ITALIAN], found[GERMAN]
    assert sorted(p["id"] for p in italian["parties"]) == ["cinecitta-luce", "russian-state-fund"]
    assert italian["kinds"] == ["fg:InterInstitutionalCoProductionAgreement"]
    assert italian["state"] == "signed" and italian["subject_matter"] == "strengthening joint co-production"
    assert sorted(p["id"] for p in german["parties"]) == ["germany", "russia"]
    assert german["kinds"] == ["fg:IntergovernmentalCoProductionAgreement"]
    assert german["state"] == "postponed" and german["provenance"][0]["status"] == "fg:Expected"


def test_the_german_agreements_history_has_dates_and_venue(rest, source_text):
    german = _agreements(rest)[GERMAN]
    history = [(e["entity"]["id"], e["time"], e["venue"], e["new_target_time"]) for e in german["events"]]
    assert [event_id for event_id, *_ in history] == [
        "planned-signing-russia-germany",
        "postponement-russia-germany-signing",
    ]
    _, planned_time, venue, _ = history[0]
    assert (planned_time["as_worded"], planned_time["not_before"], planned_time["not_after"]) == (
        "this summer",
        "2010-06-01",
        "2010-08-31",
    )
    assert venue["id"] == "petersburg-dialogue-10" and venue["label"] == "Tenth Petersburg Dialogue"
    target = history[1][3]
    assert (target["as_worded"], target["not_after"]) == ("the end of the year", "2010-12-31")
    [postponement] = german["events"][1]["provenance"]
    assert postponement["evidence"][0]["quote"] == (
        "However the partners have decided to postpone it the signing until the end of the year."
    )
    for event in german["events"]:
        for evidence in event["provenance"][0]["evidence"]:
            assert_span_in_source(evidence, source_text)


def test_agreements_filtered_by_party_state_and_dates(rest):
    assert set(_agreements(rest, party="cinecitta-luce")) == {ITALIAN}
    assert set(_agreements(rest, party="italy")) == {ITALIAN}  # through the studio's state
    assert set(_agreements(rest, party="germany")) == {GERMAN}
    assert set(_agreements(rest, party="russia")) == {ITALIAN, GERMAN}
    assert set(_agreements(rest, party="spain")) == set()
    assert set(_agreements(rest, status="signed")) == {ITALIAN}
    assert set(_agreements(rest, status="postponed")) == {GERMAN}
    assert set(_agreements(rest, status="fg:Expected")) == {GERMAN}  # "likely to be signed"
    assert set(_agreements(rest, status="fg:Planned")) == set()  # "likely" is not "planned"
    typo = rest.get("/api/agreements", params={"status": "sigend"})  # not an empty list that reads as "none"
    assert typo.status_code == 422 and "signed" in typo.json()["detail"] and "fg:Planned" in typo.json()["detail"]
    assert set(_agreements(rest, **{"from": "2011-01-01"})) == set()
    assert GERMAN in _agreements(rest, **{"from": "2010-06-01", "to": "2010-08-31"})


def test_timeline_is_in_date_order_with_evidence(rest, source_text):
    body = rest.get("/api/timeline").json()
    events = body["events"]
    assert body["total"] == len(events) == 5  # the forum session is undated: "this summer" is the signing's
    ids = [e["entity"]["id"] for e in events]
    assert ids[0] == "establishment-russian-german-film-academy"  # "last year": 2009
    assert events[0]["time"]["as_worded"] == "last year" and events[0]["time"]["not_before"] == "2009-01-01"
    ends = [(e["time"] or e["new_target_time"])["not_after"] for e in events]
    assert ends == sorted(ends)
    for event in events:
        for claim in event["provenance"]:
            for evidence in claim["evidence"]:
                assert_span_in_source(evidence, source_text)


def test_timeline_is_the_dated_events_as_in_the_named_query(rest):
    events = rest.get("/api/timeline").json()["events"]
    ids = [e["entity"]["id"] for e in events]
    assert all("fg:Event" in e["entity"]["types"] for e in events)  # no statements, no source
    postponement = events[ids.index("postponement-russia-germany-signing")]
    assert postponement["time"] is None and postponement["new_target_time"]["not_after"] == "2010-12-31"
    # "recently" (no later than 2010-12-31) happened before the end-of-year target it shares an upper bound with
    assert ids.index("signing-russian-state-fund-cinecitta-luce") < ids.index("postponement-russia-germany-signing")
    named = rest.get("/api/queries/timeline").json()["rows"]
    assert ids == [row["event"].rpartition("/")[2] for row in named]


def test_sources_list_and_one_source_with_its_claims(rest, source_text):
    listing = rest.get("/api/sources").json()
    [summary] = listing["sources"]
    assert summary["id"] == SOURCE_ID and summary["title"] == "Russia eyeing more European co-production talks"
    detail = rest.get(f"/api/sources/{SOURCE_ID}").json()
    assert detail["text"] == source_text
    assert detail["claims"] == len(detail["claim_list"]) == summary["claims"] > 30
    by_id = {c["claim"]["id"]: c for c in detail["claim_list"]}
    head = by_id["claim-tolstikov-heads-russian-state-fund"]
    assert (head["subject"]["id"], head["predicate_label"], head["object"]["id"]) == (
        "sergei-tolstikov",
        "head of",
        "russian-state-fund",
    )
    begins = [min(e["begin"] for e in c["provenance"]["evidence"]) for c in detail["claim_list"]]
    assert begins == sorted(begins)
    for claim in detail["claim_list"]:
        for evidence in claim["provenance"]["evidence"]:
            assert_span_in_source(evidence, source_text)
    assert rest.get("/api/sources/no-such-source").status_code == 404


def test_the_german_agreements_reported_statuses_in_time_order(rest, source_text):
    body = rest.get(f"/api/agreements/{GERMAN}/history").json()
    assert [(r["status"], r["claim"]["id"]) for r in body["reports"]] == [
        ("expected", GERMAN),  # all three at the publication (2010): expected ranks below postponed
        ("expected", "planned-signing-russia-germany"),  # "had been likely to be signed this summer"
        ("postponed", "postponement-russia-germany-signing"),
    ]
    for report in body["reports"]:
        assert report["source"]["id"] == SOURCE_ID
        assert [a["id"] for a in report["provenance"]["attributed_to"]] == ["screen-daily"]
        for evidence in report["provenance"]["evidence"]:
            assert_span_in_source(evidence, source_text)
    assert rest.get("/api/agreements/no-such-agreement/history").status_code == 404


def test_agreements_as_of_a_date(rest):
    german = _agreements(rest, as_of="2010-12-31")[GERMAN]
    assert german["state"] == "postponed"
    assert german["status_report"]["claim"]["id"] == "postponement-russia-germany-signing"
    assert _agreements(rest, as_of="2009-06-01")[GERMAN]["state"] == "unknown"
    assert set(_agreements(rest, as_of="2010-12-31", status="signed")) == {ITALIAN}
    assert rest.get("/api/agreements", params={"as_of": "2010-12-32"}).status_code == 422

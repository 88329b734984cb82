"""REST lookups against the graph built from the article: search, the entity card, relations, paths.

Every expected value is a fact of the article; evidence offsets are checked against the source text itself.
"""

from __future__ import annotations

import pytest

from api_support import SOURCE_ID, assert_span_in_source, relations_of

from filmgraph.entities import entity_card

FUND = "russian-state-fund"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cinecitta", "cinecitta-luce"),
        ("CINECITTÀ luce", "cinecitta-luce"),
        ("russian fund", "russian-state-fund"),
        ("tolstikof", "sergei-tolstikov"),
        ("mikhal", "nikita-mikhalkov"),
        ("Russia", "russia"),
    ],
)
def test_search_ranks_the_intended_entity_first(rest, q, expected):
    body = rest.get("/api/entities", params={"q": q}).json()
    assert body["items"][0]["entity"]["id"] == expected
    assert body["total"] == len(body["items"]) or body["next"]


def test_search_filters_by_class_including_inferred_ones(rest):
    states = rest.get("/api/entities", params={"type": "State", "limit": 100}).json()
    assert {hit["entity"]["id"] for hit in states["items"]} == {"russia", "italy", "france", "germany", "spain"}
    curie = rest.get("/api/entities", params={"type": "fg:Institution", "q": "fund"}).json()
    assert [hit["entity"]["id"] for hit in curie["items"]][:1] == [FUND]


def test_search_pages_with_total_and_next_links(rest):
    everything = rest.get("/api/entities", params={"limit": 100}).json()
    first = rest.get("/api/entities", params={"limit": 3}).json()
    assert first["total"] == everything["total"] > 3
    assert first["items"] == everything["items"][:3]
    second = rest.get(first["next"]).json()
    assert second["offset"] == 3 and second["items"] == everything["items"][3:6]
    last = rest.get("/api/entities", params={"limit": 3, "offset": everything["total"] - 1}).json()
    assert last["next"] is None and len(last["items"]) == 1


def test_card_of_the_fund(rest):
    card = rest.get(f"/api/entities/{FUND}").json()
    assert card["label"] == "Russian State Fund"
    assert {"value": "the Fund", "lang": "en", "kind": "alt", "kinds": ["alt"]} in card["labels"]
    types = {t["curie"]: t["inferred"] for t in card["types"]}
    assert types["fg:StateFilmFund"] is False
    assert types["fg:Institution"] is True
    assert card["description"] == "The organisation responsible for social and economic support of Russian cinema."


def test_the_funds_head_is_sergei_tolstikov_with_evidence(rest, source_text):
    heads = relations_of(rest, FUND, property="org:headOf", direction="in")
    assert [(r["other"]["id"], r["origin"], r["status"]) for r in heads] == [
        ("sergei-tolstikov", "asserted", "fg:Asserted")
    ]
    [claim] = heads[0]["provenance"]
    [evidence] = claim["evidence"]
    assert evidence["quote"] == "the head of the Fund, Sergei Tolstikov"
    assert evidence["source_id"] == SOURCE_ID
    assert_span_in_source(evidence, source_text)
    assert evidence["sentence_text"].startswith("According to the head of the Fund, Sergei Tolstikov,")


def test_the_funds_agreement_with_cinecitta_luce_with_evidence(rest, source_text):
    parties = relations_of(rest, FUND, property="fg:party", direction="in")
    [agreement] = [r for r in parties if r["other"]["id"] == "agreement-russian-state-fund-cinecitta-luce"]
    assert agreement["status"] == "fg:Asserted"
    quotes = [e["quote"] for p in agreement["provenance"] for e in p["evidence"]]
    assert quotes == [
        "Italy pact",
        "signed an agreement with Italian state film studio Cinecitta Luce on strengthening joint co-production",
    ]
    for evidence in (e for p in agreement["provenance"] for e in p["evidence"]):
        assert_span_in_source(evidence, source_text)
    other_parties = relations_of(rest, agreement["other"]["id"], property="party", direction="out")
    assert sorted(r["other"]["id"] for r in other_parties) == ["cinecitta-luce", FUND]


def test_relations_that_are_only_claimed_keep_their_status(rest):
    likely = relations_of(rest, "germany", property="fg:party", direction="in", status="Expected")
    assert [r["other"]["id"] for r in likely] == ["agreement-russia-germany-co-production"]
    assert likely[0]["status"] == "fg:Expected"
    assert relations_of(rest, "germany", property="fg:party", direction="in", status="Planned") == []
    assert relations_of(rest, "germany", status="fg:Hoped", property="party") == []
    typo = rest.get("/api/entities/germany/relations", params={"status": "Hopped"})
    assert typo.status_code == 422 and "fg:Hoped" in typo.json()["detail"]


def test_card_groups_every_relation_by_property_and_direction(rest):
    card = rest.get(f"/api/entities/{FUND}").json()
    groups = {(g["direction"], g["property"]): g for g in card["relations"]}
    flat = relations_of(rest, FUND)
    assert sum(len(g["relations"]) for g in card["relations"]) == len(flat)
    assert groups[("in", "http://www.w3.org/ns/org#headOf")]["property_label"] == "head of"
    assert all(r["direction"] == d and r["property"] == p for (d, p), g in groups.items() for r in g["relations"])


def test_path_from_tolstikov_to_cinecitta_luce(rest):
    body = rest.get(
        "/api/paths", params={"from": "sergei-tolstikov", "to": "cinecitta-luce", "max_hops": 4}
    ).json()
    assert body["paths"], "Tolstikov heads the Fund, which signed with Cinecittà Luce"
    assert {path["hops"] for path in body["paths"]} == {3}
    routes = [[node["id"] for node in path["nodes"]] for path in body["paths"]]
    assert ["sergei-tolstikov", FUND, "agreement-russian-state-fund-cinecitta-luce", "cinecitta-luce"] in routes
    for path, ids in zip(body["paths"], routes, strict=True):
        for step, (here, there) in zip(path["steps"], zip(ids, ids[1:], strict=False), strict=True):
            ends = (step["source"]["id"], step["target"]["id"])
            assert ends == ((here, there) if step["walked"] == "forward" else (there, here))
            assert step["property_label"]


def test_each_path_step_carries_its_edge_s_evidence_as_the_entity_card_does(rest, source_text):
    body = rest.get(
        "/api/paths", params={"from": "sergei-tolstikov", "to": "cinecitta-luce", "max_hops": 4}
    ).json()
    steps = [step for path in body["paths"] for step in path["steps"]]
    assert steps and all(step["provenance"] for step in steps)  # every hop of these paths is supported by a claim
    for step in steps:
        relations = rest.get(f"/api/entities/{step['source']['id']}/relations", params={"direction": "out"}).json()
        [same] = [r for r in relations["relations"]
                  if r["property"] == step["property"] and r["other"]["iri"] == step["target"]["iri"]]  # fmt: skip
        assert (step["status"], step["provenance"]) == (same["status"], same["provenance"])
        for evidence in (e for claim in step["provenance"] for e in claim["evidence"]):
            assert source_text[evidence["begin"]:evidence["end"]] == evidence["quote"]


def test_the_card_carries_the_spans_its_label_and_definition_are_read_from(rest, source_text):
    card = rest.get("/api/entities/russian-state-fund").json()
    quotes = [m["quote"] for m in card["mentions"]]
    assert "the Russian State Fund, the organisation responsible for social and economic support of Russian cinema" in quotes
    assert any(card["label"] in quote for quote in quotes)
    assert [(m["begin"], m["end"]) for m in card["mentions"]] == sorted((m["begin"], m["end"]) for m in card["mentions"])
    for mention in card["mentions"]:
        assert source_text[mention["begin"]:mention["end"]] == mention["quote"] and mention["source_id"]


def test_no_path_within_too_few_hops(rest):
    body = rest.get("/api/paths", params={"from": "sergei-tolstikov", "to": "cinecitta-luce", "max_hops": 2})
    assert body.status_code == 200 and body.json()["paths"] == []


def test_an_inferred_inverse_is_marked_and_keeps_the_evidence_it_follows_from(rest, source_text):
    [has_head] = relations_of(rest, FUND, property="fg:hasHead", direction="out")
    assert (has_head["other"]["id"], has_head["origin"]) == ("sergei-tolstikov", "inferred")
    [evidence] = has_head["provenance"][0]["evidence"]
    assert evidence["quote"] == "the head of the Fund, Sergei Tolstikov"
    assert_span_in_source(evidence, source_text)


def test_card_lists_only_the_verified_external_identifiers(rest):
    russia = rest.get("/api/entities/russia").json()
    assert {(i["property"], i["value"]) for i in russia["identifiers"]} == {
        ("skos:exactMatch", "http://www.wikidata.org/entity/Q159"),
        ("fg:iso3166Alpha2", "RU"),
        ("fg:iso3166Alpha3", "RUS"),
    }
    assert rest.get(f"/api/entities/{FUND}").json()["identifiers"] == []  # "not verified: leave out"


def test_card_of_an_n_ary_claim_carries_its_own_status_and_evidence(rest, source_text):
    card = rest.get("/api/entities/agreement-russia-germany-co-production").json()
    [own] = card["provenance"]
    assert own["status"] == "fg:Expected"
    assert [e["quote"] for e in own["evidence"]] == ["an agreement between the two countries on joint film production"]
    assert_span_in_source(own["evidence"][0], source_text)
    assert {"property": "fg:subjectMatter", "property_label": "subject matter", "value": "joint film production",
            "datatype": "xsd:string", "lang": None} in card["attributes"]


@pytest.mark.parametrize("entity_id", [FUND, "russia", "agreement-russia-germany-co-production", "sergei-tolstikov"])
def test_both_backends_give_the_same_card(embedded_store, remote_store, entity_id):
    """The library itself, no HTTP in between: the remote engine answers the card's queries identically."""
    embedded, remote = entity_card(embedded_store, entity_id), entity_card(remote_store, entity_id)
    assert embedded.relations and embedded == remote


def test_paths_do_not_pass_through_a_shared_date(rest):
    body = rest.get("/api/paths", params={"from": "sergei-tolstikov", "to": "nikita-mikhalkov", "max_hops": 4}).json()
    routes = {tuple(node["id"] for node in path["nodes"]) for path in body["paths"]}
    assert ("sergei-tolstikov", FUND, "russia", "russian-cinematographers-union", "nikita-mikhalkov") in routes
    assert all("time-2010" not in route for route in routes)  # both posts are held "now", which is no link
    to_a_time = rest.get("/api/paths", params={"from": "petersburg-dialogue-10", "to": "time-summer-2010"}).json()
    # the session is not dated itself: "this summer" is the likely signing's, which the session is the venue of
    assert [[n["id"] for n in p["nodes"]] for p in to_a_time["paths"]] == [
        ["petersburg-dialogue-10", "planned-signing-russia-germany", "time-summer-2010"]]


BOOKKEEPING = {"fg:Claim", "fg:EvidenceSpan", "fg:Sentence", "fg:TimeExpression"}


@pytest.mark.parametrize("q", ["germany", "co-production", "cinecitta", "summer", "sentence"])
def test_search_leaves_out_claims_spans_sentences_and_times(rest, q):
    body = rest.get("/api/entities", params={"q": q, "limit": 100}).json()
    assert not [hit["entity"]["id"] for hit in body["items"] if BOOKKEEPING & set(hit["entity"]["types"])]


def test_search_ranks_named_entities_before_what_merely_mentions_them(rest):
    ids = [hit["entity"]["id"] for hit in rest.get("/api/entities", params={"q": "germany"}).json()["items"]]
    assert ids[0] == "germany"
    for name in ("german-side", "russian-german-film-academy", "petersburg-dialogue"):
        assert name in ids[:6]
    second = rest.get("/api/entities", params={"q": "cinecitta"}).json()["items"][1]["entity"]
    assert "fg:Claim" not in second["types"]


def test_search_can_still_ask_for_a_bookkeeping_class_by_name(rest):
    claims = rest.get("/api/entities", params={"q": "germany", "type": "fg:Claim"}).json()
    assert claims["total"] > 0 and all("fg:Claim" in hit["entity"]["types"] for hit in claims["items"])


@pytest.mark.parametrize("q", ['"}', "!!!", " - "])
def test_search_for_punctuation_only_finds_nothing(rest, q):
    response = rest.get("/api/entities", params={"q": q})
    assert response.status_code == 200 and response.json()["total"] == 0


def test_card_lists_each_name_once_with_the_properties_carrying_it(rest):
    labels = rest.get("/api/entities/germany").json()["labels"]
    names = [(label["value"], label["lang"]) for label in labels]
    assert len(names) == len(set(names))
    [germany] = [label for label in labels if label["value"] == "Germany"]
    assert germany["kind"] == "pref" and germany["kinds"][0] == "pref" and len(germany["kinds"]) > 1


def _ids(rest, q: str, **params) -> list[str]:
    return [hit["entity"]["id"] for hit in rest.get("/api/entities", params={"q": q, **params}).json()["items"]]


def test_multi_word_search_matches_across_a_label_and_what_it_is_linked_to(rest, any_store):
    """"mikhalkov union": Mikhalkov and the union he heads, read from the graph (org:headOf), both found, each
    saying which word matched its own label and which a linked entity's name."""
    [row] = any_store.query(
        'PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> '
        'SELECT ?person ?union WHERE { ?person skos:prefLabel "Nikita Mikhalkov"@en ; org:headOf ?union }'
    ).rows
    hits = rest.get("/api/entities", params={"q": "mikhalkov union"}).json()["items"]
    by_id = {hit["entity"]["iri"]: hit for hit in hits}
    assert {row["person"].value, row["union"].value} <= set(by_id)
    assert {hit["entity"]["iri"] for hit in hits[:2]} == {row["person"].value, row["union"].value}
    person = by_id[row["person"].value]
    assert person["match"] == "partial" and {r["query"] for r in person["why"]} == {"mikhalkov", "union"}
    assert any(r["field"] == "label" and r["query"] == "mikhalkov" for r in person["why"])


def test_search_finds_a_statement_by_the_words_of_its_evidence(rest, any_store):
    """"image of national cinema" (words of the article, not of any label) finds the statement they are evidence of."""
    rows = any_store.query(
        'PREFIX fg: <https://w3id.org/filmgraph/ontology#> PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> '
        'SELECT DISTINCT ?s WHERE { ?s a fg:Statement ; fg:evidence/nif:anchorOf ?q FILTER(CONTAINS(?q, "image of national cinema")) }'
    ).rows
    assert rows
    hit = rest.get("/api/entities", params={"q": "image of national cinema"}).json()["items"][0]
    assert hit["entity"]["iri"] in {row["s"].value for row in rows}
    assert any(r["query"] == "national" and r["field"] in ("evidence quote", "proposition") for r in hit["why"])


def test_every_hit_says_why_it_matched(rest):
    for q in ("tolstikof", "cinecitta", "Russia", "russian fund"):
        for hit in rest.get("/api/entities", params={"q": q, "limit": 100}).json()["items"]:
            assert hit["why"] and hit["match"] in {"exact", "prefix", "words", "partial"}
    typo = rest.get("/api/entities", params={"q": "tolstikof"}).json()["items"][0]
    assert typo["why"][0]["kind"] == "typo" and 0.75 <= typo["why"][0]["similarity"] < 1


def test_an_identifier_finds_its_entity_exactly(rest, any_store):
    rows = any_store.query(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?e ?wd WHERE { ?e skos:exactMatch ?wd "
        "FILTER(STRSTARTS(STR(?wd), 'http://www.wikidata.org/entity/')) } LIMIT 1"
    ).rows
    assert rows, "the graph holds Wikidata identifiers (data/reference/external-ids.tsv)"
    qid = rows[0]["wd"].value.rsplit("/", 1)[1]
    hit = rest.get("/api/entities", params={"q": qid}).json()["items"][0]
    assert hit["entity"]["iri"] == rows[0]["e"].value and hit["match"] == "exact"
    assert hit["why"][0]["field"] == "identifier"

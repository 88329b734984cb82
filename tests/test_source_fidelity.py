"""The first source's graph says what the article says and no more (issue 17, "Fidelity of the first source").

One test per finding of the independent read; docs/model.md, "Fidelity rules", gives the rule each one pins.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

from filmgraph.store import Store
from filmgraph.vocab import ID, PREFIXES, REFERENCE_GRAPH, source_graph

SOURCE = source_graph("screendaily-2010-russia-european-coproduction")
SPARQL = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def rows(store: Store, query: str, **bindings: str) -> set[tuple[str, ...]]:
    """Each row's values (local names for data individuals, CURIE-free IRIs otherwise), as a set."""
    result = store.query(SPARQL + query, bindings={k: NamedNode(ID + v) for k, v in bindings.items()})
    return {tuple(term.value.removeprefix(ID) for term in row.values()) for row in result.rows}


def values(store: Store, node: str, prop: str) -> set[str]:
    return {row[0] for row in rows(store, f"SELECT ?o ?n WHERE {{ ?n {prop} ?o }}", n=node)}


# --- 1. external identifiers are reference data, not the article's words --------------------------------------
def test_identifiers_are_in_the_reference_graph_with_where_each_comes_from(built_store: Store) -> None:
    in_source = rows(built_store, f"SELECT ?s ?o WHERE {{ GRAPH <{SOURCE}> {{ ?s skos:exactMatch|fg:iso3166Alpha2|"
                                  "fg:iso3166Alpha3 ?o } }")
    assert in_source == set()
    found = rows(built_store, f"""SELECT ?row ?authority ?table WHERE {{ GRAPH <{REFERENCE_GRAPH}> {{
        fgid:russia skos:exactMatch ?q .
        ?record a fg:IdentifierRecord ; rdf:subject fgid:russia ; rdf:predicate skos:exactMatch ; rdf:object ?q ;
                fg:identifies fgid:russia ; fg:referenceRow ?row ; prov:hadPrimarySource ?authority ;
                prov:wasDerivedFrom/dcterms:identifier ?table }} }}""")
    assert found == {("Russia", "wikidata", "data/reference/external-ids.tsv")}
    codes = rows(built_store, f"""SELECT ?code ?authority WHERE {{ GRAPH <{REFERENCE_GRAPH}> {{
        ?record fg:identifies fgid:russia ; rdf:predicate fg:iso3166Alpha2 ; rdf:object ?code ;
                prov:hadPrimarySource ?authority }} }}""")
    assert codes == {("RU", "iso-3166-1")}


def test_a_card_says_where_an_identifier_comes_from(rest) -> None:
    card = rest.get("/api/entities/russia").json()
    wikidata = next(i for i in card["identifiers"] if i["property"] == "skos:exactMatch")
    assert wikidata["value"] == "http://www.wikidata.org/entity/Q159"
    assert (wikidata["graph"], wikidata["table"], wikidata["row"]) == (REFERENCE_GRAPH, "data/reference/external-ids.tsv",
                                                                       "Russia")
    assert wikidata["issued_by"]["label"] == "Wikidata"
    page = rest.get("/id/russia", headers={"Accept": "text/html"}).text
    assert "issued by Wikidata, read from data/reference/external-ids.tsv (row “Russia”)" in page


# --- 2. "more similar agreements could be signed with other European countries" ----------------------------------
def test_the_expectation_of_more_agreements_is_about_others_like_the_signed_one(built_store: Store) -> None:
    node = "expectation-more-similar-agreements"
    assert values(built_store, node, "fg:actor") == set()  # the sentence names no actor
    assert values(built_store, node, "fg:about") == set()  # not about the signed Cinecittà agreement
    assert values(built_store, node, "fg:aboutOthersLike") == {"agreement-russian-state-fund-cinecitta-luce"}
    assert values(built_store, node, "fg:withState") == set()  # no state from outside knowledge
    assert values(built_store, node, "fg:withParty") == {"other-european-countries"}
    assert values(built_store, "other-european-countries", "skos:prefLabel") == {"other European countries"}
    assert values(built_store, "other-european-countries", "a") >= {PREFIXES["fg"] + "UnnamedParty"}
    assert values(built_store, node, "fg:atTime/fg:asWorded") == {"by the end of 2010"}
    assert values(built_store, node, "fg:epistemicStatus") == {PREFIXES["fg"] + "Expected"}
    reports = rows(built_store, "SELECT ?r WHERE { ?r fg:statusOf fgid:agreement-russian-state-fund-cinecitta-luce }")
    assert reports == {("status-report-signing-russian-state-fund-cinecitta-luce",)}  # the expectation reports none


# --- 3. the Tenth Petersburg Dialogue and the likely German signing ------------------------------------------------
def test_the_forum_session_is_not_dated_and_the_signing_was_likely_not_planned(built_store: Store) -> None:
    assert values(built_store, "petersburg-dialogue-10", "fg:atTime") == set()  # "this summer" is the hedged plan's
    assert values(built_store, "petersburg-dialogue-10", "fg:ordinal") == {"10"}
    expected = PREFIXES["fg"] + "Expected"
    assert values(built_store, "planned-signing-russia-germany", "fg:epistemicStatus") == {expected}
    assert values(built_store, "planned-signing-russia-germany", "fg:atTime") == {"time-summer-2010"}
    assert values(built_store, "agreement-russia-germany-co-production", "fg:epistemicStatus") == {expected}
    assert values(built_store, "postponement-russia-germany-signing", "fg:epistemicStatus") == {
        PREFIXES["fg"] + "Asserted"}
    planned = rows(built_store, "SELECT ?x WHERE { ?x fg:epistemicStatus fg:Planned }")
    assert planned == {("plan-russia-european-co-production",)}  # only "Russia is planning"


def test_the_status_history_stays_consistent(rest) -> None:
    history = rest.get("/api/agreements/agreement-russia-germany-co-production/history").json()["reports"]
    assert [(r["status"], r["claim"]["id"]) for r in history] == [
        ("expected", "agreement-russia-germany-co-production"),
        ("expected", "planned-signing-russia-germany"),
        ("postponed", "postponement-russia-germany-signing"),
    ]
    as_of = rest.get("/api/agreements", params={"as_of": "2010-12-31", "status": "postponed"}).json()
    assert [a["entity"]["id"] for a in as_of["agreements"]] == ["agreement-russia-germany-co-production"]


# --- 4. the academy established with France -------------------------------------------------------------------
def test_the_french_academy_is_labelled_as_referred_to_and_consistent(built_store: Store) -> None:
    academy = "russian-french-film-academy"
    assert values(built_store, academy, "skos:prefLabel") == {"similar academy established with France"}
    assert values(built_store, academy, "skos:altLabel") == {"a similar academy"}
    assert values(built_store, academy, "fg:betweenStates") == {"russia", "france"}
    assert values(built_store, f"establishment-{academy}", "fg:participant") == {"russia", "france"}
    assert values(built_store, f"establishment-{academy}", "fg:atTime|fg:location") == set()  # the article gives none


# --- 5. no ministry the article does not name ------------------------------------------------------------------
def test_the_culture_minister_is_a_post_of_the_state(built_store: Store) -> None:
    assert rows(built_store, "SELECT ?p ?o WHERE { fgid:russian-ministry-of-culture ?p ?o }") == set()
    post = "post-russian-minister-of-culture"
    assert values(built_store, post, "fg:postOfState") == {"russia"}
    assert values(built_store, post, "org:postIn") == set()
    assert values(built_store, post, "skos:prefLabel") == {"Russian Culture Minister"}
    assert values(built_store, "alexander-avdeev", "org:holds") == {post}
    assert values(built_store, "alexander-avdeev", "org:headOf") == set()
    kinds = values(built_store, "russia", "a")
    assert PREFIXES["fg"] + "State" in kinds and PREFIXES["fg"] + "Institution" not in kinds


def test_who_heads_what_and_relations_answer_the_ministers_post(rest) -> None:
    heads = rest.get("/api/queries/who-heads-what", params={"institution": "russia"}).json()["rows"]
    assert [(r["holderLabel"], r["postLabel"], r["stateLabel"]) for r in heads] == [
        ("Alexander Avdeev", "Russian Culture Minister", "Russia")]
    posts = rest.get("/api/entities/russia/relations", params={"property": "postOfState", "direction": "in"}).json()
    [relation] = posts["relations"]
    assert relation["other"]["id"] == "post-russian-minister-of-culture" and relation["status"] == "fg:Asserted"


# --- 6. cooperation already under way ----------------------------------------------------------------------------
def test_the_cooperation_under_way_may_have_begun_before_2010(built_store: Store) -> None:
    assert values(built_store, "time-under-way", "fg:notBefore") == set()
    assert values(built_store, "time-under-way", "fg:notAfter") == {"2010-12-31"}  # under way by publication
    assert values(built_store, "cooperation-russia-germany", "fg:atTime") == {"time-under-way"}


# --- 7. the small items ---------------------------------------------------------------------------------------
def test_quotes_words_and_definitions_are_the_article_s(built_store: Store, source_text: str) -> None:
    spain = "view-russia-considers-spain-important"
    [quote] = values(built_store, spain, "fg:evidence/nif:anchorOf")
    assert values(built_store, spain, "fg:verbatim") == {quote} and quote in source_text
    assert values(built_store, "time-2010", "fg:asWorded") == set()  # the publication year is not worded
    for (worded,) in rows(built_store, "SELECT ?w WHERE { ?t fg:asWorded ?w }"):
        assert worded.casefold() in source_text.casefold(), worded  # "Recently" opens its sentence
    [union] = values(built_store, "russian-cinematographers-union", "skos:definition")
    assert "film-makers" not in union and union.startswith("The Russian union of cinematographers")

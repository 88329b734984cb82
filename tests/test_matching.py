"""The one matcher (filmgraph.matching) on entries written for the tests: kinds of match, typos ranked by their
similarity, the documented tie-breaks, reasons, and the folding the draft finds mentions with."""

from __future__ import annotations

import pytest

from filmgraph.matching import Entry, Matcher, find_names, fold, normalise, text


def entry(key: str, *names: str, words=(), context=(), identifiers=(), named=True, prominence=0) -> Entry:
    texts = [text(name, "name", "label" if i == 0 else "alternative label") for i, name in enumerate(names)]
    texts += [text(w, "words", "evidence quote") for w in words]
    texts += [text(label, "context", "linked entity", via) for via, label in context]
    return Entry(key, names[0], tuple(texts), tuple(identifiers), named, prominence)


PEOPLE = [
    entry("ivanov", "Pyotr Ivanov", context=[("org:headOf", "Moscow Film Guild")], prominence=2),
    entry("guild", "Moscow Film Guild", context=[("^org:headOf", "Pyotr Ivanov")], identifiers=["Q42"]),
    entry("ivanova", "Anna Ivanova", prominence=5),
    entry("statement", "guild expected to grow", words=["which is expected to raise the profile of national film"],
          named=False),
]


def keys(query: str, entries=PEOPLE) -> list[str]:
    return [match.entry.key for match in Matcher(entries).match(query)]


def test_words_across_a_label_and_its_context_find_both_ends_of_the_link():
    matches = Matcher(PEOPLE).match("ivanov guild")
    assert {m.entry.key for m in matches} >= {"ivanov", "guild"}
    by_key = {m.entry.key: m for m in matches}
    assert [(r.query, r.field, r.via) for r in by_key["ivanov"].reasons] == [
        ("ivanov", "label", None), ("guild", "linked entity", "org:headOf")]
    assert ("ivanov", "linked entity", "^org:headOf") in [(r.query, r.field, r.via) for r in by_key["guild"].reasons]


def test_context_alone_never_carries_a_hit():
    assert "guild" not in keys("pyotr")  # the guild is linked to Pyotr Ivanov, but "pyotr" is in none of its texts
    assert keys("pyotr")[0] == "ivanov"


def test_a_statement_is_found_by_its_own_words():
    [match] = Matcher(PEOPLE).match("profile of national film")
    assert match.entry.key == "statement"
    assert {r.field for r in match.reasons} == {"evidence quote"}


def test_typos_rank_by_string_similarity_not_by_order_or_prominence():
    matches = Matcher(PEOPLE).match("ivanovv")  # one letter off Ivanov, two off Ivanova
    assert [m.entry.key for m in matches[:2]] == ["ivanov", "ivanova"]
    assert matches[0].reasons[0].kind == "typo" and matches[0].reasons[0].similarity > matches[1].reasons[0].similarity


def test_kinds_of_match_come_first_then_named_things_then_prominence():
    # "guild expected to grow" starts with the query, "Moscow Film Guild" only holds it: the kind wins over named
    assert keys("guild")[:2] == ["statement", "guild"]
    tied = [entry("a", "Film Office", prominence=1), entry("b", "Film Office", prominence=3),
            entry("c", "Film Office", named=False, prominence=9)]
    assert keys("film office", tied) == ["b", "a", "c"]  # all exact: named first, then the more prominent


def test_exact_names_and_identifiers():
    matcher = Matcher(PEOPLE)
    [first, *_] = matcher.match("Q42")
    assert first.entry.key == "guild" and first.kind == "exact" and first.reasons[0].field == "identifier"
    assert [e.key for e in matcher.exact("MOSCOW film-guild")] == ["guild"]
    assert matcher.match("Moscow Film Guild")[0].kind == "exact"
    assert matcher.match("Moscow F")[0].kind == "prefix"


def test_short_words_are_not_matched_as_typos():
    assert keys("of") == ["statement"]  # the word itself only: "of" is within a typo of "or", "on", …


@pytest.mark.parametrize("source", ["Cinecittà  Luce’s “pact”", "Russian-German\tforum", "STRASSE Straße"])
def test_fold_agrees_with_normalise_and_keeps_offsets(source):
    folded = fold(source)
    assert " ".join(folded.text.split()) == normalise(source)
    for name, begin, end in find_names(folded, [normalise(word) for word in source.split()]):
        assert normalise(source[begin:end]) == name

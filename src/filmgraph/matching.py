"""One matcher for every place a name is looked up: search, ingest's entity resolution, the draft's mentions and
the reconciliation service, so that a name found (or refused) in one is found (or refused) in the others.

Text is compared after `normalise` (no case, accents, punctuation or spacing). A query is split into words; each
word is matched against the words of an entry's names (labels, alternative labels), the words it says (a
statement's proposition, verbatim text and evidence quotes; a definition) and its context (the names of the
entities it is linked to, with the property linking them): exactly, as a prefix, or as a typo by rapidfuzz's
normalised Indel similarity. So "mikhalkov union" finds Mikhalkov (head of the union) and the union (headed by
Mikhalkov). Context alone never carries a hit: at least one word must match the entry's own names or words.

Ranking, in this order: the kind of match (an exact name or identifier; a name that starts with the query; every
word in one name; words across names, words and context, or typos), then named things (agents, places) before
the statements and events about them, then the score (how close, how much of the name the query covers), then
prominence (how many source spans mention the entry or carry its claims), then the shorter name, then the key.
Every match carries the reasons for it (which query word matched what, how, and how closely).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

TYPO_CUTOFF = 75  # rapidfuzz ratio: "tolstikof" ~ "tolstikov" 89, "germany" ~ "german" 92; unrelated words < 60
MIN_TYPO_LENGTH = 4  # shorter words are all within a typo of each other ("of" ~ "or")
ID_SUGGESTION_CUTOFF = 70  # `spian` -> `spain` 80, `rusia` -> `russia` 91; unrelated ids below 55
KIND_VALUE = {"exact": 1.0, "prefix": 0.9}  # a typo is worth 0.9 x its similarity
FIELD_WEIGHT = {"name": 1.0, "words": 0.7, "context": 0.6}
TIERS = {"exact": 4, "prefix": 3, "words": 2, "partial": 1}


@lru_cache(maxsize=1 << 16)  # the same names recur (a neighbour's label in every entity linked to it)
def normalise(text: str) -> str:
    """Case-, accent-, punctuation- and spacing-insensitive form: "Cinecittà  Luce" and "cinecitta-luce" are both
    "cinecitta luce"; "Cinematographers’ Union" is "cinematographers union"."""
    return " ".join(_fold_char(text).split())


def _fold_char(text: str) -> str:
    """NFKD without combining marks, case-folded, every character that is not a letter or digit a space. Each step
    maps characters one by one, so folding a text whole (`normalise`) or per character (`fold`) agrees."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return "".join(ch if ch.isalnum() else " " for ch in bare)


@dataclass(frozen=True)
class Folded:
    """A text folded like `normalise` (spaces not collapsed at the ends), with the original offset of every
    folded character, so that a name found in it is reported as the verbatim span of the text."""

    text: str
    origin: list[int]

    def span(self, begin: int, end: int) -> tuple[int, int]:
        return self.origin[begin], self.origin[end - 1] + 1


def fold(text: str) -> Folded:
    """Fold character by character with the very function `normalise` uses, so the two can never disagree."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in _fold_char(char):
            if piece == " " and folded and folded[-1] == " ":
                continue
            folded.append(piece)
            origin.append(index)
    return Folded("".join(folded), origin)


def find_names(folded: Folded, names: Iterable[str]) -> list[tuple[str, int, int]]:
    """Every occurrence of every (normalised) name in a folded text on word boundaries, nested ones included,
    as (name, begin, end) offsets of the original text."""
    found = []
    for name in sorted({name for name in names if name}):
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)")
        found += [(name, *folded.span(m.start(), m.end())) for m in pattern.finditer(folded.text)]
    return sorted(found, key=lambda item: (item[1], item[2], item[0]))


def closest_ids(target: str, pool: Iterable[str], limit: int = 3) -> list[str]:
    """The ids nearest to a mistyped one, best first (rapidfuzz's ratio: the weighted ratio also scores partial
    matches, and offered `russian-state-fund` for `spian`)."""
    matches = process.extract(target, list(pool), scorer=fuzz.ratio, limit=limit, score_cutoff=ID_SUGGESTION_CUTOFF)
    return [match for match, _, _ in matches]


# --- entries and matches ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One text an entry can be matched by: a name ("label", "alternative label"), something it says ("words")
    or the name of a linked entity ("context", with the linking property in `via`)."""

    text: str
    field: str  # "name", "words" or "context"
    kind: str  # how the reason calls it: "label", "alternative label", "statement text", "linked entity", …
    via: str | None = None
    tokens: tuple[str, ...] = ()


def text(value: str, field_: str, kind: str, via: str | None = None) -> Text:
    return Text(value, field_, kind, via, tuple(normalise(value).split()))


@dataclass(frozen=True)
class Entry:
    """Something that can be matched: an entity, a class or a property. `key` is unique (an IRI)."""

    key: str
    label: str
    texts: tuple[Text, ...]
    identifiers: tuple[str, ...] = ()
    named: bool = False
    prominence: int = 0

    @property
    def names(self) -> tuple[Text, ...]:
        return tuple(t for t in self.texts if t.field == "name")


@dataclass(frozen=True)
class Reason:
    """Why an entry matched: a query word (or the whole query), what it matched, how and how closely."""

    query: str
    matched: str
    field: str  # "label", "alternative label", "identifier", "statement text", "definition", "linked entity", …
    kind: str  # "exact", "prefix" or "typo"
    similarity: float
    via: str | None = None


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    kind: str  # "exact", "prefix", "words" or "partial"
    matched: str  # the name (or identifier) that matched best
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def rank(self) -> tuple:
        return (-TIERS[self.kind], not self.entry.named, -self.score, -self.entry.prominence, len(self.matched),
                self.matched.casefold(), self.entry.key)


@dataclass(frozen=True)
class _WordHit:
    kind: str  # exact, prefix, typo
    similarity: float

    @property
    def value(self) -> float:
        return KIND_VALUE.get(self.kind, 0.9 * self.similarity)


class Matcher:
    """An index over entries: words to the entries using them, normalised names and identifiers to entries."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        postings: dict[str, set[int]] = defaultdict(set)
        self._by_name: dict[str, set[int]] = defaultdict(set)
        self._by_identifier: dict[str, set[int]] = defaultdict(set)
        for index, entry in enumerate(self.entries):
            for item in entry.texts:
                for token in item.tokens:
                    postings[token].add(index)
                if item.field == "name":
                    self._by_name[" ".join(item.tokens)].add(index)
            for identifier in entry.identifiers:
                self._by_identifier[identifier].add(index)
        self._postings = dict(postings)
        self._vocabulary = sorted(postings)

    def exact(self, query: str) -> list[Entry]:
        """Entries with this exact name (after normalisation) or identifier."""
        hits = self._by_name.get(normalise(query), set()) | self._by_identifier.get(query.strip(), set())
        return [self.entries[index] for index in sorted(hits)]

    def match(self, query: str) -> list[Match]:
        """Every entry the query matches, best first (see the module docstring for the order)."""
        tokens = normalise(query).split()
        word_hits = [self._word_hits(token) for token in tokens]
        reached: set[int] = set(self._by_identifier.get(query.strip(), set()))
        for hits in word_hits:
            for word in hits:
                reached |= self._postings[word]
        found = [self._score(self.entries[index], query, tokens, word_hits) for index in reached]
        return sorted((match for match in found if match is not None), key=lambda match: match.rank)

    def _word_hits(self, token: str) -> dict[str, _WordHit]:
        hits: dict[str, _WordHit] = {}
        if len(token) >= MIN_TYPO_LENGTH:
            for word, similarity, _ in process.extract(
                token, self._vocabulary, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=None
            ):
                hits[word] = _WordHit("typo", similarity / 100)
        start = bisect_left(self._vocabulary, token)
        for word in self._vocabulary[start:]:
            if not word.startswith(token):
                break
            hits[word] = _WordHit("exact" if word == token else "prefix", 1.0)
        return hits

    def _score(self, entry: Entry, query: str, tokens: list[str], word_hits: list[dict[str, _WordHit]]) -> Match | None:
        whole = _whole_name(entry, query, tokens)
        if whole is not None:
            return whole
        best = [_best_hit(entry, token, hits) for token, hits in zip(tokens, word_hits)]
        if not best or any(hit is None for hit in best):
            return None
        chosen = [hit for hit in best if hit is not None]
        if not any(item.field != "context" for item, _, _ in chosen):
            return None
        reasons = tuple(_reason(token, item, word, hit) for token, (item, word, hit) in zip(tokens, chosen))
        one_name = _all_words_in_one_name(entry, word_hits)
        if one_name is not None:
            coverage = len(" ".join(tokens)) / max(len(" ".join(one_name.tokens)), 1)
            return Match(entry, 0.8 + 0.05 * min(coverage, 1.0), "words", one_name.text, reasons)
        mean = sum(FIELD_WEIGHT[item.field] * hit.value for item, _, hit in chosen) / len(chosen)
        names = [item.text for item, _, _ in chosen if item.field == "name"]
        return Match(entry, 0.75 * mean, "partial", names[0] if names else entry.label, reasons)


def _whole_name(entry: Entry, query: str, tokens: list[str]) -> Match | None:
    """An exact identifier or name, or a name that starts with the whole query."""
    wanted = " ".join(tokens)
    for item in entry.names:
        if wanted and " ".join(item.tokens) == wanted:
            return Match(entry, 1.0, "exact", item.text, (Reason(query, item.text, item.kind, "exact", 1.0),))
    if query.strip() and query.strip() in entry.identifiers:
        reason = Reason(query.strip(), query.strip(), "identifier", "exact", 1.0)
        return Match(entry, 1.0, "exact", query.strip(), (reason,))
    prefixes = [(len(" ".join(item.tokens)), item) for item in entry.names
                if wanted and " ".join(item.tokens).startswith(wanted)]
    if not prefixes:
        return None
    length, item = min(prefixes, key=lambda pair: (pair[0], pair[1].text))
    reason = Reason(query, item.text, item.kind, "prefix", len(wanted) / length)
    return Match(entry, 0.9 + 0.05 * len(wanted) / length, "prefix", item.text, (reason,))


def _best_hit(entry: Entry, token: str, hits: dict[str, _WordHit]) -> tuple[Text, str, _WordHit] | None:
    best: tuple[float, int, Text, str, _WordHit] | None = None
    for order, item in enumerate(entry.texts):
        for word in item.tokens:
            hit = hits.get(word)
            if hit is None:
                continue
            value = FIELD_WEIGHT[item.field] * hit.value
            if best is None or value > best[0]:
                best = (value, order, item, word, hit)
    return None if best is None else (best[2], best[3], best[4])


def _all_words_in_one_name(entry: Entry, word_hits: list[dict[str, _WordHit]]) -> Text | None:
    """The shortest name that holds every query word exactly or as a prefix (no typo, no other text)."""
    fitting = [
        item
        for item in entry.names
        if all(any(word in hits and hits[word].kind != "typo" for word in item.tokens) for hits in word_hits)
    ]
    return min(fitting, key=lambda item: (len(item.text), item.text), default=None)


def _reason(token: str, item: Text, word: str, hit: _WordHit) -> Reason:
    return Reason(token, item.text if item.field != "words" else word, item.kind, hit.kind,
                  round(hit.similarity, 4), item.via)

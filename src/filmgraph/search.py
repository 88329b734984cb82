"""Label search: find entities by name the way a reader types it (no accents, partial words, typos).

Matching happens in Python over the labels read from the store, so the user's text never enters a query.
The label table is read once per store generation: the graph changes only when it is rebuilt or written to
(a remote store's generation counts only its own writes: restart after writing to the remote engine directly).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from weakref import WeakKeyDictionary

from pyoxigraph import Literal

from .errors import InvalidParameter
from .lookup import PROVENANCE_TYPES, SPARQL_PREFIXES, curie, local_id, term_matches
from .records import EntityRef, SearchHit
from .store import Store
from .vocab import ID

MIN_FUZZY_RATIO = 0.75
MAX_QUERY_LENGTH = 200
# Bookkeeping nodes (relation claims, evidence spans, sentences, time expressions): left out of search unless
# `type=` names one of their classes, since a reader looks up what the claims are about, not the claims.
BOOKKEEPING_TYPES = PROVENANCE_TYPES | {"fg:TimeExpression", "time:TemporalEntity"}
# Within one match tier, named things (agents, places) come before agreements, events and statements about them.
NAMED_TYPES = {"fg:Agent", "fg:Place"}

_IN_DATA_NAMESPACE = f"isIRI(?e) && STRSTARTS(STR(?e), {Literal(ID)})"
_CANDIDATES = f"""
SELECT ?e ?kind ?label WHERE {{
  {{ ?e skos:prefLabel ?label . BIND("pref" AS ?kind) }}
  UNION {{ ?e skos:altLabel ?label . BIND("alt" AS ?kind) }}
  UNION {{ ?e rdfs:label ?label . BIND("label" AS ?kind) }}
  FILTER({_IN_DATA_NAMESPACE})
}}"""
_TYPES = f"SELECT ?e ?type WHERE {{ ?e a ?type . FILTER({_IN_DATA_NAMESPACE} && isIRI(?type)) }}"


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "Cinecittà Luce" → "cinecitta luce"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[^\W_]+", bare))


def _token_ratio(token: str, candidates: list[str]) -> float:
    """How well one query token matches its best label token: 1 for a prefix, else difflib's ratio."""
    return max(
        (1.0 if word.startswith(token) else SequenceMatcher(None, token, word).ratio() for word in candidates),
        default=0.0,
    )


def match_score(query: str, label: str) -> float:
    """Rank of a normalised label for a normalised query: exact > prefix > all words > substring > fuzzy."""
    if not query or not label:
        return 0.0
    if query == label:
        return 1.0
    brevity = len(query) / len(label)
    if label.startswith(query):
        return 0.9 + 0.05 * brevity
    query_tokens, label_tokens = query.split(), label.split()
    ratios = [_token_ratio(token, label_tokens) for token in query_tokens]
    if all(ratio == 1.0 for ratio in ratios):
        return 0.8 + 0.05 * brevity
    if query in label:
        return 0.7 + 0.05 * brevity
    mean = sum(ratios) / len(ratios)
    return 0.6 * mean if min(ratios) >= MIN_FUZZY_RATIO else 0.0


@dataclass(frozen=True)
class _Candidate:
    iri: str
    label: str
    labels: tuple[str, ...]
    types: tuple[str, ...]


_cache: WeakKeyDictionary[Store, tuple[int, list[_Candidate]]] = WeakKeyDictionary()


def _preferred(names: dict[str, set[str]]) -> str:
    for kind in ("pref", "label", "alt"):
        if names.get(kind):
            return min(names[kind])
    return ""


def _read_candidates(store: Store) -> list[_Candidate]:
    found: dict[str, dict[str, set[str]]] = {}
    for row in store.query(SPARQL_PREFIXES + _CANDIDATES).rows:
        found.setdefault(row["e"].value, {}).setdefault(row["kind"].value, set()).add(row["label"].value)
    found_types: dict[str, set[str]] = {}
    for row in store.query(_TYPES).rows:
        found_types.setdefault(row["e"].value, set()).add(row["type"].value)
    return [
        _Candidate(
            iri,
            _preferred(names),
            tuple(sorted(set().union(*names.values()))),
            tuple(sorted(found_types.get(iri, ()))),
        )
        for iri, names in sorted(found.items())
    ]


def candidates(store: Store) -> list[_Candidate]:
    """Every labelled data individual with its labels and classes, cached per store generation."""
    generation = store.generation
    cached = _cache.get(store)
    if cached is None or cached[0] != generation:
        cached = (generation, _read_candidates(store))
        _cache[store] = cached
    return cached[1]


def _best_label(query: str, candidate: _Candidate) -> tuple[float, str]:
    return max(((match_score(query, normalise(label)), label) for label in candidate.labels), default=(0.0, ""))


def search_entities(
    store: Store,
    q: str = "",
    type_: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, list[SearchHit]]:
    """Entities whose labels match `q`, best first, optionally only those of class `type_` (local name,
    CURIE or IRI; inferred classes count). Returns (total matches, the requested page). An empty `q` lists all.
    """
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidParameter(f"q is longer than {MAX_QUERY_LENGTH} characters")
    query = normalise(q)
    if q.strip() and not query:
        return 0, []  # only punctuation: nothing to match, not "list all"
    scored: list[tuple[float, str, _Candidate]] = []
    for candidate in candidates(store):
        if not _wanted(candidate, type_):
            continue
        score, matched = _best_label(query, candidate) if query else (1.0, candidate.label)
        if score > 0:
            scored.append((score, matched, candidate))
    scored.sort(key=_rank)
    page = scored[offset : offset + limit]
    return len(scored), [_hit(score, matched, candidate) for score, matched, candidate in page]


def _wanted(candidate: _Candidate, type_: str | None) -> bool:
    if type_:
        return any(term_matches(t, type_) for t in candidate.types)
    return not any(curie(t) in BOOKKEEPING_TYPES for t in candidate.types)


def _tier(score: float) -> int:
    """exact 10, prefix 9, all words 8, substring 7, fuzzy 0: the kind of match, before its fine score."""
    return int(score * 10 + 1e-9) if score >= 0.7 else 0


def _rank(item: tuple[float, str, _Candidate]) -> tuple:
    score, matched, candidate = item
    named = any(curie(t) in NAMED_TYPES for t in candidate.types)
    return (-_tier(score), not named, -score, len(matched), matched.casefold(), candidate.iri)


def _hit(score: float, matched: str, candidate: _Candidate) -> SearchHit:
    entity = EntityRef(
        iri=candidate.iri,
        id=local_id(candidate.iri),
        label=candidate.label,
        types=[curie(t) for t in candidate.types],
    )
    return SearchHit(entity=entity, matched_label=matched, score=round(score, 4))

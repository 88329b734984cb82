"""Search: find entities by name the way a reader types it (no accents, partial words, typos, words of a
statement, names of what an entity is linked to), through the one matcher (`filmgraph.matching`).

Matching happens in Python over a table read from the store, so the user's text never enters a query. The table
(every labelled data individual with its names, classes, identifiers, the words it says, the names of its
neighbours and its prominence) is read once per store generation: the graph changes only when it is rebuilt or
written to (a remote store's generation counts only its own writes: restart after writing to the remote engine
directly).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import Literal, NamedNode

from .entities import IDENTIFIER_PROPERTIES, PROVENANCE_PREDICATES
from .errors import InvalidParameter
from .lookup import PROVENANCE_TYPES, SPARQL_PREFIXES, literal_int, local_id, term_matches
from .matching import Entry, Match, Matcher, text
from .records import EntityRef, MatchReason, SearchHit
from .store import Store
from .store.derived import PerVersion
from .vocab import ID, PREFIXES, curie

MAX_QUERY_LENGTH = 200
# Bookkeeping nodes (relation claims, evidence spans, sentences, time expressions): left out of search unless
# `type=` names one of their classes, since a reader looks up what the claims are about, not the claims.
BOOKKEEPING_TYPES = PROVENANCE_TYPES | {"fg:TimeExpression", "time:TemporalEntity"}
# Named things (agents, places) come before agreements, events and statements about them, within a kind of match.
NAMED_TYPES = {"fg:Agent", "fg:Place"}
# Links that say where a node comes from or who says it, not what it is related to: not context.
NOT_CONTEXT = PROVENANCE_PREDICATES | IDENTIFIER_PROPERTIES | {PREFIXES["prov"] + "wasAttributedTo"}
WORD_PROPERTIES = {"skos:definition": "definition", "fg:proposition": "proposition", "fg:verbatim": "verbatim"}

_IN_DATA = f"isIRI(?e) && STRSTARTS(STR(?e), {Literal(ID)})"
_NAMES = f"""
SELECT ?e ?kind ?label WHERE {{
  {{ ?e skos:prefLabel ?label . BIND("pref" AS ?kind) }}
  UNION {{ ?e skos:altLabel ?label . BIND("alt" AS ?kind) }}
  UNION {{ ?e rdfs:label ?label . BIND("label" AS ?kind) }}
  FILTER({_IN_DATA})
}}"""
_TYPES = f"SELECT ?e ?type WHERE {{ ?e a ?type . FILTER({_IN_DATA} && isIRI(?type)) }}"
_IDENTIFIERS = f"""
SELECT ?e ?value WHERE {{ ?e skos:exactMatch|owl:sameAs|fg:iso3166Alpha2|fg:iso3166Alpha3 ?value FILTER({_IN_DATA}) }}"""
_WORDS = f"""
SELECT ?e ?kind ?text WHERE {{
  {{ ?e ?p ?text VALUES (?p ?kind) {{ {" ".join(f'({p} "{k}")' for p, k in WORD_PROPERTIES.items())} }} }}
  UNION {{ ?e fg:evidence/nif:anchorOf ?text . BIND("evidence quote" AS ?kind) }}
  FILTER({_IN_DATA} && isLiteral(?text))
}}"""
_EDGES = f"""
SELECT DISTINCT ?e ?p ?o WHERE {{
  ?e ?p ?o FILTER(?p NOT IN ({", ".join(str(NamedNode(p)) for p in sorted(NOT_CONTEXT))}))
  FILTER({_IN_DATA} && isIRI(?o) && STRSTARTS(STR(?o), {Literal(ID)}) && ?o != ?e)
}}"""
_PROMINENCE = f"""
SELECT ?e (COUNT(DISTINCT ?span) AS ?n) WHERE {{ ?e fg:mentionedAt|fg:evidence ?span FILTER({_IN_DATA}) }}
GROUP BY ?e"""
_NAME_KINDS = {"pref": "label", "label": "label", "alt": "alternative label"}
_curie = lru_cache(maxsize=1 << 12)(curie)  # a few hundred classes and properties, asked of every node


@dataclass(frozen=True)
class Candidate:
    """A labelled data individual as search sees it."""

    iri: str
    label: str
    types: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    candidates: dict[str, Candidate]
    matcher: Matcher


_INDEX: PerVersion[Index] = PerVersion()


def _preferred(names: dict[str, set[str]]) -> str:
    for kind in ("pref", "label", "alt"):
        if names.get(kind):
            return min(names[kind])
    return ""


def _rows(store: Store, sparql: str):
    return store.query(SPARQL_PREFIXES + sparql).rows


def _read_index(store: Store) -> Index:
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in _rows(store, _NAMES):
        names[row["e"].value][row["kind"].value].add(row["label"].value)
    found_types: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, _TYPES):
        found_types[row["e"].value].add(row["type"].value)
    identifiers: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, _IDENTIFIERS):
        value = row["value"].value
        identifiers[row["e"].value] |= {value, value.removeprefix(PREFIXES["wd"])}
    words: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in _rows(store, _WORDS):
        words[row["e"].value].add((row["kind"].value, row["text"].value))
    prominence = {row["e"].value: literal_int(row["n"]) or 0 for row in _rows(store, _PROMINENCE)}
    candidates = {
        iri: Candidate(iri, _preferred(kinds), tuple(sorted(found_types.get(iri, ())))) for iri, kinds in names.items()
    }
    context = _context(_rows(store, _EDGES), candidates)
    entries = [
        Entry(
            key=iri,
            label=candidate.label,
            texts=tuple(
                [text(n, "name", _NAME_KINDS[k]) for k in ("pref", "label", "alt") for n in sorted(names[iri][k])]
                + [text(t, "words", kind) for kind, t in sorted(words.get(iri, ()))]
                + context.get(iri, [])
            ),
            identifiers=tuple(sorted(identifiers.get(iri, set()) | {iri, local_id(iri) or iri})),
            named=any(_curie(t) in NAMED_TYPES for t in candidate.types),
            prominence=prominence.get(iri, 0),
        )
        for iri, candidate in sorted(candidates.items())
    ]
    return Index(candidates, Matcher(entries))


def _context(rows, candidates: dict[str, Candidate]) -> dict[str, list]:
    """Each candidate's neighbours' names, with the linking property (`^` for an incoming edge); neighbours that
    are bookkeeping (claims, spans, sentences) are no context."""
    context: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in rows:
        subject, prop, other = row["e"].value, row["p"].value, row["o"].value
        if prop in NOT_CONTEXT or subject not in candidates or other not in candidates:
            continue
        if _is_bookkeeping(candidates[subject]) or _is_bookkeeping(candidates[other]):
            continue
        context[subject].add((_curie(prop), candidates[other].label))
        context[other].add(("^" + _curie(prop), candidates[subject].label))
    return {iri: [text(label, "context", "linked entity", via) for via, label in sorted(links)]
            for iri, links in context.items()}


def _is_bookkeeping(candidate: Candidate) -> bool:
    return any(_curie(t) in PROVENANCE_TYPES for t in candidate.types)


def search_index(store: Store) -> Index:
    """The candidates and their matcher, cached per store generation."""
    return _INDEX.get(store, lambda: _read_index(store))


def check_query(q: str) -> None:
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidParameter(f"q is longer than {MAX_QUERY_LENGTH} characters")


def find(store: Store, q: str, type_: str | None = None) -> list[Match]:
    """Every match of `q` among the candidates of class `type_` (or among all but bookkeeping), best first."""
    check_query(q)
    index = search_index(store)
    return [m for m in index.matcher.match(q) if wanted(index.candidates[m.entry.key], type_)]


def search_entities(
    store: Store,
    q: str = "",
    type_: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[int, list[SearchHit]]:
    """Entities that match `q` (see `filmgraph.matching`), best first, optionally only those of class `type_`
    (local name, CURIE or IRI; inferred classes count). Returns (total matches, the requested page). An empty `q`
    lists all, in id order."""
    check_query(q)
    index = search_index(store)
    if not q.strip():
        listed = [c for c in index.candidates.values() if wanted(c, type_)]
        page = sorted(listed, key=lambda c: c.iri)[offset : offset + limit]
        return len(listed), [SearchHit(entity=ref(c), matched_label=c.label, score=1.0) for c in page]
    found = find(store, q, type_)
    return len(found), [hit(index.candidates[m.entry.key], m) for m in found[offset : offset + limit]]


def wanted(candidate: Candidate, type_: str | None) -> bool:
    if type_:
        return any(term_matches(t, type_) for t in candidate.types)
    return not any(_curie(t) in BOOKKEEPING_TYPES for t in candidate.types)


def ref(candidate: Candidate) -> EntityRef:
    return EntityRef(
        iri=candidate.iri, id=local_id(candidate.iri), label=candidate.label, types=[curie(t) for t in candidate.types]
    )


def reasons(match: Match) -> list[MatchReason]:
    return [MatchReason(**reason.__dict__) for reason in match.reasons]


def hit(candidate: Candidate, match: Match) -> SearchHit:
    return SearchHit(
        entity=ref(candidate), matched_label=match.matched, score=round(match.score, 4), match=match.kind,
        why=reasons(match),
    )

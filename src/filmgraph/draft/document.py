"""A draft curation file for a new text: what the text names, its times and candidate claims, all from its words.

Nothing comes from outside the text: every value is a span of it (labels, mentions, quotes, wordings), an id the
store already has, a date the publication date and the wording give, or a CURIE of the ontology. The curator
checks each `# draft: check` line, deletes what is wrong, and ingests the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..lookup import run_for_nodes
from ..errors import InvalidParameter
from ..matching import closest_ids, normalise
from ..resolution import known_identifiers, known_names
from ..spans import Span, split_sentences
from ..store import Store
from ..vocab import ID, curie
from .cues import CandidateClaim, Named, sentence_candidates
from .mentions import Mention, country_mentions, known_mentions
from .quoting import unique_quote
from .times import Published, TimeFound, find_times

_TYPES = "SELECT DISTINCT ?entity ?type WHERE { {values} GRAPH ?graph { ?entity a ?type } }"
MAX_LABEL_WORDS = 10
NOT_NAMED = frozenset({"fg:TimeExpression", "fg:Statement", "org:Post", "fg:Claim", "fg:StatusReport"})


@dataclass(frozen=True)
class SourceBlock:
    id: str
    title: str
    issued: str
    publisher: str | None
    url: str | None
    text_name: str
    language: str = "en"


@dataclass(frozen=True)
class DraftMention:
    """An entity the text names: an existing id, the verbatim span that names it, a quote that is unique."""

    id: str
    span: Span
    quote: Span
    via: str


@dataclass(frozen=True)
class NewEntity:
    """A country the text names that the store does not have yet."""

    id: str
    type: str
    label: str
    mention: Span


@dataclass(frozen=True)
class DraftTime:
    id: str
    found: TimeFound


@dataclass(frozen=True)
class DraftClaim:
    id: str
    label: str
    quote: Span
    candidate: CandidateClaim


@dataclass
class Draft:
    """Everything the draft file says, as data (tests and notebooks read this; `render` writes the YAML)."""

    source: SourceBlock
    published: Published
    sentences: list[Span]
    mentions: list[DraftMention] = field(default_factory=list)
    entities: list[NewEntity] = field(default_factory=list)
    times: list[DraftTime] = field(default_factory=list)
    claims: list[DraftClaim] = field(default_factory=list)


def slug(words: str, limit: int = 8) -> str:
    """A flat kebab-case id from words of the text ("Cinecittà Luce" -> "cinecitta-luce")."""
    parts = re.findall(r"[a-z0-9]+", normalise(words))
    return "-".join(parts[:limit]) or "x"


def draft_curation(
    text: str, published: str, store: Store, *, file_name: str, title: str | None = None,
    publisher: str | None = None, url: str | None = None,
) -> Draft:
    """Draft a curation file for `text`, published at `published` (YYYY[-MM[-DD]]), against what `store` knows."""
    try:
        when = Published.parse(published)
    except ValueError as error:
        raise InvalidParameter(str(error)) from error
    sentences = split_sentences(text)
    source_id = slug(title if title else Path(file_name).stem, 10)
    title = title or (sentences[0].text if sentences else Path(file_name).stem)
    draft = Draft(SourceBlock(source_id, title, when.text, publisher, url, file_name), when, sentences)
    names, identifiers = known_names(store), known_identifiers(store)
    taken = {candidate.id for candidates in names.values() for candidate in candidates} | {source_id}
    _check_publisher(publisher, taken - {source_id})
    found = known_mentions(text, names) + country_mentions(text, names, identifiers)
    types = _types(store, {mention.id for mention in found if not mention.new})
    found = [mention for mention in found if mention.new or _is_entity(types[mention.id])]
    draft.mentions = _first_mentions(text, [m for m in found if not m.new], sentences)
    draft.entities = _new_states(text, [m for m in found if m.new], sentences, taken)
    taken |= {entity.id for entity in draft.entities}
    draft.times, time_spans = _times(text, when, taken)
    draft.claims = _claims(text, draft, found, types, time_spans, publisher, taken | set(time_spans.values()))
    return draft


def _check_publisher(publisher: str | None, known: set[str]) -> None:
    """The publisher is an existing id (the voice of the article's own claims): a typo is caught now, not at ingest."""
    if publisher is not None and publisher not in known:
        suggestions = closest_ids(publisher, known)
        hint = f" (did you mean {' or '.join(suggestions)}?)" if suggestions else ""
        raise InvalidParameter(f"--publisher {publisher!r} is not an entity of the store{hint}")


def _types(store: Store, ids: set[str]) -> dict[str, frozenset[str]]:
    """The classes of each id as CURIEs, asserted or inferred (a StateFilmFund is an fg:Agent by inference)."""
    result: dict[str, set[str]] = {name: set() for name in ids}
    for row in run_for_nodes(store, _TYPES, "entity", (ID + name for name in ids)):
        iri = row["type"].value
        if (kind := curie(iri)) != iri:
            result[row["entity"].value.removeprefix(ID)].add(kind)
    return {name: frozenset(kinds) for name, kinds in result.items()}


def _is_entity(types: frozenset[str]) -> bool:
    """Times, statements and posts are claims of their sources, not things a new text names."""
    return not types & NOT_NAMED


def _sentence_of(span: Span, sentences: list[Span]) -> Span | None:
    return next((sentence for sentence in sentences if sentence.contains(span)), None)


def _first_mentions(text: str, found: list[Mention], sentences: list[Span]) -> list[DraftMention]:
    """Each known entity once, at its first span that can be quoted uniquely."""
    chosen: dict[str, DraftMention] = {}
    for mention in sorted(found, key=lambda m: (m.span, m.id)):
        if mention.id in chosen:
            continue
        quote = unique_quote(text, mention.span, _sentence_of(mention.span, sentences))
        if quote is not None:
            chosen[mention.id] = DraftMention(mention.id, mention.span, quote, mention.via)
    return sorted(chosen.values(), key=lambda m: (m.span, m.id))


def _new_states(text: str, found: list[Mention], sentences: list[Span], taken: set[str]) -> list[NewEntity]:
    """A country the store lacks, once per ISO code, labelled with the text's own name for it."""
    entities: dict[str, NewEntity] = {}
    for mention in sorted(found, key=lambda m: m.span):
        quote = unique_quote(text, mention.span, _sentence_of(mention.span, sentences))
        if mention.id not in entities and quote is not None:
            new_id = _unique_id(slug(mention.span.text), taken | {e.id for e in entities.values()})
            entities[mention.id] = NewEntity(new_id, "fg:State", mention.span.text, quote)
    return list(entities.values())


def _times(text: str, when: Published, taken: set[str]) -> tuple[list[DraftTime], dict[Span, str]]:
    """One time entry per distinct wording and resolution ("now" twice is one entry), and every time span of the
    text -> the id of its entry."""
    entries: dict[tuple[str, dt.date | None, dt.date | None], DraftTime] = {}
    span_ids: dict[Span, str] = {}
    for found in find_times(text, when):
        key = (normalise(found.span.text), found.not_before, found.not_after)
        if key not in entries:
            used = taken | {entry.id for entry in entries.values()}
            entries[key] = DraftTime(_unique_id(_time_id(found), used), found)
        span_ids[found.span] = entries[key].id
    return list(entries.values()), span_ids


def _time_id(found: TimeFound) -> str:
    """`time-<wording>`, with the year it falls in unless the wording says it: "this summer" -> time-this-summer-2011."""
    words = slug(found.span.text)
    bound = found.not_after or found.not_before
    return f"time-{words}" if re.search(r"\d{4}", words) or bound is None else f"time-{words}-{bound.year}"


def _claims(text: str, draft: Draft, found: list[Mention], types: dict[str, frozenset[str]],
            times: dict[Span, str], publisher: str | None, taken: set[str]) -> list[DraftClaim]:
    named_all = sorted(
        {Named(m.id, m.span, types.get(m.id, frozenset())) for m in found if not m.new},
        key=lambda item: (item.span, item.id),
    )
    claims: list[DraftClaim] = []
    used = set(taken)
    last_person: str | None = None
    for sentence in draft.sentences:
        named = [item for item in named_all if sentence.contains(item.span)]
        quote = unique_quote(text, sentence)
        if quote is not None:
            for candidate in sentence_candidates(sentence, named, times, last_person, publisher):
                claim_id = _unique_id(f"{candidate.kind}-{slug(sentence.text, 5)}", used)
                used.add(claim_id)
                claims.append(DraftClaim(claim_id, _label(sentence), quote, candidate))
        people = [item.id for item in named if item.is_a("fg:Person")]
        last_person = people[-1] if people else last_person
    return claims


def _label(sentence: Span) -> str:
    """The sentence's first words: a span of the text, for the curator to rewrite."""
    words = list(re.finditer(r"\S+", sentence.text))
    cut = words[min(len(words), MAX_LABEL_WORDS) - 1].end() if words else len(sentence.text)
    return sentence.text[:cut].rstrip(",;:")


def _unique_id(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    number = 2
    while f"{base}-{number}" in used:
        number += 1
    return f"{base}-{number}"

"""Candidate claims of one sentence, from general English cue words: what kind of claim, what status, who says it.

Every candidate is a guess for the curator (`# draft: check`): its quote is the verbatim sentence, its links are
ids mentioned in that sentence, and a kind whose required links the sentence does not give (a signing needs the
agreement it concerns) is drafted as a plain statement with a note saying what would make it that kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..spans import Span

# (kind, pattern, status, claim type): a sentence that negates or hedges a signing ("likely to be signed") is not an
# asserted signing, so "signed" counts only when none of the _HEDGES matched.
_CUES: list[tuple[str, re.Pattern[str], str, str]] = [
    ("negation", re.compile(
        r"\bno (?:\w+ ){0,2}(?:has|have|had) (?:yet )?been (?:signed|agreed|concluded)\b"
        r"|\b(?:has|have|had|was|were) not (?:yet )?been (?:signed|agreed|concluded)\b|\bnot yet (?:signed|agreed)\b",
        re.I), "fg:Negated", "fg:Statement"),
    ("possibility", re.compile(r"\bnot ruled out\b|\bnot excluded\b|\bpossibl[ey]\b|\bpossibility\b", re.I),
     "fg:Possible", "fg:Statement"),
    ("postponement", re.compile(r"\bpostpon\w*|\bdelay(?:ed|s|ing)?\b|\bput off\b|\bdeferr?(?:ed|ing|s)?\b", re.I),
     "fg:Asserted", "fg:Postponement"),
    ("expectation", re.compile(r"\blikely\b|\bexpect(?:s|ed|ing)?\b|\bprobabl[ey]\b|\banticipat\w*", re.I),
     "fg:Expected", "fg:Statement"),
    ("plan", re.compile(r"\bplan(?:s|ned|ning)?\b|\bintend(?:s|ed|ing)?\b|\bintention\b", re.I),
     "fg:Planned", "fg:Statement"),
    ("hope", re.compile(r"\bhop(?:e|es|ed|ing)\b|\bwants?\b|\bwish(?:es|ed)?\b", re.I), "fg:Hoped", "fg:ReportedView"),
    ("establishment", re.compile(r"\b(?:established|founded|set up|launched)\b", re.I), "fg:Asserted",
     "fg:Establishment"),
    ("signing", re.compile(r"\bsign(?:ed|s)\b|\bagreed\b|\bconcluded\b", re.I), "fg:Asserted", "fg:Signing"),
]
_HEDGES = {"negation", "possibility", "expectation", "plan", "hope"}
_QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")
_ATTRIBUTION = re.compile(r"\baccording to\b|\b(?:said|says|told|stated|added)\b", re.I)
_PRONOUN_SAID = re.compile(r"\b(?:he|she|they) (?:said|says|added|told)\b", re.I)
_REQUIRED = {"fg:Signing": "fg:concernsAgreement", "fg:Postponement": "fg:postpones"}
_EVENTS = {*_REQUIRED, "fg:Establishment"}  # events take no statement links (fg:actor's domain is fg:Statement)


@dataclass(frozen=True)
class Named:
    """An entity the sentence names: its id, where, and what kinds it is (CURIEs, asserted or inferred)."""

    id: str
    span: Span
    types: frozenset[str]

    def is_a(self, *curies: str) -> bool:
        return any(curie in self.types for curie in curies)


@dataclass
class CandidateClaim:
    """One drafted claim node; `note` tells the curator what the draft could not fill in."""

    kind: str
    type: str
    status: str
    said_by: str | None
    sentence: Span
    cue_at: int  # offset of the cue word in the text: the actor is named before it
    links: dict[str, list[str]] = field(default_factory=dict)
    verbatim: str | None = None
    note: str | None = None


def sentence_candidates(
    sentence: Span, named: Sequence[Named], times: Mapping[Span, str], speaker_before: str | None,
    publisher: str | None,
) -> list[CandidateClaim]:
    """The candidates of one sentence: one per cue kind it contains (a quotation when none but its quotation marks
    or an attribution); `times` maps time spans to their drafted ids, `speaker_before` is the last person named
    before this sentence (whom "he said" refers to)."""
    text = sentence.text
    kinds = [(kind, status, type_, match.start()) for kind, pattern, status, type_ in _CUES
             if (match := pattern.search(text))]
    if any(cue[0] in _HEDGES for cue in kinds):
        kinds = [cue for cue in kinds if cue[0] != "signing"]
    quoted = _QUOTED.search(text)
    speaker = _speaker(text, sentence, named, speaker_before)
    if not kinds and (quoted or speaker):
        kinds = [("quotation" if quoted else "view", "fg:Opinion", "fg:Statement", 0)]
    time_ids = [time_id for span, time_id in sorted(times.items()) if sentence.contains(span)]
    candidates = []
    for kind, status, type_, at in kinds:
        if quoted:
            type_ = "fg:Quotation"
        elif speaker and type_ == "fg:Statement":
            type_ = "fg:ReportedView"
        candidate = CandidateClaim(kind, type_, status, speaker or publisher, sentence,
                                   cue_at=sentence.begin + at, verbatim=quoted.group(1).strip() if quoted else None)
        _link(candidate, named, speaker, time_ids)
        candidates.append(candidate)
    return candidates


def _speaker(text: str, sentence: Span, named: Sequence[Named], speaker_before: str | None) -> str | None:
    """Who the sentence attributes its words to: the person (else agent) named nearest the attribution; "he
    said" is the person named last before the sentence."""
    if _PRONOUN_SAID.search(text) and speaker_before:
        return speaker_before
    cue = _ATTRIBUTION.search(text)
    if cue is None:
        return None
    at = sentence.begin + cue.start()
    agents = [item for item in named if item.is_a("fg:Agent")]
    people = [item for item in agents if item.is_a("fg:Person")]
    for group in (people, agents):
        if group:
            return min(group, key=lambda item: abs(item.span.begin - at)).id
    return None


def _link(candidate: CandidateClaim, named: Sequence[Named], speaker: str | None, time_ids: list[str]) -> None:
    """Links to what the sentence names; a kind whose required link is missing falls back to a statement."""
    agreements = _ids(item for item in named if item.is_a("fg:Agreement"))
    agents = _ids(item for item in named if item.is_a("fg:Agent"))
    links = candidate.links
    if candidate.type == "fg:Signing" and agreements:
        links["fg:concernsAgreement"] = agreements[:1]
        if agents:
            links["fg:signatory"] = agents
    planned = _ids(item for item in named if item.is_a("fg:PlannedSigning"))
    if candidate.type == "fg:Postponement" and planned:
        links["fg:postpones"] = planned[:1]
        if agreements:
            links["fg:concernsAgreement"] = agreements[:1]
        if time_ids:
            links["fg:newTargetTime"] = time_ids[-1:]
    if candidate.type == "fg:Establishment":
        _link_establishment(candidate, named)
    required = _REQUIRED.get(candidate.type)
    if required and required not in links:
        candidate.note = f"a {candidate.type} once `{required}` names an existing id"
        candidate.type = "fg:Statement"
    if candidate.type not in _EVENTS:
        _link_statement(candidate, named, speaker, agents)
        if "fg:about" not in links:
            candidate.note = (candidate.note + "; " if candidate.note else "") + "a statement needs `fg:about` (an id)"
    if time_ids and candidate.type != "fg:Postponement":
        links["fg:atTime"] = time_ids[:1]


def _link_establishment(candidate: CandidateClaim, named: Sequence[Named]) -> None:
    """What is established: the institution named nearest before "established" (else after); where: a place."""
    places = [item for item in named if item.is_a("fg:Place", "fg:City")]
    things = [item for item in named if item.is_a("fg:Institution")]
    before = [item for item in things if item.span.end <= candidate.cue_at]
    chosen = before[-1:] or things[:1]
    if chosen:
        candidate.links["fg:establishes"] = [chosen[0].id]
    else:
        candidate.note = "name what it establishes: `fg:establishes` (an id)"
    if places:
        candidate.links["fg:location"] = [places[0].id]


def _link_statement(candidate: CandidateClaim, named: Sequence[Named], speaker: str | None, agents: list[str]) -> None:
    actors = _subjects(candidate, named, speaker) or [agent for agent in agents if agent != speaker] or agents
    if speaker and candidate.type in {"fg:Quotation", "fg:ReportedView"} and not _is_reporting(candidate):
        actors = [speaker]
    if actors:
        candidate.links["fg:actor"] = actors[:1]
    about = _about(named, candidate.links.get("fg:actor", []) + ([speaker] if speaker else []))
    if about:
        candidate.links["fg:about"] = [about]
    states = [item.id for item in named if item.is_a("fg:State") and item.id not in candidate.links.get("fg:actor", [])]
    if states:
        candidate.links["fg:withState"] = list(dict.fromkeys(states))


def _subjects(candidate: CandidateClaim, named: Sequence[Named], speaker: str | None) -> list[str]:
    """The agent named last before the cue word: English puts the one who hopes or plans before the verb."""
    before = [item for item in named if item.is_a("fg:Agent") and item.span.end <= candidate.cue_at
              and item.id != speaker]
    return [before[-1].id] if before else []


def _is_reporting(candidate: CandidateClaim) -> bool:
    """A hope or plan reported by someone is the actor's hope, not the speaker's: "according to Tolstikov, Russia
    hopes …"."""
    return candidate.kind in {"hope", "plan", "expectation", "negation", "possibility"} and candidate.verbatim is None


def _about(named: Sequence[Named], people: list[str]) -> str | None:
    """What the sentence is about: an agreement it names, else a topic, else the first other thing it names."""
    others = [item for item in named if item.id not in people]
    for preference in (("fg:Agreement",), ("fg:Topic",), ()):
        for item in others:
            if (item.is_a(*preference) if preference else not item.is_a("fg:Role")):
                return item.id
    return None


def _ids(items) -> list[str]:
    return list(dict.fromkeys(item.id for item in items))

"""Where a text names entities the store already knows, and the countries it names or qualifies.

Names are compared the way ingest's entity resolution compares them (`resolution.normalise_name`: no case, accents,
quote style or spacing), over a folded copy of the text that remembers every character's offset, so each mention
is reported as its verbatim span. Countries come from pycountry (names) and countryinfo (common names, spellings,
demonyms: "Italian", "the German side") and resolve to the store's state of that ISO 3166 code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import countryinfo
import pycountry

from ..resolution import Candidate, normalise_name
from ..spans import Span

MIN_NAME_LENGTH = 2


@dataclass(frozen=True)
class Mention:
    """A span of the text that names an entity: an existing id, or (`new`) a country the store lacks."""

    id: str
    span: Span
    via: str  # "label", "country name" or "demonym"
    alpha2: str | None = None

    @property
    def new(self) -> bool:
        return self.id.startswith("new:")


@dataclass(frozen=True)
class _Folded:
    """A text folded like `normalise_name`, with the original offset of every folded character."""

    text: str
    origin: list[int]

    def span(self, source: str, begin: int, end: int) -> Span:
        first, last = self.origin[begin], self.origin[end - 1] + 1
        return Span(first, last, source[first:last])


def fold(text: str) -> _Folded:
    """Fold character by character with `normalise_name` itself, so the two can never disagree."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = " " if char.isspace() else normalise_name(char)
        if piece == " " and folded and folded[-1] == " ":
            continue
        folded.extend(piece)
        origin.extend([index] * len(piece))
    return _Folded("".join(folded), origin)


def _find(text: str, folded: _Folded, names: Iterable[str]) -> list[tuple[str, Span]]:
    """Every occurrence of every name on word boundaries, nested ones included: "Petersburg Dialogue" inside "the
    Tenth Russian-German forum Petersburg Dialogue" names the forum as well as its session."""
    found = []
    for name in sorted({name for name in names if len(name) >= MIN_NAME_LENGTH}):
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)")
        found += [(name, folded.span(text, m.start(), m.end())) for m in pattern.finditer(folded.text)]
    return sorted(found, key=lambda item: (item[1], item[0]))


def known_mentions(text: str, names: Mapping[str, list[Candidate]]) -> list[Mention]:
    """Every span naming an entity of the store by label or alternative label (one name may fit several ids)."""
    folded = fold(text)
    return [
        Mention(candidate.id, span, "label")
        for name, span in _find(text, folded, names)
        for candidate in names[name]
    ]


@dataclass(frozen=True)
class _CountryName:
    alpha2: str
    via: str  # "country name" or "demonym"


@lru_cache(maxsize=1)
def _country_names() -> dict[str, _CountryName]:
    """Folded country names and demonyms -> ISO 3166 alpha-2. Spellings of three letters or fewer are codes
    ("IT", "RUS"): folded, they would match the words "it" and "rus"."""
    table: dict[str, _CountryName] = {}
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None)):
            if name:
                table.setdefault(normalise_name(name), _CountryName(country.alpha_2, "country name"))
    for info in countryinfo.all_countries():
        alpha2 = (info.iso() or {}).get("alpha2")
        if not alpha2:
            continue
        for name in (info.name(), *(info.alt_spellings() or [])):
            if name and len(name) > 3:
                table.setdefault(normalise_name(name), _CountryName(alpha2, "country name"))
        if info.demonym():
            table.setdefault(normalise_name(info.demonym()), _CountryName(alpha2, "demonym"))
    return table


def country_mentions(
    text: str, names: Mapping[str, list[Candidate]], identifiers: Mapping[str, list[Candidate]]
) -> list[Mention]:
    """Every country name or demonym, resolved to the store's state with its ISO code (else of its name); a country
    the store lacks is a `new:` mention only where the text names it (a demonym alone is no label for a state)."""
    table = _country_names()
    folded = fold(text)
    found = []
    for name, span in _find(text, folded, table):
        country = table[name]
        existing = identifiers.get(country.alpha2) or names.get(name) if country.via == "country name" else \
            identifiers.get(country.alpha2)
        if existing:
            found += [Mention(candidate.id, span, country.via, country.alpha2) for candidate in existing]
        elif country.via == "country name":
            found.append(Mention("new:" + country.alpha2, span, country.via, country.alpha2))
    return found

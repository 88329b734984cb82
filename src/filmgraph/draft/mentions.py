"""Where a text names entities the store already knows, and the countries it names or qualifies.

Names are compared by the one matcher's normalisation (`filmgraph.matching.normalise`: no case, accents,
punctuation or spacing), the one ingest's entity resolution and search use, over a folded copy of the text that
remembers every character's offset (`matching.fold`), so each mention is reported as its verbatim span. Only exact
(normalised) names count: a typo in a new text is for the curator to see, not a mention to guess. Countries come from pycountry (names) and countryinfo (common names, spellings,
demonyms: "Italian", "the German side") and resolve to the store's state of that ISO 3166 code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import countryinfo
import pycountry

from ..matching import Folded, find_names, fold, normalise
from ..resolution import Candidate
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


def _find(text: str, folded: Folded, names: Iterable[str]) -> list[tuple[str, Span]]:
    """Every occurrence of every name on word boundaries, nested ones included: "Petersburg Dialogue" inside "the
    Tenth Russian-German forum Petersburg Dialogue" names the forum as well as its session."""
    long_enough = (name for name in names if len(name) >= MIN_NAME_LENGTH)
    return [(name, Span(begin, end, text[begin:end])) for name, begin, end in find_names(folded, long_enough)]


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
                table.setdefault(normalise(name), _CountryName(country.alpha_2, "country name"))
    for info in countryinfo.all_countries():
        alpha2 = (info.iso() or {}).get("alpha2")
        if not alpha2:
            continue
        for name in (info.name(), *(info.alt_spellings() or [])):
            if name and len(name) > 3:
                table.setdefault(normalise(name), _CountryName(alpha2, "country name"))
        if info.demonym():
            table.setdefault(normalise(info.demonym()), _CountryName(alpha2, "demonym"))
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

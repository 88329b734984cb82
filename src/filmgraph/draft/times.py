"""Time expressions of a text resolved against its publication date: bounds and a precision, never a guessed day.

General English wordings only ("this summer", "last year", "by the end of 2010", "in February 2011", "recently",
"now"); a wording the rules do not know is left for the curator. Explicit month and day dates are read by
dateparser; relative years and seasons are counted from the publication date here, because dateparser moves
"next year" to today's month of the next year, a day the text never gave.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dateparser

from ..spans import Span

_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11)}
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_YEAR = r"(?:19|20)\d\d"
_SHIFT = {"last": -1, "previous": -1, "this": 0, "next": 1, "the coming": 1}


@dataclass(frozen=True)
class Published:
    """The publication date as far as it is known (YYYY, YYYY-MM or YYYY-MM-DD): the first and last day it spans."""

    text: str
    first: dt.date
    last: dt.date

    @classmethod
    def parse(cls, text: str) -> Published:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", text)
        if not match:
            raise ValueError(f"the publication date must be YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
        year, month, day = (int(part) if part else None for part in match.groups())
        if day is not None:
            first = last = dt.date(year, month, day)
        elif month is not None:
            first, last = dt.date(year, month, 1), _month_end(year, month)
        else:
            first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        return cls(text, first, last)

    @property
    def year(self) -> int:
        return self.first.year

    @property
    def precision(self) -> str:
        return {4: "fg:YearPrecision", 7: "fg:MonthPrecision"}.get(len(self.text), "fg:DayPrecision")


@dataclass(frozen=True)
class TimeFound:
    """One time wording of the text and what it resolves to."""

    span: Span
    precision: str
    not_before: dt.date | None
    not_after: dt.date | None


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _year(year: int) -> tuple[str, dt.date, dt.date]:
    return "fg:YearPrecision", dt.date(year, 1, 1), dt.date(year, 12, 31)


def _season(name: str, year: int) -> tuple[str, dt.date, dt.date]:
    first, last = _SEASONS[name]
    return "fg:SeasonPrecision", dt.date(year, first, 1), _month_end(year, last)


def _explicit(words: str, published: Published, precision: str) -> tuple[str, dt.date, dt.date] | None:
    """A month ("February 2011", "in February") or day ("3 February 2011") read by dateparser."""
    settings = {"RELATIVE_BASE": dt.datetime(published.year, 1, 1), "PREFER_DAY_OF_MONTH": "first"}
    parsed = dateparser.parse(words, languages=["en"], settings=settings)
    if parsed is None:
        return None
    day = parsed.date()
    if precision == "fg:DayPrecision":
        return precision, day, day
    return precision, day.replace(day=1), _month_end(day.year, day.month)


def _month(match: re.Match[str], published: Published) -> tuple[str, dt.date, dt.date] | None:
    """A month, of the year written or else of the publication year. English capitalises month names, so a
    lower-case "may" or "march" is a verb; "May" with neither a preposition nor a year may be a name."""
    month, year = match.group(1), match.group(2)
    if not month[0].isupper() or (month == "May" and year is None and match.group() == month):
        return None
    return _explicit(f"{month} {year or published.year}", published, "fg:MonthPrecision")


# Each rule: a pattern (matched case-insensitively on word boundaries) and how its match resolves. Longer
# wordings come first: the first rule to claim a stretch of the text wins it.
_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Published], tuple[str, dt.date | None, dt.date | None] | None]]
_RULES: list[_Rule] = [
    (re.compile(rf"\b(?:by |until |before )?the end of (?:the year|({_YEAR}))\b", re.I),
     lambda m, p: ("fg:PartOfYearPrecision", *_year(int(m.group(1) or p.year))[1:])),
    (re.compile(rf"\b\d{{1,2}} (?:{_MONTHS}) {_YEAR}\b|\b(?:{_MONTHS}) \d{{1,2}}, {_YEAR}\b", re.I),
     lambda m, p: _explicit(m.group(), p, "fg:DayPrecision")),
    (re.compile(rf"\b(?:(?:in|since|by|until) )?(?:(?:early|late) )?({_MONTHS})(?: ({_YEAR}))?\b", re.I), _month),
    (re.compile(r"\b(last|previous|this|next|the coming) (spring|summer|autumn|fall)\b", re.I),
     lambda m, p: _season(m.group(2).lower(), p.year + _SHIFT[m.group(1).lower()])),
    (re.compile(r"\b(last|previous|this|next|the coming) year\b", re.I),
     lambda m, p: _year(p.year + _SHIFT[m.group(1).lower()])),
    (re.compile(rf"\b(?:in |since |by |until )?({_YEAR})\b"), lambda m, p: _year(int(m.group(1)))),
    (re.compile(r"\brecently\b|\blately\b|\bin recent (?:weeks|months)\b", re.I),
     lambda m, p: ("fg:RelativePrecision", None, p.last)),
    (re.compile(r"\b(?:now|currently|at present)\b", re.I), lambda m, p: (p.precision, p.first, p.last)),
]


def find_times(text: str, published: Published) -> list[TimeFound]:
    """Every time wording the rules know, in text order, each stretch of text claimed by one rule."""
    claimed: list[Span] = []
    found: list[TimeFound] = []
    for pattern, resolve in _RULES:
        for match, span in _matches(pattern, text):
            if any(span.overlaps(other) for other in claimed):
                continue
            resolved = resolve(match, published)
            if resolved is None:
                continue
            claimed.append(span)
            found.append(TimeFound(span, *resolved))
    return sorted(found, key=lambda time: time.span)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[tuple[re.Match[str], Span]]:
    for match in pattern.finditer(text):
        yield match, Span(match.start(), match.end(), match.group())

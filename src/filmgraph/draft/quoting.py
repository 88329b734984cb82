"""Verbatim quotes a curation file can hold: a span widened word by word until it occurs once in the text.

The build refuses a quote that occurs twice ("Russia" does, many times), so a drafted mention or evidence quote is
the shortest stretch around the span that the build will find exactly once.
"""

from __future__ import annotations

import re

from ..spans import AmbiguousQuote, QuoteNotFound, Span, find_evidence_span

_WORD = re.compile(r"\S+")
MAX_WIDENINGS = 12


def unique_quote(text: str, span: Span, within: Span | None = None) -> Span | None:
    """The span itself if it is unique, else the narrowest widening by whole words (right first, then left) that
    is, staying inside `within` (a sentence) when given; None if no widening is unique."""
    limit = within or Span(0, len(text), text)
    begin, end = span.begin, span.end
    for step in range(MAX_WIDENINGS + 1):
        candidate = text[begin:end]
        try:
            return find_evidence_span(text, candidate) if candidate.strip() == candidate else None
        except AmbiguousQuote:
            pass
        except QuoteNotFound:
            return None
        widened = _widen(text, begin, end, limit, right=step % 2 == 0)
        if widened == (begin, end):
            widened = _widen(text, begin, end, limit, right=step % 2 != 0)
        if widened == (begin, end):
            return None
        begin, end = widened
    return None


def _widen(text: str, begin: int, end: int, limit: Span, right: bool) -> tuple[int, int]:
    if right:
        following = _WORD.search(text, end, limit.end)
        return (begin, following.end()) if following else (begin, end)
    preceding = [word for word in _WORD.finditer(text, limit.begin, begin)]
    return (preceding[-1].start(), end) if preceding else (begin, end)

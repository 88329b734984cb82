"""Offsets over a source text: find an evidence quote's span and split the text into sentences.

Offsets are Unicode code points over the exact file text (Python `str` indices), so a span's quote always equals
`text[begin:end]`. Curators never type offsets; the build finds them here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Typographic quotes and apostrophes fold to their ASCII forms when matching, so a curator may type either.
_QUOTE_FOLD = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'}
)
_OPENING_QUOTES = "“‘"
_CLOSING_QUOTES = "”’"
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")


@dataclass(frozen=True, order=True)
class Span:
    """A half-open code-point range [begin, end) of a source text and the text it covers."""

    begin: int
    end: int
    text: str

    def contains(self, other: Span) -> bool:
        return self.begin <= other.begin and other.end <= self.end

    def overlaps(self, other: Span) -> bool:
        return self.begin < other.end and other.begin < self.end


class QuoteNotFound(LookupError):
    """The quote is not in the text, even after folding whitespace and quote marks."""


class AmbiguousQuote(LookupError):
    """The quote occurs more than once; a longer quote is needed to say which one is meant."""


def _fold(text: str) -> tuple[str, list[int]]:
    """Collapse whitespace runs and fold quote marks, keeping each folded character's original index."""
    folded: list[str] = []
    origin: list[int] = []
    previous_space = False
    for index, char in enumerate(text):
        if char.isspace():
            if previous_space:
                continue
            folded.append(" ")
            previous_space = True
        else:
            folded.append(char.translate(_QUOTE_FOLD))
            previous_space = False
        origin.append(index)
    return "".join(folded), origin


def _occurrences(haystack: str, needle: str) -> list[int]:
    """Every start index of `needle`, overlapping ones included."""
    found, start = [], haystack.find(needle)
    while start != -1:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def find_evidence_span(text: str, quote: str) -> Span:
    """The one span of `text` the quote stands for: an exact match first, then a whitespace/quote-folded one."""
    quote = quote.strip()
    if not quote:
        raise QuoteNotFound("the quote is empty")
    exact = _occurrences(text, quote)
    if len(exact) == 1:
        return Span(exact[0], exact[0] + len(quote), quote)
    if len(exact) > 1:
        raise AmbiguousQuote(f"the quote occurs {len(exact)} times (at offsets {exact})")
    folded_text, origin = _fold(text)
    folded_quote, _ = _fold(quote)
    matches = _occurrences(folded_text, folded_quote)
    if not matches:
        raise QuoteNotFound("the quote is not in the source text")
    if len(matches) > 1:
        raise AmbiguousQuote(f"the quote occurs {len(matches)} times (at offsets {[origin[m] for m in matches]})")
    begin = origin[matches[0]]
    end = origin[matches[0] + len(folded_quote) - 1] + 1
    return Span(begin, end, text[begin:end])


def _sentence_ends(paragraph: str) -> list[int]:
    """End offsets (exclusive) of the sentences of one paragraph; a full stop inside quotation marks is not one."""
    ends: list[int] = []
    depth = 0
    index = 0
    while index < len(paragraph):
        char = paragraph[index]
        if char in _OPENING_QUOTES:
            depth += 1
        elif char in _CLOSING_QUOTES and depth > 0 and (index + 1 == len(paragraph) or not paragraph[index + 1].isalpha()):
            depth -= 1
        elif char == '"':
            depth = 0 if depth else 1
        elif char in ".!?":
            after = index + 1
            while after < len(paragraph) and paragraph[after] in _CLOSING_QUOTES + '")':
                depth = max(depth - 1, 0) if paragraph[after] != ")" else depth
                after += 1
            if depth == 0 and (after == len(paragraph) or paragraph[after].isspace()):
                ends.append(after)
            index = after
            continue
        index += 1
    if not ends or ends[-1] < len(paragraph.rstrip()):
        ends.append(len(paragraph.rstrip()))
    return ends


def split_sentences(text: str) -> list[Span]:
    """The sentences of a text, paragraph by paragraph (paragraphs are separated by blank lines)."""
    sentences: list[Span] = []
    for paragraph in _PARAGRAPH.finditer(text):
        start = 0
        body = paragraph.group()
        for end in _sentence_ends(body):
            while start < end and body[start].isspace():
                start += 1
            if start < end:
                begin = paragraph.start() + start
                sentences.append(Span(begin, paragraph.start() + end, text[begin : paragraph.start() + end]))
            start = end
    return sentences

"""Content negotiation, for every route: an `Accept` header (or a `format=` parameter) -> the media type to answer.

`choose` is the one "best offered media type, or 406" of the API: each router says what it offers (formats from
filmgraph.formats, in its order of preference) and calls it. On /sparql the query's kind (SELECT/ASK vs
CONSTRUCT/DESCRIBE) is only known once the engine has parsed it, so `negotiate` chooses one media type for each kind
up front and lets the store use the one that fits (see `Store.query_serialized`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import NotAcceptable, UnsupportedFormat
from ..formats import FORMATS, HTML, SPARQL_GRAPH_TYPES, SPARQL_RESULTS_TYPES, TURTLE, named

# What /sparql offers for each kind of result (order of preference), and the `format=` names it takes.
RESULTS_MEDIA_TYPES = SPARQL_RESULTS_TYPES
GRAPH_MEDIA_TYPES = SPARQL_GRAPH_TYPES
SPARQL_NAMES = frozenset(name for f in FORMATS if f.forms for name in f.names)
NOT_OFFERED = "none of the accepted media types is offered; offered: {offered}"


def format_choice(value: str) -> tuple[str | None, str | None] | None:
    """What a `format=` value asks for on /sparql: a format name (registry, filmgraph.formats) or a media type
    we offer, as (results type, graph type); None if neither."""
    results, graph = named(value, "solutions"), named(value, "graph")
    if results or graph:
        return (results.media_type if results else None, graph.media_type if graph else None)
    media_type = value.strip().lower().split(";")[0].strip()
    if media_type in RESULTS_MEDIA_TYPES:
        return (media_type, None)
    if media_type in GRAPH_MEDIA_TYPES:
        return (None, media_type)
    return None


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> bool:
        main, _, sub = media_type.partition("/")
        return self.type in ("*", main) and self.subtype in ("*", sub)

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")


@dataclass(frozen=True)
class Negotiated:
    """The media type to use for each result kind; None where the client accepts none we offer."""

    results: str | None
    graph: str | None

    def preference(self) -> str:
        """The choices as the comma-separated list `Store.query_serialized` takes."""
        return ", ".join(t for t in (self.results, self.graph) if t)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an Accept header; a missing or empty header accepts anything."""
    ranges = []
    for part in (header or "*/*").split(","):
        fields = [f.strip() for f in part.split(";")]
        main, _, sub = fields[0].lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(main, sub, q))
    return ranges or [MediaRange("*", "*", 1.0)]


def quality(ranges: list[MediaRange], media_type: str) -> float:
    """The q-value the most specific matching range gives `media_type` (0 if none matches)."""
    matching = [r for r in ranges if r.matches(media_type)]
    if not matching:
        return 0.0
    return max(matching, key=lambda r: r.specificity).q


def best_match(ranges: list[MediaRange], offered: tuple[str, ...]) -> str | None:
    """The offered type the client likes most; the server's order breaks ties."""
    best, best_q = None, 0.0
    for media_type in offered:
        q = quality(ranges, media_type)
        if q > best_q:
            best, best_q = media_type, q
    return best


def choose(accept: str | None, offered: tuple[str, ...], refusal: str = NOT_OFFERED) -> str:
    """The offered media type the client prefers (the first one when it accepts anything, or sends no Accept);
    406 if none fits, its detail `refusal` with the offered types filled in."""
    chosen = best_match(parse_accept(accept), offered)
    if chosen is None:
        raise NotAcceptable(refusal.format(offered=", ".join(offered)))
    return chosen


@lru_cache(maxsize=512)  # clients repeat their Accept header; this runs on every query
def negotiate(accept: str | None, format_name: str | None = None) -> Negotiated:
    """Pick the results and graph media types; `format=` wins over Accept. Raises 406/400 when nothing fits."""
    if format_name:
        choice = format_choice(format_name)
        if choice is None:
            names = ", ".join(sorted(SPARQL_NAMES))
            raise UnsupportedFormat(f"unknown format {format_name!r}; use one of {names} or a media type") from None
        return Negotiated(*choice)
    ranges = parse_accept(accept)
    chosen = Negotiated(best_match(ranges, RESULTS_MEDIA_TYPES), best_match(ranges, GRAPH_MEDIA_TYPES))
    if chosen.results is None and chosen.graph is None:
        choose(accept, RESULTS_MEDIA_TYPES + GRAPH_MEDIA_TYPES)  # raises the 406
    return chosen


def prefers_html(accept: str | None) -> bool:
    """Whether a browser asked: text/html is accepted at least as much as Turtle."""
    ranges = parse_accept(accept)
    html = quality(ranges, HTML.media_type)
    return html > 0 and any(r.type == "text" and r.subtype == "html" for r in ranges) and html >= quality(
        ranges, TURTLE.media_type
    )

"""Content negotiation for SPARQL results: an `Accept` header (or a `format=` parameter) -> media types.

The query's kind (SELECT/ASK vs CONSTRUCT/DESCRIBE) is only known once the engine has parsed it, so we choose
one media type for each kind up front and let the store use the one that fits (see `Store.query_serialized`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..errors import NotAcceptable, UnsupportedFormat

# Offered media types in the server's order of preference (ties in the client's q-values go to the first).
RESULTS_MEDIA_TYPES: tuple[str, ...] = (
    "application/sparql-results+json",
    "application/json",
    "application/sparql-results+xml",
    "application/xml",
    "text/csv",
    "text/tab-separated-values",
)
GRAPH_MEDIA_TYPES: tuple[str, ...] = (
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
    "text/plain",
)
HTML = "text/html"

# The `format=` parameter for browsers and curl users: short name -> (results type, graph type).
FORMAT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "json": ("application/sparql-results+json", "application/ld+json"),
    "xml": ("application/sparql-results+xml", "application/rdf+xml"),
    "csv": ("text/csv", None),
    "tsv": ("text/tab-separated-values", None),
    "turtle": (None, "text/turtle"),
    "ttl": (None, "text/turtle"),
    "ntriples": (None, "application/n-triples"),
    "nt": (None, "application/n-triples"),
    "jsonld": (None, "application/ld+json"),
    "rdfxml": (None, "application/rdf+xml"),
    "trig": (None, "application/trig"),
    "nquads": (None, "application/n-quads"),
    # the names SPARQLWrapper and other clients send
    "json-ld": (None, "application/ld+json"),
    "rdf+xml": (None, "application/rdf+xml"),
    "rdf": (None, "application/rdf+xml"),
    "n3": (None, "text/turtle"),  # Turtle is N3's RDF subset
}


def format_choice(value: str) -> tuple[str | None, str | None] | None:
    """What a `format=` value asks for: a format name, or a media type we offer; None if neither."""
    value = value.strip().lower()
    if value in FORMAT_NAMES:
        return FORMAT_NAMES[value]
    media_type = value.split(";")[0].strip()
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


@lru_cache(maxsize=512)  # clients repeat their Accept header; this runs on every query
def negotiate(accept: str | None, format_name: str | None = None) -> Negotiated:
    """Pick the results and graph media types; `format=` wins over Accept. Raises 406/400 when nothing fits."""
    if format_name:
        choice = format_choice(format_name)
        if choice is None:
            names = ", ".join(sorted(FORMAT_NAMES))
            raise UnsupportedFormat(f"unknown format {format_name!r}; use one of {names} or a media type") from None
        return Negotiated(*choice)
    ranges = parse_accept(accept)
    chosen = Negotiated(best_match(ranges, RESULTS_MEDIA_TYPES), best_match(ranges, GRAPH_MEDIA_TYPES))
    if chosen.results is None and chosen.graph is None:
        offered = ", ".join(RESULTS_MEDIA_TYPES + GRAPH_MEDIA_TYPES)
        raise NotAcceptable(f"none of the accepted media types is offered; offered: {offered}")
    return chosen


def prefers_html(accept: str | None) -> bool:
    """Whether a browser asked: text/html is accepted at least as much as Turtle."""
    ranges = parse_accept(accept)
    html = quality(ranges, HTML)
    return html > 0 and any(r.type == "text" and r.subtype == "html" for r in ranges) and html >= quality(
        ranges, "text/turtle"
    )

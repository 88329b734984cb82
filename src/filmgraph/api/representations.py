"""The representations a linked-data resource is offered in (an `/id/` page, the ontology): one table and one
Accept choice, so that every dereferenceable IRI negotiates alike."""

from __future__ import annotations

from ..errors import NotAcceptable
from ..export import FORMATS
from .negotiation import HTML, best_match, parse_accept

# media type -> export format name; this order of preference breaks Accept ties (HTML first, for browsers).
RDF_FORMATS = {"text/turtle": "turtle", "application/ld+json": "jsonld", "application/n-triples": "ntriples",
               "application/rdf+xml": "rdfxml"}  # fmt: skip
OFFERED = (HTML, *RDF_FORMATS)
EXTENSIONS = {"html": HTML, **{FORMATS[name].extension: media for media, name in RDF_FORMATS.items()}}


def choose_representation(accept: str | None) -> str:
    """The offered media type the Accept header prefers, or 406."""
    chosen = best_match(parse_accept(accept), OFFERED)
    if chosen is None:
        raise NotAcceptable(f"offered: {', '.join(OFFERED)}")
    return chosen

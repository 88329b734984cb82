"""The representations a linked-data resource is offered in (an `/id/` page, the ontology): one list and one
Accept choice, so that every dereferenceable IRI negotiates alike."""

from __future__ import annotations

from ..formats import HTML, JSON_LD, N_TRIPLES, RDF_XML, TURTLE, Format, by_extension, by_media_type, media_types
from .negotiation import choose

# This order of preference breaks Accept ties (HTML first, for browsers).
REPRESENTATIONS: tuple[Format, ...] = (HTML, TURTLE, JSON_LD, N_TRIPLES, RDF_XML)
RDF_REPRESENTATIONS = REPRESENTATIONS[1:]
OFFERED = media_types(REPRESENTATIONS)
EXTENSIONS = tuple(f.extension for f in REPRESENTATIONS)


def choose_representation(accept: str | None) -> Format:
    """The offered representation the Accept header prefers, or 406."""
    return by_media_type(choose(accept, OFFERED, "offered: {offered}"), REPRESENTATIONS)


def by_file_extension(extension: str) -> Format | None:
    """The representation a file extension forces (`.ttl`, `.html`, ...), or None."""
    return by_extension(extension, REPRESENTATIONS)

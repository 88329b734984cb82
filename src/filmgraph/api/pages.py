"""Dereferenceable entity IRIs: `GET /id/{local}` answers with an HTML page, Turtle, JSON-LD, N-Triples or RDF/XML.

The page is a view over the same entity card as `/api/entities/{id}` (for a source, over `/api/sources/{id}`:
its text with every evidence span highlighted); the RDF is the entity's concise bounded
description (filmgraph.export.entity_quads) plus the labels of the nodes it links to, serialised by the export
module. Content negotiation on Accept, or a file extension (`/id/russia.ttl`) for links and curl users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pyoxigraph import NamedNode, Quad

from ..domain import source_detail
from ..entities import ENTITY_ID, entity_card, entity_node
from ..errors import NotAcceptable
from ..export import FORMATS, Export, Subset, entity_quads
from ..lookup import SPARQL_PREFIXES
from ..records import SourceDetail
from ..store import Store
from .conditional import Validators, conditional_get
from .deps import get_store
from .models import PROBLEMS
from .negotiation import best_match, parse_accept

router = APIRouter(tags=["linked data"], responses=PROBLEMS)

HTML = "text/html"
# media type -> export format name; the page's own order of preference breaks Accept ties.
RDF_FORMATS = {"text/turtle": "turtle", "application/ld+json": "jsonld", "application/n-triples": "ntriples",
               "application/rdf+xml": "rdfxml"}
OFFERED = (HTML, *RDF_FORMATS)
EXTENSIONS = {"html": HTML, **{FORMATS[name].extension: media for media, name in RDF_FORMATS.items()}}

templates = Environment(loader=PackageLoader("filmgraph.api", "templates"), autoescape=select_autoescape())
templates.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)  # e.g. only fg: classes

_NEIGHBOUR_LABELS = """
SELECT ?e ?s ?p ?o ?g WHERE {
  { ?e ?link ?s } UNION { ?s ?link ?e }
  FILTER(isIRI(?s) && ?s != ?e)
  VALUES ?p { skos:prefLabel rdfs:label }
  GRAPH ?g { ?s ?p ?o }
}"""


def description_quads(store: Store, local: str) -> list[Quad]:
    """The entity's concise bounded description (with its claims' provenance) and its neighbours' labels."""
    quads = entity_quads(store, local)
    rows = store.query(SPARQL_PREFIXES + _NEIGHBOUR_LABELS, bindings={"e": entity_node(local)}).rows
    labels = [Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows if isinstance(row["g"], NamedNode)]
    return list(dict.fromkeys([*quads, *labels]))


def _split_extension(name: str) -> tuple[str, str | None]:
    stem, dot, extension = name.rpartition(".")
    if dot and extension in EXTENSIONS:
        return stem, EXTENSIONS[extension]
    return name, None


def _choose(request: Request, forced: str | None) -> str:
    if forced:
        return forced
    chosen = best_match(parse_accept(request.headers.get("accept")), OFFERED)
    if chosen is None:
        raise NotAcceptable(f"offered: {', '.join(OFFERED)}")
    return chosen


def _rdf(store: Store, local: str, media_type: str, headers: dict[str, str]) -> Response:
    quads = description_quads(store, local)
    document = Export(FORMATS[RDF_FORMATS[media_type]], Subset("entity", local), lambda: quads, len(quads))
    return Response(document.to_bytes(), media_type=media_type, headers=headers)


@dataclass(frozen=True)
class Segment:
    """A stretch of source text and the labels of the claims whose evidence covers all of it."""

    text: str
    claims: tuple[str, ...]


def evidence_segments(source: SourceDetail) -> list[Segment]:
    """Cut the source text at every span boundary, so overlapping evidence spans can all be highlighted."""
    text = source.text or ""
    spans = [
        (e.begin, e.end, c.claim.label or c.claim.iri) for c in source.claim_list for e in c.provenance.evidence
    ]
    cuts = sorted({0, len(text)} | {min(max(offset, 0), len(text)) for b, e, _ in spans for offset in (b, e)})
    return [
        Segment(text[start:end], tuple(sorted({label for b, e, label in spans if b <= start and end <= e})))
        for start, end in zip(cuts, cuts[1:], strict=False)
    ]


RDF_FORMATS_BY_EXTENSION = {extension: media for extension, media in EXTENSIONS.items() if media != HTML}


def _html(store: Store, local: str, headers: dict[str, str]) -> HTMLResponse:
    card = entity_card(store, local)
    if any(t.curie == "fg:Source" for t in card.types):
        source = source_detail(store, local)
        page = templates.get_template("source.html").render(
            source=source, segments=evidence_segments(source), formats=RDF_FORMATS_BY_EXTENSION
        )
    else:
        page = templates.get_template("entity.html").render(card=card, formats=RDF_FORMATS_BY_EXTENSION)
    return HTMLResponse(page, headers=headers)


@router.get(
    "/id/{name}",
    summary="Dereference an entity IRI (HTML, Turtle, JSON-LD, N-Triples, RDF/XML)",
    response_class=Response,
    responses={200: {"content": {media: {} for media in OFFERED}}},
)
def dereference(
    name: Annotated[
        str,
        Path(pattern=ENTITY_ID.pattern, description="Local name, optionally with .html, .ttl, .jsonld, .nt or .rdf"),
    ],
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    validators: Annotated[Validators, Depends(conditional_get)],
) -> Response:
    """The entity whose IRI is `https://w3id.org/filmgraph/id/{name}`, in the format the client asks for."""
    local, forced = _split_extension(name)
    entity_node(local)  # 422 for a malformed name before any work
    media_type = _choose(request, forced)
    headers = {**validators.headers, "Vary": "Accept"}
    if media_type == HTML:
        return _html(store, local, headers)
    return _rdf(store, local, media_type, headers)

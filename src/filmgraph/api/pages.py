"""Dereferenceable entity IRIs: `GET /id/{local}` answers with an HTML page, Turtle, JSON-LD, N-Triples or RDF/XML.

The page is a view over the same entity card as `/api/entities/{id}` (for a source, over `/api/sources/{id}`:
the reader, its text with every evidence span coloured by its claims' status and linked to them); the RDF is the entity's concise bounded
description (filmgraph.export.entity_quads) plus the labels of the nodes it links to, serialised by the export
module. Content negotiation on Accept, or a file extension (`/id/russia.ttl`) for links and curl users.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pyoxigraph import NamedNode, Quad

from ..domain import source_detail
from ..entities import ENTITY_ID, entity_card, entity_node
from ..export import FORMATS, Export, Subset, entity_quads
from ..formats import HTML, Format
from ..lookup import SPARQL_PREFIXES
from ..records import ClaimRecord, SourceDetail
from ..store import Store
from .conditional import Validators, conditional_get
from .deps import get_store
from .entity_view import first_screen, status_legend
from .models import PROBLEMS
from .representations import OFFERED, RDF_REPRESENTATIONS, by_file_extension, choose_representation

router = APIRouter(tags=["linked data"], responses=PROBLEMS)

# The one Jinja environment of the API: every HTML page (here, /sparql, home, docs, reconcile) renders with it.
templates = Environment(loader=PackageLoader("filmgraph.api", "templates"), autoescape=select_autoescape())
templates.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)  # e.g. only fg: classes
# a status CURIE (fg:Planned) -> the CSS class of its badge and highlight colour (st-planned); none -> st-none
templates.filters["status_class"] = lambda status: "st-" + (str(status).rpartition(":")[2].lower() if status else "none")
templates.globals["span_anchor"] = lambda begin, end: span_anchor(begin, end)

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

def _split_extension(name: str) -> tuple[str, Format | None]:
    stem, dot, extension = name.rpartition(".")
    forced = by_file_extension(extension) if dot else None
    return (stem, forced) if forced else (name, None)

def _choose(request: Request, forced: Format | None) -> Format:
    return forced or choose_representation(request.headers.get("accept"))

def _rdf(store: Store, local: str, representation: Format, headers: dict[str, str]) -> Response:
    quads = description_quads(store, local)
    document = Export(FORMATS[representation.name], Subset("entity", local), lambda: quads, len(quads))
    return Response(document.to_bytes(), media_type=representation.media_type, headers=headers)

@dataclass(frozen=True)
class Passage:
    """One evidence span of a source and the claims it supports: what a highlighted stretch of text links to."""

    anchor: str
    begin: int
    end: int
    quote: str
    claims: tuple[ClaimRecord, ...]

    @property
    def status(self) -> str | None:
        """The supporting claims' status when they agree; None ("mixed") when they do not."""
        found = {claim.provenance.status for claim in self.claims}
        return found.pop() if len(found) == 1 else None

@dataclass(frozen=True)
class Segment:
    """A stretch of source text between two span boundaries and the passages covering all of it, innermost
    (shortest) first: it links to the innermost, so overlapping spans each stay reachable from their own text."""

    start: int
    text: str
    passages: tuple[Passage, ...]

def span_anchor(begin: int, end: int) -> str:
    """The reader's fragment id for a span: entity pages link evidence quotes to `/id/{source}#span-B-E`."""
    return f"span-{begin}-{end}"

def evidence_passages(source: SourceDetail) -> list[Passage]:
    """Every evidence span of the source once, in text order, with all the claims it supports."""
    claims: dict[tuple[int, int], list[ClaimRecord]] = defaultdict(list)
    quotes: dict[tuple[int, int], str] = {}
    for claim in source.claim_list:
        for evidence in claim.provenance.evidence:
            claims[(evidence.begin, evidence.end)].append(claim)
            quotes[(evidence.begin, evidence.end)] = evidence.quote
    return [
        Passage(span_anchor(begin, end), begin, end, quotes[(begin, end)], tuple(claims[(begin, end)]))
        for begin, end in sorted(claims)
    ]

def evidence_segments(text: str, passages: list[Passage]) -> list[Segment]:
    """Cut the text at every span boundary, so that overlapping evidence spans can all be highlighted."""
    bounded = [(min(max(p.begin, 0), len(text)), min(max(p.end, 0), len(text)), p) for p in passages]
    cuts = sorted({0, len(text)} | {offset for begin, end, _ in bounded for offset in (begin, end)})
    segments = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = sorted((p for b, e, p in bounded if b <= start and end <= e), key=lambda p: (p.end - p.begin, p.begin))
        segments.append(Segment(start, text[start:end], tuple(covering)))
    return segments

def render_page(template: str, **context) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context))

def _html(store: Store, local: str, headers: dict[str, str]) -> HTMLResponse:
    card = entity_card(store, local)
    legend = status_legend(store)
    if any(t.curie == "fg:Source" for t in card.types):
        source = source_detail(store, local)
        passages = evidence_passages(source)
        page = templates.get_template("source.html").render(
            source=source, passages=passages, segments=evidence_segments(source.text or "", passages),
            formats=RDF_REPRESENTATIONS, legend=legend,
        )  # fmt: skip
    else:
        page = templates.get_template("entity.html").render(
            card=card, screen=first_screen(store, card), formats=RDF_REPRESENTATIONS, legend=legend
        )
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
    representation = _choose(request, forced)
    headers = {**validators.headers, "Vary": "Accept"}
    if representation == HTML:
        return _html(store, local, headers)
    return _rdf(store, local, representation, headers)

"""The landing page `GET /`: where a researcher starts (API docs, SPARQL, search, questions, sources, exports).

HTML for browsers, the same links as JSON for clients (by Accept), so the service describes its own entry points.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..domain import sources
from ..formats import HTML, PLAIN_JSON, media_types
from ..store import Store
from .deps import get_store
from .models import PROBLEMS
from .negotiation import choose
from .pages import templates

router = APIRouter(tags=["linked data"], responses=PROBLEMS)

OFFERED = media_types((HTML, PLAIN_JSON))
ENTRY_POINTS = (
    ("/docs", "REST API documentation (OpenAPI)"),
    ("/sparql", "Query editor (every research question as a tab) and SPARQL 1.1 endpoint"),
    ("/timeline", "Timeline of dated events, and each agreement's status history"),
    ("/api/entities?q=", "Search entities by name"),
    ("/reconcile", "Reconciliation service for OpenRefine (W3C Reconciliation API v0.2)"),
    ("/api/queries", "Research questions as named queries"),
    ("/export", "The whole graph as RDF (Turtle, TriG, N-Quads, JSON-LD, ...)"),
    ("/.well-known/void", "Dataset description (VoID, DCAT)"),
)


def _links(store: Store) -> list[dict[str, str]]:
    links = [{"href": href, "title": title} for href, title in ENTRY_POINTS]
    for source in sources(store):
        links.append({"href": f"/id/{source.id}", "title": f"Source: {source.title or source.id}"})
    return links


@router.get("/", summary="Landing page: the service's entry points (HTML or JSON by Accept)")
def home(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    chosen = choose(request.headers.get("accept"), OFFERED, "offered: {offered}")
    links = _links(store)
    headers = {"Vary": "Accept"}
    if chosen == PLAIN_JSON.media_type:
        return JSONResponse({"title": "filmgraph", "links": links}, headers=headers)
    return HTMLResponse(templates.get_template("home.html").render(links=links), headers=headers)

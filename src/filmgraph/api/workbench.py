"""The browser workbench's own pages and data: the query editor's ready tabs, the graph view, the timeline.

The editor (`/sparql`, YASGUI) reads `/api/workbench/tabs`: the project prefixes and every research question of
`queries/` with its parameters bound to an example by a trailing VALUES row whose terms pyoxigraph writes (the
same form the remote backend binds with), so each tab runs as it stands and shows which values to change.
The graph view and the timeline are server-rendered pages over the same records as the REST API.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from ..domain import agreements, timeline
from ..entities import ENTITY_ID, entity_card
from ..named_queries import NamedQuery, QueryParameter, bind_parameters, load_named_queries
from ..status import status_reports
from ..store import Store
from ..store.remote import with_values
from ..vocab import PREFIXES
from .assets import missing_vendor_files
from .deps import get_store
from .models import PROBLEMS
from .pages import render_page

router = APIRouter(tags=["workbench"], responses=PROBLEMS)
_EXAMPLE = re.compile(r"e\.g\.\s+(\S+?)[.,;)]?(?:\s|$)")


class EditorTab(BaseModel):
    name: str = Field(description="The research question's file stem (`/api/queries/{name}`).")
    title: str
    description: str
    query: str = Field(description="The SPARQL text, parameters bound to `example` values by a trailing VALUES.")
    example: dict[str, str] = Field(default_factory=dict, description="The parameter values used, as typed.")


class EditorConfig(BaseModel):
    endpoint: str = "/sparql"
    prefixes: dict[str, str]
    tabs: list[EditorTab]


def _stated_example(parameter: QueryParameter) -> str | None:
    found = _EXAMPLE.search(parameter.description)
    return parameter.default or getattr(parameter, "example", None) or (found.group(1) if found else None)


def _examples(queries: dict[str, NamedQuery]) -> dict[str, str]:
    """An example per parameter: its default or the example its header gives; else, for a required one, the first
    example of that type any question gives (today for a date), so that every tab runs as shipped."""
    stated = {(q.name, p.name): _stated_example(p) for q in queries.values() for p in q.parameters}
    by_type = {"date": dt.date.today().isoformat()}
    for query in queries.values():
        for parameter in query.parameters:
            by_type.setdefault(parameter.type, stated[(query.name, parameter.name)] or "")
    return {
        f"{q.name}/{p.name}": value
        for q in queries.values()
        for p in q.parameters
        if (value := stated[(q.name, p.name)] or (by_type.get(p.type) if p.required else None))
    }


def editor_tabs(queries: dict[str, NamedQuery]) -> list[EditorTab]:
    examples = _examples(queries)
    tabs = []
    for query in queries.values():
        used = {p.name: examples[f"{query.name}/{p.name}"] for p in query.parameters if f"{query.name}/{p.name}" in examples}
        text = with_values(query.text.rstrip() + "\n", bind_parameters(query, used))
        tabs.append(EditorTab(name=query.name, title=query.title, description=query.description, query=text, example=used))
    return tabs


@router.get("/api/workbench/tabs", response_model=EditorConfig, summary="The query editor's prefixes and ready tabs")
def workbench_tabs(request: Request) -> EditorConfig:
    """Every research question with example parameter values bound, as the `/sparql` editor opens them."""
    queries = load_named_queries(request.app.state.settings.queries_dir)
    return EditorConfig(prefixes=PREFIXES, tabs=editor_tabs(queries))


@router.get("/graph/{id}", response_class=HTMLResponse, summary="Graph view of an entity's neighbourhood (HTML)")
def graph_view(
    id: Annotated[str, Path(pattern=ENTITY_ID.pattern, description="Entity id to centre on.")],
    store: Annotated[Store, Depends(get_store)],
) -> HTMLResponse:
    """Cytoscape.js over `/api/entities/{id}`: click a node to expand it, an edge to read its evidence. Without
    JavaScript (or without the installed assets) the page lists the same neighbours."""
    card = entity_card(store, id)  # 404 for an unknown entity, before any page
    return render_page("graph.html", card=card, missing=missing_vendor_files("cytoscape.min.js"))


@router.get("/timeline", response_class=HTMLResponse, summary="Dated events in order, and agreements' histories (HTML)")
def timeline_page(store: Annotated[Store, Depends(get_store)]) -> HTMLResponse:
    """As `/api/timeline`, then each agreement's status history as `/api/agreements/{id}/history` gives it."""
    found = agreements(store)
    histories = status_reports(store, [record.entity.iri for record in found])
    return render_page("timeline.html", events=timeline(store), agreements=found, histories=histories)

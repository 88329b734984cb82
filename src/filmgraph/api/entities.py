"""REST lookups of entities: search, the entity card, relations and connecting paths.

Thin over `filmgraph.search`, `filmgraph.entities` and `filmgraph.paths`; parameters are validated here (422)
and every read answers conditional GETs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from ..entities import ENTITY_ID, entity_card, entity_relations
from ..lookup import entity_refs
from ..paths import MAX_HOPS, shortest_paths
from ..records import EntityCard
from ..search import MAX_QUERY_LENGTH, search_entities
from ..store import Store
from ..vocab import ID
from .conditional import conditional_get
from .deps import get_store, request_base_url
from .models import PROBLEMS, PathList, RelationList, SearchPage

router = APIRouter(prefix="/api", tags=["entities"], dependencies=[Depends(conditional_get)], responses=PROBLEMS)

EntityId = Annotated[str, Path(pattern=ENTITY_ID.pattern, description="Local name, e.g. `russian-state-fund`.")]


def _next_link(request: Request, total: int, limit: int, offset: int) -> str | None:
    if offset + limit >= total:
        return None
    following = request.url.include_query_params(offset=offset + limit, limit=limit)
    return f"{request_base_url(request, request.app.state.settings)}{following.path}?{following.query}"


@router.get("/entities", response_model=SearchPage, summary="Search entities by name")
def search(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    q: Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="Name or part of it; empty lists all.")] = "",
    class_: Annotated[
        str | None, Query(alias="type", max_length=500, description="Class: local name (`State`), CURIE or IRI.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SearchPage:
    """Names, a statement's own words and the names of what an entity is linked to, case-, accent- and
    punctuation-insensitive, prefixes and typos; best match first, each hit saying why it matched."""
    total, hits = search_entities(store, q, class_, limit, offset)
    return SearchPage(
        total=total, limit=limit, offset=offset, next=_next_link(request, total, limit, offset), items=hits
    )


@router.get("/entities/{id}", response_model=EntityCard, summary="Everything about one entity")
def card(id: EntityId, store: Annotated[Store, Depends(get_store)]) -> EntityCard:
    """Types (asserted and inferred), labels, identifiers and every relation in and out with its evidence."""
    return entity_card(store, id)


@router.get("/entities/{id}/relations", response_model=RelationList, summary="Relations of an entity")
def relations(
    id: EntityId,
    store: Annotated[Store, Depends(get_store)],
    direction: Literal["in", "out", "both"] = "both",
    property: Annotated[
        str | None, Query(max_length=500, description="Property: IRI, CURIE (`org:postIn`) or local name.")
    ] = None,
    status: Annotated[
        str | None, Query(max_length=500, description="Epistemic status: `Asserted`, `Planned`, `fg:Hoped`, …")
    ] = None,
) -> RelationList:
    found = entity_relations(store, id, direction, property, status)
    entity = next(iter(entity_refs(store, [ID + id]).values()))
    return RelationList(entity=entity, total=len(found), relations=found)


@router.get("/paths", response_model=PathList, summary="How two entities are connected")
def paths(
    store: Annotated[Store, Depends(get_store)],
    source: Annotated[str, Query(alias="from", pattern=ENTITY_ID.pattern, description="Entity id to start from.")],
    target: Annotated[str, Query(alias="to", pattern=ENTITY_ID.pattern, description="Entity id to reach.")],
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Longest path considered.")] = 3,
) -> PathList:
    """All shortest paths up to `max_hops` edges, each step labelled with its property and direction."""
    found = shortest_paths(store, source, target, max_hops)
    refs = entity_refs(store, [ID + source, ID + target])
    return PathList(
        source=refs[ID + source], target=refs[ID + target], max_hops=max_hops, paths=found
    )

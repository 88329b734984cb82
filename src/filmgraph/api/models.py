"""Response envelopes of the REST API (pages, lists, problems); the records inside are `filmgraph.records`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..records import AgreementRecord, EntityRef, EventRecord, Path, Relation, SearchHit, SourceSummary


class Problem(BaseModel):
    """RFC 9457 problem details: every error of the API has this body."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such entity, source or query."},
    422: {"description": "An invalid parameter; the body says which and why."},
}


class SearchPage(BaseModel):
    """One page of search results."""

    total: int = Field(description="Number of matches over all pages.")
    limit: int
    offset: int
    next: str | None = Field(None, description="URL of the next page, absent on the last one.")
    items: list[SearchHit]


class RelationList(BaseModel):
    entity: EntityRef
    total: int
    relations: list[Relation]


class PathList(BaseModel):
    """All shortest paths between two entities up to `max_hops`; empty when they are further apart."""

    source: EntityRef
    target: EntityRef
    max_hops: int
    paths: list[Path]


class AgreementList(BaseModel):
    total: int
    agreements: list[AgreementRecord]


class Timeline(BaseModel):
    """Dated events and statements, earliest possible date first."""

    total: int
    events: list[EventRecord]


class SourceList(BaseModel):
    total: int
    sources: list[SourceSummary]

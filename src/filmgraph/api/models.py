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


class ParameterError(BaseModel):
    parameter: str = Field(description="The parameter's name.")
    message: str
    input: Any = None


class InvalidParameters(Problem):
    """A 422: the problem details plus one entry per invalid parameter (when FastAPI's validation found them)."""

    errors: list[ParameterError] = Field(default_factory=list)


PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such entity, source or query."},
    422: {"model": InvalidParameters, "description": "An invalid parameter; the body says which and why."},
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
    """Dated events (fg:Event), ordered by their latest possible date (see `filmgraph.domain.time_key`)."""

    total: int
    events: list[EventRecord]


class SourceList(BaseModel):
    total: int
    sources: list[SourceSummary]


class QueryParameterInfo(BaseModel):
    name: str
    type: str = Field(description="iri (full IRI, CURIE or local name), string, integer or date (YYYY-MM-DD).")
    required: bool
    description: str = ""
    default: str | None = None


class QueryInfo(BaseModel):
    """A research question and how to call it."""

    name: str
    title: str
    description: str
    url: str = Field(description="Where to GET it; parameters go in the query string.")
    parameters: list[QueryParameterInfo]


class QueryList(BaseModel):
    total: int
    queries: list[QueryInfo]


class QueryAnswer(BaseModel):
    """A research question's answer as plain JSON: one object per row, values as strings (IRIs in full)."""

    query: str
    title: str
    variables: list[str]
    total: int
    rows: list[dict[str, str]]
    boolean: bool | None = Field(None, description="The answer of an ASK question.")

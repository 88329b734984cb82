"""Domain views over HTTP: agreements, the timeline and sources (thin over `filmgraph.domain`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from ..domain import agreements, source_detail, sources, timeline
from ..entities import ENTITY_ID
from ..records import AgreementHistory, SourceDetail
from ..status import agreement_history
from ..store import Store
from .conditional import conditional_get
from .deps import get_store
from .models import PROBLEMS, AgreementList, SourceList, Timeline

router = APIRouter(prefix="/api", tags=["domain"], dependencies=[Depends(conditional_get)], responses=PROBLEMS)


@router.get("/agreements", response_model=AgreementList, summary="Agreements and their status history")
def list_agreements(
    store: Annotated[Store, Depends(get_store)],
    party: Annotated[
        str | None,
        Query(pattern=ENTITY_ID.pattern, description="Entity id of a party, or of the state a party belongs to."),
    ] = None,
    status: Annotated[
        str | None,
        Query(max_length=100, description="signed, postponed, planned, unsigned, or an epistemic status."),
    ] = None,
    start: Annotated[date | None, Query(alias="from", description="Events on or after this date.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Events on or before this date.")] = None,
    as_of: Annotated[
        date | None,
        Query(description="Give `state` as reported for this date (YYYY-MM-DD): the latest status report whose "
              "time is surely on or before it (its latest possible date ≤ as_of); `status` filters on that state; "
              "events placed after the date (earliest possible date > as_of) are left out."),
    ] = None,
) -> AgreementList:
    """Parties, kind, the signing, planned signing and postponement events with dates and venue, and the status as
    reported (the latest report, or the latest known by `as_of`) with the report it is read from."""
    found = agreements(store, party, status, start, end, as_of)
    return AgreementList(total=len(found), agreements=found)


@router.get(
    "/agreements/{id}/history", response_model=AgreementHistory, summary="Every status reported for an agreement"
)
def get_agreement_history(
    id: Annotated[str, Path(pattern=ENTITY_ID.pattern, description="Entity id of the agreement.")],
    store: Annotated[Store, Depends(get_store)],
) -> AgreementHistory:
    """Each status report (planned, postponed, signed, ...) in time order, with its time bounds, the claim it is read
    from, its modality, who says it, the source and the evidence spans. A later source adds reports; none replaces
    another."""
    return agreement_history(store, id)


@router.get("/timeline", response_model=Timeline, summary="Dated events in order, with evidence")
def get_timeline(store: Annotated[Store, Depends(get_store)]) -> Timeline:
    found = timeline(store)
    return Timeline(total=len(found), events=found)


@router.get("/sources", response_model=SourceList, summary="The sources claims are drawn from")
def list_sources(store: Annotated[Store, Depends(get_store)]) -> SourceList:
    found = sources(store)
    return SourceList(total=len(found), sources=found)


@router.get("/sources/{id}", response_model=SourceDetail, summary="A source's text with its claims and spans")
def get_source(
    id: Annotated[str, Path(pattern=ENTITY_ID.pattern, description="Source id, the text file's stem.")],
    store: Annotated[Store, Depends(get_store)],
) -> SourceDetail:
    return source_detail(store, id)

"""Domain views over a `Store`: agreements with their status history, the timeline of dated events, sources.

These read the ontology's n-ary patterns (fg:Agreement with fg:party; fg:Event with fg:concernsAgreement,
fg:atTime, fg:venue, fg:newTargetTime; fg:Source with its claims) so that a researcher gets "what was agreed,
planned or postponed, when and where" without writing SPARQL. Every record carries its claims' evidence.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import get_args

from pyoxigraph import Literal, NamedNode

from .entities import entity_node, require_entity
from .errors import InvalidParameter, NotFound
from .lookup import (
    SPARQL_PREFIXES,
    entity_refs,
    has_status,
    labels,
    local_id,
    provenance,
    require_status,
    run_for_nodes,
    times,
)
from .records import (
    AgreementRecord,
    AgreementState,
    ClaimRecord,
    EventRecord,
    Provenance,
    SourceDetail,
    SourceSummary,
    StatusReport,
)
from .status import status_as_of, status_reports
from .store import Store
from .vocab import INFERRED_GRAPH, curie

AGREEMENT_STATES: tuple[str, ...] = get_args(AgreementState)


def _select(store: Store, sparql: str, **bindings) -> list[dict]:
    return store.query(SPARQL_PREFIXES + sparql, bindings=bindings or None).rows


def _column(rows: list[dict], name: str) -> list[str]:
    return sorted({row[name].value for row in rows if name in row})


# --- time and events ----------------------------------------------------------------------------------------
_EVENT_LINKS = """
SELECT ?e ?p ?o WHERE {
  {values}
  ?e ?p ?o .
  VALUES ?p { fg:atTime fg:newTargetTime fg:venue fg:concernsAgreement fg:participant fg:signatory }
}"""


def events(store: Store, iris: set[str]) -> dict[str, EventRecord]:
    """Event records (time, target time, venue, agreement, participants, provenance) for many nodes."""
    links: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in run_for_nodes(store, _EVENT_LINKS, "e", iris):
        links[row["e"].value][row["p"].value.rpartition("#")[2]].append(row["o"].value)
    time_iris = {t for link in links.values() for key in ("atTime", "newTargetTime") for t in link[key]}
    found_times = times(store, time_iris)
    others = {o for link in links.values() for key in ("venue", "concernsAgreement", "participant", "signatory")
              for o in link[key]}
    refs = entity_refs(store, set(iris) | others)
    carriers = provenance(store, iris)
    return {iri: _event(iri, links[iri], refs, found_times, carriers) for iri in iris}


def _first(values: list[str], table: dict):
    return next((table[v] for v in sorted(values) if v in table), None)


def _event(iri: str, link: dict[str, list[str]], refs, found_times, carriers) -> EventRecord:
    return EventRecord(
        entity=refs[iri],
        time=_first(link.get("atTime", []), found_times),
        new_target_time=_first(link.get("newTargetTime", []), found_times),
        venue=_first(link.get("venue", []), refs),
        agreement=_first(link.get("concernsAgreement", []), refs),
        participants=[refs[p] for p in sorted(set(link.get("participant", []) + link.get("signatory", [])))],
        provenance=[carriers[iri]] if iri in carriers else [],
    )


def time_key(event: EventRecord) -> tuple[str, str, bool, str, str]:
    """Timeline order: by the latest date the event can fall on (its upper bound; a postponement by its new
    target time); among equal upper bounds an open lower bound ("recently": no later than) comes first, then
    the earlier lower bound, then what happened before what is only targeted; then the label, then the IRI.
    Undated last.
    `queries/timeline.rq` orders the same way."""
    time = event.time or event.new_target_time
    label = event.entity.label or ""
    if time is None:
        return ("9999", "9999", True, label, event.entity.iri)
    return (time.not_after or time.not_before or "9999", time.not_before or "", event.time is None, label,
            event.entity.iri)  # fmt: skip


_DATED_EVENTS = "SELECT DISTINCT ?e WHERE { ?e a fg:Event . { ?e fg:atTime ?t } UNION { ?e fg:newTargetTime ?t } }"


def timeline(store: Store) -> list[EventRecord]:
    """Every dated event (fg:Event and its subclasses, inferred classes count; a postponement at its new target
    time) in time order (`time_key`). Statements and sources carry times too but are not events."""
    rows = _select(store, _DATED_EVENTS)
    return sorted(events(store, set(_column(rows, "e"))).values(), key=time_key)


# --- agreements ---------------------------------------------------------------------------------------------
_AGREEMENT_FACTS = f"""
SELECT ?a ?p ?o WHERE {{
  {{values}}
  {{ ?a fg:party ?o BIND(fg:party AS ?p) }}
  UNION {{ ?a fg:subjectMatter ?o BIND(fg:subjectMatter AS ?p) }}
  UNION {{ GRAPH ?g {{ ?a a ?o }} FILTER(?g != <{INFERRED_GRAPH}>) BIND(rdf:type AS ?p) }}
  UNION {{ {{ ?o fg:concernsAgreement ?a }} UNION {{ ?a fg:hasEvent ?o }}
          UNION {{ ?o fg:postpones/fg:concernsAgreement ?a }} BIND(fg:hasEvent AS ?p) }}
  UNION {{ ?a fg:party/(fg:associatedWithState|fg:ofState) ?o BIND(fg:associatedWithState AS ?p) }}
}}"""


def _agreement(
    iri: str, facts: dict[str, list[str]], refs, found_events, carriers, reports: list[StatusReport], as_of: date | None
) -> AgreementRecord:
    current = status_as_of(reports, as_of)
    return AgreementRecord(
        entity=refs[iri],
        kinds=sorted(curie(t) for t in facts["type"]),
        parties=[refs[p] for p in sorted(set(facts["party"]))],
        subject_matter=next(iter(facts["subjectMatter"]), None),
        state=current.status if current else "unknown",
        as_of=as_of.isoformat() if as_of else None,
        status_report=current,
        provenance=[carriers[iri]] if iri in carriers else [],
        events=sorted((found_events[e] for e in set(facts["hasEvent"]) if _placed_by(found_events[e], as_of)),
                      key=time_key),
    )


def _placed_by(event: EventRecord, as_of: date | None) -> bool:
    """Whether an event may have happened by `as_of` (its earliest possible date is not after it): as of 2010 the
    list does not show a signing placed in 2011. Undated events stay."""
    earliest = event.time.not_before if event.time else None
    return as_of is None or earliest is None or earliest <= as_of.isoformat()


def _overlaps(record: AgreementRecord, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    for event in record.events:
        for time in (event.time, event.new_target_time):
            if time and (end is None or (time.not_before or "0000") <= end.isoformat()) and (
                start is None or (time.not_after or "9999") >= start.isoformat()
            ):
                return True
    return False


def agreements(
    store: Store,
    party: str | None = None,
    status: str | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: date | None = None,
) -> list[AgreementRecord]:
    """Agreements with parties, kind and status history; filter by a party (an entity id: a party itself or
    the state a party belongs to), a state (signed, postponed, planned, unsigned, ...) or epistemic status, and
    a date range that one of its events may fall in. `state` is the status as reported: the latest status report,
    or the latest known by `as_of` (`filmgraph.status.status_as_of`); the `status` filter reads that state."""
    party_iri = require_entity(store, party).value if party else None
    if start and end and start > end:
        raise InvalidParameter("from must not be after to")
    if status is not None:
        require_status(store, status, also=AGREEMENT_STATES)
    found = _column(_select(store, "SELECT DISTINCT ?a WHERE { ?a a fg:Agreement }"), "a")
    facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in run_for_nodes(store, _AGREEMENT_FACTS, "a", found):
        facts[row["a"].value][row["p"].value.rpartition("#")[2]].append(row["o"].value)
    event_iris = {e for fact in facts.values() for e in fact["hasEvent"]}
    found_events = events(store, event_iris)
    refs = entity_refs(store, set(found) | {p for fact in facts.values() for p in fact["party"]})
    carriers = provenance(store, found)
    reports = status_reports(store, found)
    records = [
        _agreement(iri, facts[iri], refs, found_events, carriers, reports.get(iri, []), as_of) for iri in found
    ]
    return [
        r
        for r in records
        if (party_iri is None or party_iri in facts[r.entity.iri]["party"] + facts[r.entity.iri]["associatedWithState"])
        and (status is None or _status_matches(r, status))
        and _overlaps(r, start, end)
    ]


def _status_matches(record: AgreementRecord, status: str) -> bool:
    """A state word (signed, planned, ...) filters on the state as reported; anything else names an epistemic
    status of the agreement's own claim. "planned" is both a state and `fg:Planned`'s local name: the state wins,
    or a signed agreement that was once planned would be listed as planned."""
    if status.casefold() in AGREEMENT_STATES:
        return status.casefold() == record.state
    return has_status(record.provenance, status)


# --- sources ------------------------------------------------------------------------------------------------
_SOURCE_LITERALS = """
SELECT ?s ?p ?o WHERE { {values} ?s ?p ?o FILTER(isLiteral(?o) && ?p != nif:isString) }"""
_CLAIM_COUNTS = """
SELECT ?s (COUNT(DISTINCT ?c) AS ?n) WHERE { {values} ?c prov:wasDerivedFrom ?s ; fg:evidence ?span } GROUP BY ?s"""


def _summaries(store: Store, iris: list[str]) -> list[SourceSummary]:
    metadata: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in run_for_nodes(store, _SOURCE_LITERALS, "s", iris):
        metadata[row["s"].value][curie(row["p"].value)].append(row["o"].value)
    counts = {row["s"].value: int(row["n"].value) for row in run_for_nodes(store, _CLAIM_COUNTS, "s", iris)}
    titles = labels(store, iris)
    return [
        SourceSummary(
            id=local_id(iri) or iri,
            iri=iri,
            title=next(iter(metadata[iri].get("dcterms:title", [])), titles.get(iri)),
            metadata={prop: "; ".join(sorted(values)) for prop, values in sorted(metadata[iri].items())},
            claims=counts.get(iri, 0),
        )
        for iri in iris
    ]


def sources(store: Store) -> list[SourceSummary]:
    """Every source with its metadata and how many claims the graph draws from it."""
    return _summaries(store, _column(_select(store, "SELECT DISTINCT ?s WHERE { ?s a fg:Source }"), "s"))


_SOURCE_CLAIMS = """
SELECT DISTINCT ?src ?c ?s ?p ?o WHERE {
  ?c prov:wasDerivedFrom ?src .
  FILTER EXISTS { ?c fg:evidence ?span }
  OPTIONAL { ?c rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }
}"""


def _claim(row: dict, refs, predicate_labels, carriers: dict[str, Provenance]) -> ClaimRecord:
    subject, obj = row.get("s"), row.get("o")
    predicate = row["p"].value if "p" in row else None
    return ClaimRecord(
        claim=refs[row["c"].value],
        subject=refs.get(subject.value) if isinstance(subject, NamedNode) else None,
        predicate=predicate,
        predicate_label=predicate_labels.get(predicate) if predicate else None,
        object=refs.get(obj.value) if isinstance(obj, NamedNode) else None,
        provenance=carriers[row["c"].value],
    )


def source_detail(store: Store, source_id: str) -> SourceDetail:
    """One source: its metadata, its full text, and every claim drawn from it with its spans, in text order."""
    node = entity_node(source_id)
    if not _select(store, "SELECT ?s WHERE { ?s a fg:Source }", s=node):
        raise NotFound(f"no source {source_id!r}")
    summary = _summaries(store, [node.value])[0]
    text_rows = _select(store, "SELECT ?s ?text WHERE { ?s nif:isString ?text }", s=node)
    rows = _select(store, _SOURCE_CLAIMS, src=node)
    nodes = {row[k].value for row in rows for k in ("c", "s", "o") if isinstance(row.get(k), NamedNode)}
    refs = entity_refs(store, nodes)
    carriers = provenance(store, {row["c"].value for row in rows})
    predicate_labels = labels(store, {row["p"].value for row in rows if "p" in row})
    claims = [_claim(row, refs, predicate_labels, carriers) for row in rows]
    claims.sort(key=lambda c: (min((e.begin for e in c.provenance.evidence), default=0), c.claim.iri))
    text = next((row["text"].value for row in text_rows if isinstance(row["text"], Literal)), None)
    return SourceDetail(**summary.model_dump(), text=text, claim_list=claims)

"""Status as reported over time: an agreement's status reports in time order, and the status as reported for a date.

The build writes one `fg:StatusReport` per claim that bears on an agreement's status (docs/model.md, "Status as
reported over time"); a later source adds reports and never replaces one. Reading them here, not a timeless class
such as `fg:SignedAgreement`, is what lets "postponed as of 2010-12-31" and "signed as of 2011-03-01" both be true.
`queries/agreement-status-as-of.rq` answers the same question in SPARQL, with the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from .errors import NotFound
from .entities import entity_node
from .lookup import SPARQL_PREFIXES, entity_refs, literal_int, literal_text, provenance, run_for_nodes, times
from .records import AgreementHistory, Provenance, StatusReport
from .store import Store
from .vocab import curie

_REPORTS = """
SELECT ?a ?r ?status ?word ?rank ?claim ?t ?source WHERE {
  {values}
  ?r fg:statusOf ?a ; fg:reportedStatus ?status ; prov:wasDerivedFrom ?claim .
  OPTIONAL { ?status skos:notation ?word }
  OPTIONAL { ?status fg:statusRank ?rank }
  OPTIONAL { ?r fg:atTime ?t }
  OPTIONAL { ?claim prov:wasDerivedFrom ?source . ?source a fg:Source }
}"""


def report_key(report: StatusReport) -> tuple[str, str, int, str]:
    """Time order of reports: by the latest date the report's time can be (undated last), then the earlier lower
    bound first (as `domain.time_key` orders the timeline), then the status rank (at the same time a postponement
    comes after the plan it moves, a signing after both), then the report's IRI so the order is total."""
    time = report.time
    latest = (time.not_after if time else None) or "9999-99-99"
    earliest = (time.not_before if time else None) or ""
    return (latest, earliest, report.rank, report.report)


def status_reports(store: Store, agreements: Iterable[str]) -> dict[str, list[StatusReport]]:
    """The status reports of many agreements (IRIs), each list in time order (`report_key`)."""
    rows = run_for_nodes(store, _REPORTS, "a", agreements)
    claims = {row["claim"].value for row in rows}
    found_times = times(store, {row["t"].value for row in rows if "t" in row})
    refs = entity_refs(store, claims | {row["source"].value for row in rows if "source" in row})
    labels = entity_refs(store, {row["status"].value for row in rows})
    carriers = provenance(store, claims)
    reports: dict[str, dict[str, StatusReport]] = defaultdict(dict)
    for row in rows:
        claim = row["claim"].value
        reports[row["a"].value][row["r"].value] = StatusReport(
            report=row["r"].value,
            status=literal_text(row.get("word")) or "unknown",  # type: ignore[arg-type]
            status_concept=curie(row["status"].value),
            rank=literal_int(row.get("rank")) or 0,
            status_label=labels[row["status"].value].label,
            time=found_times.get(row["t"].value) if "t" in row else None,
            claim=refs[claim],
            source=refs[row["source"].value] if "source" in row else None,
            provenance=carriers.get(claim, Provenance(claim=claim)),
        )
    return {agreement: sorted(found.values(), key=report_key) for agreement, found in reports.items()}


def known_by(report: StatusReport, day: date) -> bool:
    """Whether a report is surely about a time on or before `day`: its latest possible date is not after it. A
    report whose bounds straddle the day (a signing "in 2011" asked about 2011-03-01) does not count yet."""
    latest = report.time.not_after if report.time else None
    return latest is not None and latest <= day.isoformat()


def status_as_of(reports: list[StatusReport], day: date | None = None) -> StatusReport | None:
    """The report an agreement's status is read from: the last, in time order, of the reports known by `day`;
    without a day the last dated report (an undated one only when none is dated). None when nothing is known."""
    if day is not None:
        known = [r for r in reports if known_by(r, day)]
    else:
        known = [r for r in reports if r.time and r.time.not_after] or reports
    return max(known, key=report_key, default=None)


_IS_AGREEMENT = "SELECT ?a WHERE { ?a a fg:Agreement }"


def agreement_history(store: Store, agreement_id: str) -> AgreementHistory:
    """Every status reported for one agreement, in time order, each with its time, claim, source and evidence."""
    node = entity_node(agreement_id)
    if not store.query(SPARQL_PREFIXES + _IS_AGREEMENT, bindings={"a": node}).rows:
        raise NotFound(f"no agreement {agreement_id!r} in the graph")
    reports = status_reports(store, [node.value]).get(node.value, [])
    agreement = entity_refs(store, [node.value])[node.value]
    return AgreementHistory(agreement=agreement, total=len(reports), reports=reports)

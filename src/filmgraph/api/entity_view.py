"""What an entity page shows first, read off the entity card: what it is, its state, its posts, its agreements.

A researcher opening `/id/russian-state-fund` wants those four before the long tail of relations (issue 15); they
are picked from the card's own relations (no second lookup), plus, for an agreement, its status as reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lookup import SPARQL_PREFIXES
from ..records import EntityCard, EntityRef, Relation, StatusReport
from ..status import status_as_of, status_reports
from ..store import Store
from ..vocab import PREFIXES

STATE_PROPERTIES = {PREFIXES["fg"] + "ofState", PREFIXES["fg"] + "associatedWithState"}
POST_CLASS = "org:Post"
AGREEMENT_CLASS = "fg:Agreement"


@dataclass
class FirstScreen:
    """The entity at a glance; every list holds relations, so each keeps its status badge and evidence."""

    states: list[Relation] = field(default_factory=list)
    posts: list[Relation] = field(default_factory=list)
    agreements: list[Relation] = field(default_factory=list)
    reported_status: StatusReport | None = None
    history: list[StatusReport] = field(default_factory=list)


def _distinct(relations: list[Relation]) -> list[Relation]:
    """One relation per other end (an agreement reached as `party` and `partyTo` is shown once)."""
    seen: dict[str, Relation] = {}
    for relation in relations:
        seen.setdefault(relation.other.iri, relation)
    return list(seen.values())


def _has_class(ref: EntityRef, curie: str) -> bool:
    return curie in ref.types


def first_screen(store: Store, card: EntityCard) -> FirstScreen:
    relations = [relation for group in card.relations for relation in group.relations]
    screen = FirstScreen(
        states=_distinct([r for r in relations if r.direction == "out" and r.property in STATE_PROPERTIES]),
        posts=_distinct([r for r in relations if _has_class(r.other, POST_CLASS)]),
        agreements=_distinct([r for r in relations if _has_class(r.other, AGREEMENT_CLASS)]),
    )
    if any(t.curie == AGREEMENT_CLASS for t in card.types):
        screen.history = status_reports(store, [card.iri]).get(card.iri, [])
        screen.reported_status = status_as_of(screen.history)
    return screen


_STATUSES = """
SELECT ?status ?label ?definition WHERE {
  ?status a fg:EpistemicStatus ; skos:prefLabel ?label .
  OPTIONAL { ?status skos:definition ?definition }
} ORDER BY ?label"""


@dataclass(frozen=True)
class StatusEntry:
    curie: str
    label: str
    definition: str


def status_legend(store: Store) -> list[StatusEntry]:
    """The epistemic statuses with their definitions, from the ontology in the store (the badges' legend)."""
    rows = store.query(SPARQL_PREFIXES + _STATUSES).rows
    entries = {
        row["status"].value: StatusEntry(
            "fg:" + row["status"].value.rpartition("#")[2],
            row["label"].value,
            row["definition"].value if row.get("definition") else "",
        )
        for row in rows
    }
    return sorted(entries.values(), key=lambda entry: entry.label)

"""The W3C Reconciliation Service API (v0.2, the version OpenRefine 3.x speaks) over the graph, as a library:
query batches, suggest, data extension and property proposals. `filmgraph.api.reconcile` serves it over HTTP.

Candidates and scores come from the one matcher (`filmgraph.matching`, through `filmgraph.search`), so a name
that search finds, reconciliation finds with the same rank. Ids are the entities' local names in the identifier
space `https://w3id.org/filmgraph/id/`; types and properties are CURIEs of the ontology (`fg:State`, `org:headOf`).
Choices where the spec leaves them to the service: a query's `type` is a hard filter (inferred classes count;
`type_strict` is accepted and ignored); property constraints are hard filters too (the spec's "WHERE clause"),
each satisfied when the candidate has that property with a value whose id is the one given, or whose own name or
identifier the given text matches; `match` is true only for the one candidate whose name or identifier is the
query exactly (after normalisation) when no other candidate's is. Scores are the matcher's score × 100.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pyoxigraph import NamedNode
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InvalidParameter, PayloadTooLarge
from .lookup import SPARQL_PREFIXES, entity_refs, local_id, run_for_nodes, term_matches
from .matching import Entry, Match, Matcher, text
from .records import EntityRef
from .search import Candidate, check_query, find, search_index, wanted
from .store import Store
from .vocab import FG, ID, ONTOLOGY_GRAPH, curie, expand

BATCH_SIZE = 50  # queries per batch (OpenRefine sends 10); a larger batch is a 413
MAX_LIMIT = 100
DEFAULT_LIMIT = 5
MAX_EXTEND_IDS = 500
SUGGEST_PAGE = 10
NAME_REASONS = {"label", "alternative label", "identifier"}
# The properties served by data extension and accepted as query constraints: id (CURIE) -> name.
PROPERTIES: dict[str, str] = {
    "fg:associatedWithState": "state",
    "org:headOf": "head of",
    "fg:hasHead": "head",
    "fg:party": "parties",
    "fg:partyTo": "party to",
}
DEFAULT_TYPES = ("fg:Agent", "fg:State", "fg:Institution", "fg:Person", "fg:Agreement", "fg:Event",
                 "fg:Statement", "fg:Place")

_CLASSES = f"""
SELECT ?class ?label ?broader WHERE {{
  GRAPH <{ONTOLOGY_GRAPH}> {{ ?class a owl:Class ; rdfs:label ?label
    OPTIONAL {{ ?class rdfs:subClassOf ?broader FILTER(STRSTARTS(STR(?broader), "{FG}")) }} }}
  FILTER(STRSTARTS(STR(?class), "{FG}"))
}}"""
_VALUES = "SELECT ?e ?p ?v WHERE { {values} ?e ?p ?v FILTER(isIRI(?v)) " + "VALUES ?p { " + " ".join(
    PROPERTIES) + " } }"
_TYPED_PROPERTIES = "SELECT DISTINCT ?p WHERE { {values} ?e a ?type ; ?p ?v VALUES ?p { " + " ".join(
    PROPERTIES) + " } }"


# --- query batches ------------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropertyConstraint(_Strict):
    pid: str = Field(min_length=1)
    v: Any

    @field_validator("pid")
    @classmethod
    def _known(cls, pid: str) -> str:
        return property_id(pid)


class ReconQuery(_Strict):
    query: str | None = Field(None, min_length=1)
    type: str | list[str] | None = None
    limit: int | None = Field(None, gt=0)
    properties: list[PropertyConstraint] = Field(default_factory=list)
    type_strict: Literal["should", "all", "any"] | None = None

    def types(self) -> list[str]:
        return [self.type] if isinstance(self.type, str) else list(self.type or [])


def property_id(pid: str) -> str:
    """The CURIE of a served property named by its CURIE, IRI or name; InvalidParameter for any other."""
    for known, name in PROPERTIES.items():
        if pid in (known, expand(known), name) or term_matches(expand(known), pid):
            return known
    raise InvalidParameter(f"unknown property {pid!r}; use one of {', '.join(PROPERTIES)}")


def parse_batch(batch: Any) -> dict[str, ReconQuery]:
    """A query batch (decoded JSON) as queries by key; InvalidParameter naming the key and field that is wrong."""
    if not isinstance(batch, dict) or not batch:
        raise InvalidParameter("queries must be a non-empty JSON object of queries by key")
    if len(batch) > BATCH_SIZE:
        raise PayloadTooLarge(f"{len(batch)} queries in one batch; the limit is {BATCH_SIZE}")
    parsed = {}
    for key, value in batch.items():
        try:
            query = ReconQuery.model_validate(value)
        except ValidationError as error:
            raise InvalidParameter(f"query {key!r}: {_first_error(error)}") from None
        except InvalidParameter as error:
            raise InvalidParameter(f"query {key!r}: {error}") from None
        if query.query is None and not query.properties:
            raise InvalidParameter(f"query {key!r}: give a query string, properties, or both")
        if query.query is not None:
            check_query(query.query)
        parsed[key] = query
    return parsed


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


def reconcile(store: Store, queries: dict[str, ReconQuery]) -> dict[str, dict[str, list[dict]]]:
    """Each query's candidates, best first (a reconciliation result batch)."""
    names = type_names(store)
    return {key: {"result": _candidates(store, query, names)} for key, query in queries.items()}


def _candidates(store: Store, query: ReconQuery, names: dict[str, str]) -> list[dict]:
    index = search_index(store)
    types = query.types()
    if query.query is not None:
        matches = index.matcher.match(query.query)
    else:  # properties only: every entity that satisfies them, by id
        matches = [Match(Entry(c.iri, c.label, ()), 1.0, "partial", c.label) for c in index.candidates.values()]
    matches = [m for m in matches if _typed(index.candidates[m.entry.key], types)]
    if query.properties:
        matches = _constrained(store, matches, query.properties)
    limit = min(query.limit or DEFAULT_LIMIT, MAX_LIMIT)
    exact = [m for m in matches if m.kind == "exact"]
    return [_candidate(index.candidates[m.entry.key], m, len(exact) == 1 and m is exact[0], names)
            for m in matches[:limit]]


def _typed(candidate: Candidate, types: list[str]) -> bool:
    """Of one of the types (inferred classes count); without types, anything but bookkeeping, as in search."""
    return any(wanted(candidate, t) for t in types) if types else wanted(candidate, None)


def _constrained(store: Store, matches: list[Match], constraints: list[PropertyConstraint]) -> list[Match]:
    values = property_values(store, [m.entry.key for m in matches])
    matcher = search_index(store).matcher
    return [m for m in matches if all(_satisfies(values[m.entry.key].get(c.pid, []), c.v, matcher) for c in constraints)]


def _satisfies(values: list[EntityRef], wanted: Any, matcher: Matcher) -> bool:
    """Whether any value is the wanted one: by id (`{"id": …}`, as OpenRefine sends a reconciled cell, or an id
    string) or by a text that matches the value's own name or identifier (typos allowed, linked names not)."""
    for item in wanted if isinstance(wanted, list) else [wanted]:
        if isinstance(item, dict):
            item = item.get("id") or item.get("name")
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            continue
        item = str(item)
        if any(item in (value.id, value.iri) for value in values):
            return True
        named = {m.entry.key for m in matcher.match(item) if all(r.field in NAME_REASONS for r in m.reasons)}
        if any(value.iri in named for value in values):
            return True
    return False


def _candidate(candidate: Candidate, match: Match, is_match: bool, names: dict[str, str]) -> dict:
    score = round(match.score * 100, 2)
    return {
        "id": local_id(candidate.iri) or candidate.iri,
        "name": candidate.label,
        "type": [{"id": curie(t), "name": names[curie(t)]} for t in candidate.types if curie(t) in names],
        "score": score,
        "match": is_match,
        "features": [
            {"id": "name_score", "value": score},
            {"id": f"match_{match.kind}", "value": True},
            {"id": "prominence", "value": match.entry.prominence},
        ],
        "description": "; ".join(_why(match)) or candidate.label,
    }


def _why(match: Match) -> list[str]:
    """The reasons in a line each, for the candidate's description (OpenRefine shows it)."""
    return [f"{r.query!r} {r.kind} in {r.field}" + (f" ({r.via}: {r.matched})" if r.via else f": {r.matched}")
            for r in match.reasons]


# --- data extension ------------------------------------------------------------------------------------------------


def property_values(store: Store, iris: Iterable[str]) -> dict[str, dict[str, list[EntityRef]]]:
    """The served properties' values of each node (asserted and inferred edges; a claim only reported as a plan
    or hope is not a value), as EntityRefs in label order."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in run_for_nodes(store, _VALUES, "e", iris):
        found[row["e"].value][curie(row["p"].value)].add(row["v"].value)
    refs = entity_refs(store, {v for props in found.values() for vs in props.values() for v in vs})
    result: dict[str, dict[str, list[EntityRef]]] = defaultdict(dict)
    for node, props in found.items():
        for prop, vs in props.items():
            result[node][prop] = sorted((refs[v] for v in vs), key=lambda r: ((r.label or "").casefold(), r.iri))
    return result


def parse_extension(extension: Any) -> tuple[list[str], list[str]]:
    """A data extension query (decoded JSON) as (entity ids, property CURIEs)."""
    if not isinstance(extension, dict) or not isinstance(extension.get("ids"), list) or not isinstance(
            extension.get("properties"), list):
        raise InvalidParameter('extend must be a JSON object {"ids": [...], "properties": [{"id": ...}]}')
    ids, properties = extension["ids"], extension["properties"]
    if len(ids) > MAX_EXTEND_IDS:
        raise PayloadTooLarge(f"{len(ids)} ids in one extension; the limit is {MAX_EXTEND_IDS}")
    if not all(isinstance(i, str) and i for i in ids):
        raise InvalidParameter("extend.ids must be entity ids (non-empty strings)")
    if not all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in properties):
        raise InvalidParameter('extend.properties must be objects with an "id"')
    return ids, [property_id(p["id"]) for p in properties]


def extend(store: Store, ids: list[str], properties: list[str]) -> dict:
    """The data extension response: each id's values of each property (an unknown id has none)."""
    iris = {entity: _entity_iri(entity) for entity in ids}
    values = property_values(store, [iri for iri in iris.values() if iri])
    return {
        "meta": [{"id": prop, "name": PROPERTIES[prop]} for prop in properties],
        "rows": {
            entity: {prop: [{"id": ref.id or ref.iri, "name": ref.label or ref.id or ref.iri}
                            for ref in values.get(iris[entity] or "", {}).get(prop, [])] for prop in properties}
            for entity in ids
        },
    }


def _entity_iri(entity: str) -> str | None:
    iri = entity if entity.startswith(ID) else ID + entity
    return iri if local_id(iri) else None


def propose_properties(store: Store, type_: str | None, limit: int | None) -> dict:
    """The served properties that some entity of the type has (all of them without a type)."""
    if type_:
        iri = expand(type_) if ":" in type_ else FG + type_
        _check_iri(iri)
        present = {curie(row["p"].value) for row in run_for_nodes(store, _TYPED_PROPERTIES, "type", [iri])}
    else:
        present = set(PROPERTIES)
    proposed = [{"id": prop, "name": name} for prop, name in PROPERTIES.items() if prop in present]
    answer: dict[str, Any] = {"type": type_ or "", "properties": proposed[:limit] if limit else proposed}
    if limit:
        answer["limit"] = limit
    return answer


def _check_iri(iri: str) -> None:
    try:
        NamedNode(iri)
    except ValueError:
        raise InvalidParameter(f"type {iri!r} is not an IRI, a CURIE or a class name") from None


# --- types and suggest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeInfo:
    id: str
    name: str
    broader: tuple[str, ...]


def types(store: Store) -> list[TypeInfo]:
    """The ontology's classes, with their names and direct fg: superclasses."""
    names: dict[str, str] = {}
    broader: dict[str, set[str]] = defaultdict(set)
    for row in store.query(SPARQL_PREFIXES + _CLASSES).rows:
        cls = curie(row["class"].value)
        names[cls] = row["label"].value
        if "broader" in row:
            broader[cls].add(curie(row["broader"].value))
    return [TypeInfo(cls, names[cls], tuple(sorted(broader[cls]))) for cls in sorted(names)]


def type_names(store: Store) -> dict[str, str]:
    return {info.id: info.name for info in types(store)}


def type_objects(store: Store, ids: Iterable[str]) -> list[dict]:
    known = {info.id: info for info in types(store)}
    return [_type_object(known[i], known) for i in ids if i in known]


def _type_object(info: TypeInfo, known: dict[str, TypeInfo]) -> dict:
    answer: dict[str, Any] = {"id": info.id, "name": info.name}
    if info.broader:
        answer["broader"] = [{"id": b, "name": known[b].name} for b in info.broader if b in known]
    return answer


def _page(items: list[dict], cursor: int) -> list[dict]:
    return items[cursor : cursor + SUGGEST_PAGE]


def suggest_entities(store: Store, prefix: str, cursor: int = 0, type_: str | None = None) -> dict:
    check_query(prefix)
    names = type_names(store)
    found = find(store, prefix, type_)
    return {"result": _page([
        {"id": local_id(m.entry.key) or m.entry.key, "name": m.entry.label, "description": "; ".join(_why(m)),
         "notable": [{"id": curie(t), "name": names[curie(t)]} for t in search_index(store).candidates[
             m.entry.key].types if curie(t) in names]}
        for m in found], cursor)}


def _terms(pairs: Iterable[tuple[str, str]]) -> Matcher:
    """A matcher over ontology terms: each by its name, its local name and (as an identifier) its CURIE."""
    return Matcher([Entry(term, name, (text(name, "name", "label"), text(term.partition(":")[2], "name",
                                                                          "alternative label")), (term,))
                    for term, name in pairs])


def _suggest(matcher: Matcher, prefix: str, cursor: int) -> dict:
    check_query(prefix)
    return {"result": _page([{"id": m.entry.key, "name": m.entry.label} for m in matcher.match(prefix)], cursor)}


def suggest_types(store: Store, prefix: str, cursor: int = 0) -> dict:
    return _suggest(_terms((info.id, info.name) for info in types(store)), prefix, cursor)


def suggest_properties(prefix: str, cursor: int = 0) -> dict:
    return _suggest(_terms(PROPERTIES.items()), prefix, cursor)

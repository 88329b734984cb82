"""Entity resolution for a new curation file against the store: every id it uses is known, and nothing it declares
as new is an entity the store already has under another id.

A second source that writes `spian`, or declares "Russia" again as `russian-federation`, would otherwise be
accepted silently and split one entity in two. Refusals name the file, line and problem, with the closest existing
ids or the matching entities (both through `filmgraph.matching`, the matcher search and reconciliation use); a node that only looks like an existing one says so with
`distinct_from: <id>`, one that is the same with `same_as: <id>`. Store reads bind terms (VALUES rows serialised
by pyoxigraph); user text never reaches a query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from .claims import Curation, ExternalIds, Node, defined_ids, used_ids
from .errors import ResolutionError
from .lookup import SPARQL_PREFIXES, local_id, run_for_nodes, source_id
from .matching import closest_ids, normalise
from .store import Store
from .vocab import ID, PREFIXES, REFERENCE_GRAPH, SOURCE_GRAPH_PREFIX, source_graph

_IN_SOURCE_GRAPHS = f"FILTER (STRSTARTS(STR(?graph), {Literal(SOURCE_GRAPH_PREFIX)}))"
# An id is known when a source graph types it (every declared node is typed where it is declared).
_DECLARED_IN = "SELECT DISTINCT ?entity ?graph WHERE { {values} GRAPH ?graph { ?entity a ?type } " + _IN_SOURCE_GRAPHS + " }"
_ALL_ENTITIES = (
    SPARQL_PREFIXES
    + "SELECT DISTINCT ?entity WHERE { GRAPH ?graph { ?entity skos:prefLabel ?label "
    # status reports are the build's, read from claims: no curation file names one
    + "FILTER NOT EXISTS { ?entity a fg:StatusReport } } "
    + _IN_SOURCE_GRAPHS
    + " }"
)
_NAMES = (
    SPARQL_PREFIXES
    + "SELECT ?entity ?graph ?name WHERE { GRAPH ?graph { ?entity skos:prefLabel|skos:altLabel ?name } "
    + _IN_SOURCE_GRAPHS
    + " }"
)
_IDENTIFIERS = (
    SPARQL_PREFIXES
    # identifiers live in the reference graph; the candidate's source is the graph that declares (types) it
    + f"SELECT DISTINCT ?entity ?graph ?name WHERE {{ GRAPH {NamedNode(REFERENCE_GRAPH)} {{ "
    + "?entity skos:exactMatch|fg:iso3166Alpha2|fg:iso3166Alpha3 ?name } GRAPH ?graph { ?entity a ?type } "
    + _IN_SOURCE_GRAPHS
    + " }"
)
_WIKIDATA = PREFIXES["wd"]


@dataclass(frozen=True)
class Candidate:
    """An existing entity a new node may be: its id, the name or identifier that matched, and its source."""

    id: str
    matched: str
    source: str

    def __str__(self) -> str:
        return f"{self.id} ({self.matched!r}, from {self.source})"


def check_resolution(
    curation: Curation, store: Store, external_ids: Mapping[str, ExternalIds] | None = None
) -> None:
    """Refuse the file (ResolutionError, every problem on its own line) unless each id it uses is declared in it or
    known to the store, and no node it declares matches an existing entity of another id by label, alternative
    label or external identifier (`external_ids`: the reference table, to compare a node's `reference` row)
    without `same_as`/`distinct_from` naming that entity. Re-reading a source already in the store passes: its own
    graph's entities are not candidates."""
    problems = _declared_elsewhere(curation, store) + _unknown_ids(curation, store)
    problems += _duplicates(curation, store, external_ids or {})
    if problems:
        raise ResolutionError("\n".join(problems))


def _declared_elsewhere(curation: Curation, store: Store) -> list[str]:
    """An id the file declares that another source already declares: each entity is described by one source."""
    declared = defined_ids([curation])
    own_graph = source_graph(curation.source.id)
    rows = run_for_nodes(store, _DECLARED_IN, "entity", (ID + name for name in declared))
    elsewhere = {local_id(row["entity"].value): row["graph"].value for row in rows if row["graph"].value != own_graph}
    return [
        f"{declared[name]}: id {name!r} is already declared by source {source_id(graph)}: "
        f"refer to it by id without declaring it again (or choose a new id)"
        for name, graph in sorted(elsewhere.items())
    ]


# --- (a) ids that are neither declared nor known ----------------------------------------------------------------


def _unknown_ids(curation: Curation, store: Store) -> list[str]:
    declared = set(defined_ids([curation]))
    wanted = {target for target, _, _ in used_ids(curation)} - declared
    if not wanted:
        return []
    rows = run_for_nodes(store, _DECLARED_IN, "entity", (ID + target for target in wanted))
    missing = wanted - {local_id(row["entity"].value) for row in rows}
    if not missing:
        return []
    pool = sorted(declared | _store_entities(store))
    return [
        f"{where}: unknown entity {target!r} in {role}: it is neither declared in this file nor in the store"
        + _did_you_mean(target, pool)
        for target, where, role in used_ids(curation)
        if target in missing
    ]


def _store_entities(store: Store) -> set[str]:
    rows = store.query(_ALL_ENTITIES).rows
    return {name for name in (local_id(row["entity"].value) for row in rows) if name}


def _did_you_mean(target: str, pool: list[str]) -> str:
    suggestions = closest_ids(target, pool)
    if not suggestions:
        return ""
    return " (did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?)"


# --- (b) new nodes that are existing entities -------------------------------------------------------------------


def _duplicates(curation: Curation, store: Store, external_ids: Mapping[str, ExternalIds]) -> list[str]:
    nodes = [node for node in curation.nodes if "fg:TimeExpression" not in node.types]
    if not nodes:
        return []
    own_graph = source_graph(curation.source.id)
    declared = set(defined_ids([curation]))
    names = _index(store.query(_NAMES).rows, own_graph, declared, normalise)
    identifiers = _index(store.query(_IDENTIFIERS).rows, own_graph, declared, str)
    problems = []
    for node in nodes:
        candidates = _candidates(node, names, identifiers, external_ids)
        settled = set(node.same_as) | set(node.distinct_from)
        open_candidates = [candidate for candidate in candidates if candidate.id not in settled]
        if open_candidates:
            problems.append(_duplicate_message(node, open_candidates))
    return problems


def _index(rows, own_graph: str, declared: set[str], key) -> dict[str, list[Candidate]]:
    """Existing entities by normalised name (or identifier), leaving out the file's own source and its own ids."""
    index: dict[str, list[Candidate]] = defaultdict(list)
    for row in rows:
        entity, graph = local_id(row["entity"].value), row["graph"].value
        if entity is None or entity in declared or graph == own_graph:
            continue
        value = row["name"].value
        index[key(value)].append(Candidate(entity, value, source_id(graph) or graph))
    return index


def _node_names(node: Node) -> list[str]:
    return list(dict.fromkeys(normalise(name) for name in (node.label, *node.alt_labels, node.reference or "")))


def _node_identifiers(node: Node, external_ids: Mapping[str, ExternalIds]) -> list[str]:
    ids = external_ids.get(node.reference or "")
    if ids is None:
        return []
    values = [_WIKIDATA + ids.wikidata if ids.wikidata else None, ids.iso3166_alpha2, ids.iso3166_alpha3]
    return [value for value in values if value]


def _candidates(node, names, identifiers, external_ids) -> list[Candidate]:
    found = [c for name in _node_names(node) if name for c in names.get(name, [])]
    found += [c for value in _node_identifiers(node, external_ids) for c in identifiers.get(value, [])]
    by_id: dict[str, Candidate] = {}
    for candidate in found:
        by_id.setdefault(candidate.id, candidate)
    return sorted(by_id.values(), key=lambda candidate: candidate.id)


def _duplicate_message(node: Node, candidates: list[Candidate]) -> str:
    first = candidates[0].id
    return (
        f"{node.where}: {node.id!r} ({node.label!r}) is declared as new but matches existing "
        + ", ".join(str(c) for c in candidates)
        + f": refer to the existing id instead, or write `same_as: {first}` if it is that entity, "
        + f"or `distinct_from: {first}` if it only shares the name"
    )



# --- the same indexes, for tools that match a text's words against the store (filmgraph.draft) ---------------------


def known_names(store: Store) -> dict[str, list[Candidate]]:
    """Every entity of the store's sources by normalised label and alternative label (the index ingest resolves
    new nodes against)."""
    return _index(store.query(_NAMES).rows, "", set(), normalise)


def known_identifiers(store: Store) -> dict[str, list[Candidate]]:
    """Every entity of the store's sources by external identifier (Wikidata IRI, ISO 3166 alpha-2 and alpha-3)."""
    return _index(store.query(_IDENTIFIERS).rows, "", set(), str)

"""How are two entities connected? Shortest paths by breadth-first search over neighbour queries.

The search runs in Python, one batched neighbour query per level, so its cost is bounded by `max_hops` and the
size of each frontier rather than by a generated query whose size grows with the path length. Edges are plain
triples (asserted or inferred) and relation claims (a planned or hoped-for relation still connects two parties);
provenance machinery (claims, spans, sentences, sources, attribution) and times are not walked through.
"""

from __future__ import annotations

from collections.abc import Iterator

from .entities import PROVENANCE_PREDICATES, edge_provenance, entity_node, is_provenance_node, require_entity
from .errors import InvalidParameter
from .lookup import entity_refs, labels, local_id, run_for_nodes
from .records import EntityRef, Origin, Path, PathStep, Provenance
from .vocab import INFERRED_GRAPH, PREFIXES

MAX_HOPS = 4
# Attribution is provenance too: walking it would join everything the publisher reports in two hops.
NOT_WALKED = PROVENANCE_PREDICATES | {PREFIXES["prov"] + "wasAttributedTo"}
# Times are shared by everything said to happen then: a common date is not a connection (they may still be the goal).
NOT_PASSED_THROUGH = {"time:TemporalEntity", "fg:TimeExpression"}
MAX_PATHS = 20
_ORIGIN_RANK = {"asserted": 0, "inferred": 1, "claim": 2}

_NEIGHBOURS = """
SELECT ?x ?p ?n ?dir ?g WHERE {
  {values}
  { GRAPH ?g { ?x ?p ?n } BIND("out" AS ?dir) }
  UNION { GRAPH ?g { ?n ?p ?x } BIND("in" AS ?dir) }
  UNION { ?c rdf:subject ?x ; rdf:predicate ?p ; rdf:object ?n . BIND("out" AS ?dir) }
  UNION { ?c rdf:subject ?n ; rdf:predicate ?p ; rdf:object ?x . BIND("in" AS ?dir) }
  FILTER(isIRI(?n) && isIRI(?p))
}"""

Edge = tuple[str, str, str]  # subject, predicate, object as stored


def _origin(row: dict) -> Origin:
    if "g" not in row:
        return "claim"
    return "inferred" if row["g"].value == INFERRED_GRAPH else "asserted"


def _blocked(ref: EntityRef, goal: str) -> bool:
    passes = not any(t in NOT_PASSED_THROUGH for t in ref.types)
    return is_provenance_node(ref) or (not passes and ref.iri != goal)


def _expand(store, frontier: set[str], goal: str) -> dict[str, dict[str, tuple[Edge, Origin]]]:
    """For each frontier node, its walkable neighbours with the edge that reaches them (best origin kept)."""
    found: dict[str, dict[str, tuple[Edge, Origin]]] = {}
    for row in run_for_nodes(store, _NEIGHBOURS, "x", frontier):
        here, there, prop = row["x"].value, row["n"].value, row["p"].value
        if prop in NOT_WALKED or local_id(there) is None or there == here:
            continue
        edge = (here, prop, there) if row["dir"].value == "out" else (there, prop, here)
        origin = _origin(row)
        known = found.setdefault(here, {}).get(there)
        if known is None or _ORIGIN_RANK[origin] < _ORIGIN_RANK[known[1]]:
            found[here][there] = (edge, origin)
    hidden = {iri for iri, ref in entity_refs(store, _all_neighbours(found)).items() if _blocked(ref, goal)}
    return {here: {n: e for n, e in near.items() if n not in hidden} for here, near in found.items()}


def _all_neighbours(found: dict[str, dict[str, tuple[Edge, Origin]]]) -> set[str]:
    return {there for near in found.values() for there in near}


def _search(store, start: str, goal: str, max_hops: int) -> dict[str, list[tuple[str, Edge, Origin]]]:
    """Breadth-first search; returns every shortest-path parent link of the nodes reached before the goal."""
    parents: dict[str, list[tuple[str, Edge, Origin]]] = {start: []}
    frontier = {start}
    for _ in range(max_hops):
        if goal in parents or not frontier:
            break
        level: dict[str, list[tuple[str, Edge, Origin]]] = {}
        for here, near in _expand(store, frontier, goal).items():
            for there, (edge, origin) in near.items():
                if there not in parents:
                    level.setdefault(there, []).append((here, edge, origin))
        parents.update(level)
        frontier = set(level)
    return parents


def _unwind(parents, node: str, start: str) -> Iterator[list[tuple[str, Edge, Origin]]]:
    """Every path from start to node as a list of (previous node, edge, origin), start first."""
    if node == start:
        yield []
        return
    for previous, edge, origin in sorted(parents[node], key=lambda link: link[1]):
        for head in _unwind(parents, previous, start):
            yield [*head, (previous, edge, origin)]


def _step(link: tuple[str, Edge, Origin], refs: dict[str, EntityRef], property_labels: dict[str, str],
          evidence: dict[Edge, list[Provenance]]) -> PathStep:  # fmt: skip
    previous, edge, origin = link
    subject, prop, obj = edge
    return PathStep(
        source=refs[subject],
        property=prop,
        property_label=property_labels.get(prop),
        target=refs[obj],
        walked="forward" if previous == subject else "backward",
        origin=origin,
        status=next((p.status for p in evidence[edge] if p.status), None),
        provenance=evidence[edge],
    )


def shortest_paths(store, from_id: str, to_id: str, max_hops: int = 3, max_paths: int = MAX_PATHS) -> list[Path]:
    """All shortest paths (at most `max_paths`) of at most `max_hops` edges between two entities."""
    if not 1 <= max_hops <= MAX_HOPS:
        raise InvalidParameter(f"max_hops must be between 1 and {MAX_HOPS}")
    start, goal = entity_node(from_id).value, entity_node(to_id).value
    for entity_id in (from_id, to_id):
        require_entity(store, entity_id)
    if start == goal:
        return [Path(hops=0, nodes=list(entity_refs(store, [start]).values()), steps=[])]
    parents = _search(store, start, goal, max_hops)
    if goal not in parents:
        return []
    links = [path for _, path in zip(range(max_paths), _unwind(parents, goal, start), strict=False)]
    nodes = {n for path in links for _, edge, _ in path for n in (edge[0], edge[2])}
    refs = entity_refs(store, nodes)
    property_labels = labels(store, {edge[1] for path in links for _, edge, _ in path})
    evidence = edge_provenance(store, {edge: origin for path in links for _, edge, origin in path})
    return [_path(path, start, refs, property_labels, evidence) for path in links]


def _path(links, start: str, refs: dict[str, EntityRef], property_labels: dict[str, str],
          evidence: dict[Edge, list[Provenance]]) -> Path:  # fmt: skip
    steps = [_step(link, refs, property_labels, evidence) for link in links]
    order = [start] + [step.target.iri if step.walked == "forward" else step.source.iri for step in steps]
    return Path(hops=len(steps), nodes=[refs[n] for n in order], steps=steps)

"""What one source changes in a built store, computed from the source and its neighbourhood only.

The result is what a full build with the source in would give (tests compare the exports byte for byte):
- its graph: the source's quads without the triples an earlier source (in id order) holds, as `build` does; a
  triple it newly asserts leaves a later source's graph, one it no longer asserts goes to the next source with an
  asserted claim of it;
- the reference graph (filmgraph.reference): recomputed from the rows the store's records name, the source's own
  entities' rows replaced by the file's;
- the inferred graph: the inferences of the nodes the change can affect, recomputed over their neighbourhood
  (filmgraph.neighbourhood), replace theirs;
- checks: HermiT over that neighbourhood, SHACL for the nodes whose data, inferences or neighbours' types changed.
When a change reaches further (a relabelled entity that other sources' claims name in their labels), it returns
None and the caller recomputes everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Quad, Triple

from .claims import Curation, check_terms, load_external_ids
from .errors import BuildError
from .neighbourhood import View, affected, context, endpoints, is_data_node, shape_context
from .rdfio import to_rdflib
from .reference import reference_quads, references_of, stored_references
from .reasoning import check_consistency, materialise, rules_of
from .store import Store
from .triples import PREF_LABEL, RDF_TYPE, curation_quads, quoted_labels
from .validation import validate
from .vocab import ID, ONTOLOGY_GRAPH, REFERENCE_GRAPH, SHAPES_GRAPH, SOURCE_GRAPH_PREFIX, source_graph, term

CLAIM = term("fg:Claim")
RDF_SUBJECT, RDF_PREDICATE, RDF_OBJECT = term("rdf:subject"), term("rdf:predicate"), term("rdf:object")
STATUS_OF = term("fg:statusOf")  # a status report's label quotes its agreement's label
ASSERTED = (term("fg:epistemicStatus"), term("fg:Asserted"))


@dataclass
class Change:
    removed: list[Quad]
    added: list[Quad]


def _triple(quad: Quad) -> Triple:
    return Triple(quad.subject, quad.predicate, quad.object)


def _in(graph: str, triple: Triple) -> Quad:
    return Quad(triple.subject, triple.predicate, triple.object, NamedNode(graph))


def source_change(store: Store, curation: Curation, external_ids: Path) -> Change | None:
    """The quads to remove and add so that the store holds `curation` as a full build would; None when the change
    reaches beyond the neighbourhood (then recompute everything). Raises BuildError when the source is refused."""
    ontology = list(store.quads(ONTOLOGY_GRAPH))
    check_terms(curation, {q.subject.value for q in ontology})
    graph = source_graph(curation.source.id)
    old = list(store.quads(graph)) if store.has_graph(graph) else []
    view = View(store)
    quads = curation_quads(curation, _labels(view, curation))
    _refuse_dropped_entities(view, graph, old, quads)
    if _relabels_others(view, graph, old, quads):
        return None
    replaced = _graphs_after(view, graph, old, quads)
    view = View(store, replaced)
    before = {name: (old if name == graph else list(store.quads(name))) for name in replaced}
    removed = [q for name, new in replaced.items() for q in set(before[name]) - set(new)]
    added = [q for name, new in replaced.items() for q in set(new) - set(before[name])]
    vocab, join = rules_of(ontology)
    touched = endpoints([*removed, *added])
    nodes = affected(view, touched, join)
    near = context(view, nodes, join)
    check_consistency(ontology, near)
    new_inferred = [q for q in materialise(ontology, near, vocab) if q.subject in nodes]
    old_inferred = view.inferred_about(nodes)
    gone, came = set(old_inferred) - set(new_inferred), set(new_inferred) - set(old_inferred)
    _validate(store, view, ontology, touched | endpoints([*gone, *came]), _typed([*removed, *added, *gone, *came]),
              nodes, new_inferred)
    # reference data is neither reasoned over nor validated (as in the build): it only follows the source's rows
    stored, reference = _reference_after(store, curation, old, load_external_ids(external_ids))
    removed += set(stored) - set(reference)
    added += set(reference) - set(stored)
    return Change(sorted([*removed, *gone], key=str), sorted([*added, *came], key=str))


def _reference_after(store: Store, curation: Curation, old: list[Quad], external_ids) -> tuple[list[Quad], list[Quad]]:
    """The reference graph as stored, and with the source's entities' rows as the file gives them (the other
    entities' rows as stored)."""
    current = list(store.quads(REFERENCE_GRAPH)) if store.has_graph(REFERENCE_GRAPH) else []
    mine = {node.value.removeprefix(ID) for node in _declared(old)} | {node.id for node in curation.nodes}
    kept = [ref for ref in stored_references(current) if ref.entity not in mine]
    return current, reference_quads([*kept, *references_of([curation])], external_ids)


def _labels(view: View, curation: Curation) -> dict[str, str]:
    """id -> label for the ends of the source's relation claims: its own nodes', else the entity's in the store
    (a node's skos:prefLabel where it is declared; not a relation claim's or a source's, as in the build)."""
    labels = {node.id: node.label for node in curation.nodes}
    wanted = {end for end in quoted_labels(curation) if ":" not in end}
    iris = {NamedNode(ID + local) for local in wanted - set(labels)}
    rows = view.outgoing(iris)
    claims = {q.subject for q in rows if q.predicate == RDF_TYPE and q.object == CLAIM}
    for q in rows:
        is_source = q.graph_name.value == SOURCE_GRAPH_PREFIX + q.subject.value.removeprefix(ID)
        if q.predicate == PREF_LABEL and q.subject not in claims and not is_source:
            labels[q.subject.value.removeprefix(ID)] = q.object.value
    return labels


def _declared(quads: list[Quad]) -> set[NamedNode]:
    return {q.subject for q in quads if q.predicate == PREF_LABEL and is_data_node(q.subject)}


def _refuse_dropped_entities(view: View, graph: str, old: list[Quad], new: list[Quad]) -> None:
    """An entity the source declared before and no longer does must not be used by another source."""
    dropped = _declared(old) - _declared(new)
    users = sorted({(node.value.removeprefix(ID), q.graph_name.value.removeprefix(SOURCE_GRAPH_PREFIX))
                    for q in view.incident(dropped) if q.graph_name.value != graph
                    for node in (q.subject, q.object) if node in dropped})  # fmt: skip
    if users:
        listed = "; ".join(f"{entity!r} is used by source {source}" for entity, source in users)
        raise BuildError(f"the new version no longer declares entities other sources use ({listed}): keep them")


def _relabels_others(view: View, graph: str, old: list[Quad], new: list[Quad]) -> bool:
    """Whether the source changes the label of an entity that another source's claims or status reports name
    (their labels quote the labels of their ends)."""
    before = {q.subject: q.object for q in old if q.predicate == PREF_LABEL}
    after = {q.subject: q.object for q in new if q.predicate == PREF_LABEL}
    changed = {node for node, label in before.items() if after.get(node, label) != label}
    return any(q.graph_name.value != graph and q.predicate in (RDF_SUBJECT, RDF_OBJECT, STATUS_OF)
               for q in view.incident(changed))  # fmt: skip


def _graphs_after(view: View, graph: str, old: list[Quad], quads: list[Quad]) -> dict[str, list[Quad]]:
    """The new content of the source's graph and of the other source graphs whose share of a triple changes: a
    triple lives in the graph of the first source (in id order) that asserts it."""
    held = {_triple(q): q.graph_name.value for q in view.holders(quads) if q.graph_name.value != graph}
    mine = [q for q in quads if held.get(_triple(q), graph) >= graph]
    moved_out = [_in(held[_triple(q)], _triple(q)) for q in mine if _triple(q) in held]
    asserted_now = {_triple(q) for q in quads}
    let_go = [q for q in old if _triple(q) not in asserted_now]
    moved_in = [_in(owner, t) for t, owner in _next_owners(view, graph, let_go).items()]
    result = {graph: mine}
    for name in sorted({q.graph_name.value for q in [*moved_out, *moved_in]}):
        out = {q for q in moved_out if q.graph_name.value == name}
        result[name] = [q for q in view.store.quads(name) if q not in out] + [
            q for q in moved_in if q.graph_name.value == name
        ]
    return result


def _next_owners(view: View, graph: str, let_go: list[Quad]) -> dict[Triple, str]:
    """For each triple the source stops asserting: the first other source graph with an asserted claim of it."""
    if not let_go:
        return {}
    wanted = {_triple(q) for q in let_go}
    candidates = {q.subject for q in view.incident(endpoints(let_go))
                  if q.graph_name.value != graph and q.predicate in (RDF_SUBJECT, RDF_OBJECT)}  # fmt: skip
    claims: dict[tuple[str, NamedNode], dict[object, object]] = {}
    for q in view.outgoing(candidates):
        parts = claims.setdefault((q.graph_name.value, q.subject), {})
        parts[q.predicate] = q.object
        if (q.predicate, q.object) == ASSERTED:
            parts["asserted"] = True
    owners: dict[Triple, str] = {}
    for (name, _), parts in sorted(claims.items(), key=lambda item: str(item[0])):
        if parts.get("asserted") and {RDF_SUBJECT, RDF_PREDICATE, RDF_OBJECT} <= parts.keys():
            triple = Triple(parts[RDF_SUBJECT], parts[RDF_PREDICATE], parts[RDF_OBJECT])
            if triple in wanted and name < owners.get(triple, "\uffff"):
                owners[triple] = name
    return owners


def _typed(quads: list[Quad]) -> set[NamedNode]:
    return {q.subject for q in quads if q.predicate == RDF_TYPE and is_data_node(q.subject)}


def _validate(store: Store, view: View, ontology: list[Quad], changed: set[NamedNode], retyped: set[NamedNode],
              recomputed: set[NamedNode], new_inferred: list[Quad]) -> None:  # fmt: skip
    """SHACL for the nodes whose data or inferences changed and for those that point at a node whose types
    changed (an sh:class check on them may now pass or fail)."""
    pointing = {q.subject for q in view.incident(retyped) if q.object in retyped and is_data_node(q.subject)}
    focus = changed | pointing

    def inferred(nodes: set[NamedNode]) -> list[Quad]:
        return view.inferred_about(nodes - recomputed) + [q for q in new_inferred if q.subject in nodes]

    shapes = to_rdflib(store.quads(SHAPES_GRAPH))
    validate({"data": [*ontology, *shape_context(view, focus, inferred)]}, shapes, focus)


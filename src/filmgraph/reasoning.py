"""OWL reasoning with owlready2 and its bundled HermiT: a consistency check and the inferred graph.

HermiT decides consistency and the non-obvious inferences (defined classes such as fg:Official or fg:Plan, the
fg:worksFor property chain). owlready2 then reads, per individual, every class and every object-property value the
reasoned ontology entails (super-classes, inverses, super-properties, symmetric values). The inferred graph keeps
only what is not already asserted, because the store's union default graph would otherwise count it twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import owlready2
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, serialize

from .errors import InconsistentOntology, ReasonerFailed
from .vocab import ID, INFERRED_GRAPH, PREFIXES

RDF = PREFIXES["rdf"]
RDF_TYPE = NamedNode(RDF + "type")
NAMED_INDIVIDUAL = NamedNode("http://www.w3.org/2002/07/owl#NamedIndividual")
# Reification triples use rdf: terms as properties, which OWL 2 DL reserves; the reasoner does not need them.
_NOT_FOR_REASONER = {RDF + "subject", RDF + "predicate", RDF + "object"}
_UNINFORMATIVE_TYPES = {"http://www.w3.org/2002/07/owl#Thing", "http://www.w3.org/2002/07/owl#NamedIndividual"}


def _load_world(quads: Iterable[Quad], workdir: Path) -> owlready2.World:
    """A private owlready2 world holding the given triples (never the process-wide default world)."""
    triples = [Triple(q.subject, q.predicate, q.object) for q in quads if q.predicate.value not in _NOT_FOR_REASONER]
    # owlready2 lists only declared individuals; the data graph does not repeat owl:NamedIndividual on each node.
    data_nodes = {t.subject for t in triples if t.subject.value.startswith(ID)}
    triples += [Triple(node, RDF_TYPE, NAMED_INDIVIDUAL) for node in sorted(data_nodes, key=str)]
    path = workdir / "input.nt"
    path.write_bytes(serialize(triples, format=RdfFormat.N_TRIPLES))
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load(format="ntriples")
    return world


def _individuals(world: owlready2.World) -> list[owlready2.Thing]:
    return sorted((ind for ind in world.individuals() if ind.iri.startswith(ID)), key=lambda ind: ind.iri)


def _implied_classes(world: owlready2.World) -> dict[owlready2.Thing, set[owlready2.ThingClass]]:
    """Each individual's named classes: asserted, implied by the domains and ranges of the properties it is used
    with, and their super-classes. HermiT reports no model but not why; a clash among these usually is the why."""
    implied: dict[owlready2.Thing, set[owlready2.ThingClass]] = {}

    def add(node: object, classes: Iterable[object]) -> None:
        if isinstance(node, owlready2.Thing) and node.iri.startswith(ID):
            implied.setdefault(node, set()).update(c for c in classes if isinstance(c, owlready2.ThingClass))

    for individual in _individuals(world):
        add(individual, individual.is_a)
    for prop in [*world.object_properties(), *world.data_properties()]:
        for subject, value in prop.get_relations():
            add(subject, prop.domain)
            add(value, getattr(prop, "range", []))
    return {node: {a for c in classes for a in c.ancestors() if isinstance(a, owlready2.ThingClass)}
            for node, classes in implied.items()}


def _disjointness_clashes(world: owlready2.World) -> list[str]:
    """Individuals whose asserted or implied classes include two disjoint ones, named with the classes (the usual
    cause of inconsistency)."""
    groups = [
        [c for c in disjoint.entities if isinstance(c, owlready2.ThingClass)] for disjoint in world.disjoint_classes()
    ]
    clashes = []
    for individual, ancestors in _implied_classes(world).items():
        for group in groups:
            hit = sorted(c.iri for c in group if c in ancestors)
            if len(hit) > 1:
                clashes.append(f"{individual.iri} is in disjoint classes {', '.join(hit)}")
    return sorted(set(clashes))


def _run_hermit(world: owlready2.World) -> None:
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0, ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError as error:
        clashes = _disjointness_clashes(world)
        detail = "; ".join(clashes) if clashes else "HermiT found no model (no disjoint-class clash to point at)"
        raise InconsistentOntology(f"ontology and data are inconsistent: {detail}") from error
    except (owlready2.OwlReadyJavaError, OSError) as error:
        raise ReasonerFailed(f"the OWL reasoner (HermiT, needs Java on the PATH) failed: {error}") from error
    unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if hasattr(c, "iri"))
    if unsatisfiable:
        raise InconsistentOntology(f"unsatisfiable classes (equivalent to owl:Nothing): {', '.join(unsatisfiable)}")


def _entailed(world: owlready2.World) -> set[Triple]:
    """Every type and object-property value of the data individuals that the reasoned world entails."""
    entailed: set[Triple] = set()
    properties = list(world.object_properties())
    for individual in _individuals(world):
        subject = NamedNode(individual.iri)
        for cls in individual.INDIRECT_is_a:
            if isinstance(cls, owlready2.ThingClass) and cls.iri not in _UNINFORMATIVE_TYPES:
                entailed.add(Triple(subject, RDF_TYPE, NamedNode(cls.iri)))
        for prop in properties:
            for value in prop._get_indirect_values_for_individual(individual):  # noqa: SLF001 - owlready2's API
                if isinstance(value, owlready2.Thing):
                    entailed.add(Triple(subject, NamedNode(prop.iri), NamedNode(value.iri)))
    return entailed


def infer(ontology: Iterable[Quad], asserted: Iterable[Quad]) -> list[Quad]:
    """Check consistency and return the inferred graph: entailed triples that no input graph asserts."""
    asserted = list(asserted)
    ontology = list(ontology)
    with tempfile.TemporaryDirectory(prefix="filmgraph-reasoning-") as workdir:
        world = _load_world([*ontology, *asserted], Path(workdir))
        try:
            _run_hermit(world)
            entailed = _entailed(world)
        finally:
            world.close()
    known = {Triple(q.subject, q.predicate, q.object) for q in [*ontology, *asserted]}
    graph = NamedNode(INFERRED_GRAPH)
    return sorted((Quad(t.subject, t.predicate, t.object, graph) for t in entailed - known), key=str)

"""OWL reasoning with owlready2 and its bundled HermiT: a consistency check and the inferred graph.

HermiT decides consistency and the non-obvious inferences (defined classes such as fg:Official or fg:Plan, the
fg:worksFor property chain). owlready2 then reads, per individual, every class and every object-property value the
reasoned ontology entails (super-classes, inverses, super-properties, symmetric values). The inferred graph keeps
only what is not already asserted, because the store's union default graph would otherwise count it twice.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import owlready2
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple, serialize

from .errors import BuildError, InconsistentOntology, ReasonerFailed
from .vocab import ID, INFERRED_GRAPH, PREFIXES

RDF = PREFIXES["rdf"]
RDF_TYPE = NamedNode(RDF + "type")
NAMED_INDIVIDUAL = NamedNode("http://www.w3.org/2002/07/owl#NamedIndividual")
_DATATYPE_PROPERTY = NamedNode("http://www.w3.org/2002/07/owl#DatatypeProperty")
# Reification triples use rdf: terms as properties, which OWL 2 DL reserves; the reasoner does not need them.
_NOT_FOR_REASONER = {RDF + "subject", RDF + "predicate", RDF + "object"}
_UNINFORMATIVE_TYPES = {"http://www.w3.org/2002/07/owl#Thing", "http://www.w3.org/2002/07/owl#NamedIndividual"}


def _write_input(quads: Iterable[Quad], workdir: Path) -> Path:
    """The reasoner's input as an N-Triples file, with the declarations owlready2 and HermiT need."""
    triples = [Triple(q.subject, q.predicate, q.object) for q in quads if q.predicate.value not in _NOT_FOR_REASONER]
    # owlready2 lists only declared individuals; the data graph does not repeat owl:NamedIndividual on each node.
    data_nodes = {t.subject for t in triples if t.subject.value.startswith(ID)}
    triples += [Triple(node, RDF_TYPE, NAMED_INDIVIDUAL) for node in sorted(data_nodes, key=str)]
    path = workdir / "input.nt"
    path.write_bytes(serialize(triples, format=RdfFormat.N_TRIPLES))
    return path


def _load_world(quads: Iterable[Quad], workdir: Path) -> owlready2.World:
    """A private owlready2 world holding the given triples (never the process-wide default world)."""
    world = owlready2.World()
    world.get_ontology(_write_input(quads, workdir).as_uri()).load(format="ntriples")
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


def _run_hermit(world: owlready2.World, infer_property_values: bool = True) -> None:
    try:
        owlready2.sync_reasoner_hermit(
            world, infer_property_values=infer_property_values, debug=0, ignore_unsupported_datatypes=True
        )
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


def check_consistency(ontology: Iterable[Quad], asserted: Iterable[Quad]) -> None:
    """HermiT decides whether the ontology and these triples have a model (InconsistentOntology naming the
    disjoint-class clash if not). HermiT's own consistency check (`-k`) is run directly: owlready2's call also
    classifies and realises every individual, four times the work; only a refusal goes through owlready2, for the
    clash it can name."""
    ontology = list(ontology)
    datatype_properties = {q.subject for q in ontology if q.object == _DATATYPE_PROPERTY and q.predicate == RDF_TYPE}
    # Annotations (labels, quotes, the source text) cannot make a graph inconsistent, and HermiT pays for each.
    relevant = [q for q in asserted if not isinstance(q.object, Literal) or q.predicate in datatype_properties]
    with tempfile.TemporaryDirectory(prefix="filmgraph-consistency-") as workdir:
        path = _write_input([*ontology, *relevant], Path(workdir))
        if _hermit_says_consistent(path):
            return
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load(format="ntriples")
        try:
            _run_hermit(world, infer_property_values=False)
        finally:
            world.close()
    raise InconsistentOntology("ontology and data are inconsistent: HermiT found no model")


def _hermit_says_consistent(path: Path) -> bool:
    from owlready2.reasoning import _HERMIT_CLASSPATH  # noqa: PLC0415 - where owlready2 keeps HermiT

    command = [owlready2.JAVA_EXE, f"-Xmx{owlready2.reasoning.JAVA_MEMORY}M", "-cp", _HERMIT_CLASSPATH,
               "org.semanticweb.HermiT.cli.CommandLine", "-k", "--ignoreUnsupportedDatatypes", path.as_uri()]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed command
    except OSError as error:
        raise ReasonerFailed(f"the OWL reasoner (HermiT, needs Java on the PATH) failed: {error}") from error
    if "InconsistentOntologyException" in done.stderr:
        return False
    if done.returncode != 0 and "satisfiable" not in done.stdout:
        raise ReasonerFailed(f"the OWL reasoner (HermiT) failed: {done.stderr.strip()[-500:]}")
    return "owl#Thing is satisfiable" in done.stdout


# --- materialised inferences: OWL 2 RL (reasonable), linear in the graph ------------------------------------------
OWL = "http://www.w3.org/2002/07/owl#"
_RDF_FIRST, _RDF_REST, _RDF_NIL = RDF + "first", RDF + "rest", RDF + "nil"


@dataclass(frozen=True)
class Vocabulary:
    """What the inferred graph keeps, read once from the ontology: named classes, object properties, and the
    property chains (reasonable 0.4 derives no owl:propertyChainAxiom, so chains are applied here)."""

    classes: frozenset[str]
    object_properties: frozenset[str]
    chains: tuple[tuple[str, str, str], ...]  # (property, first link, second link)


def vocabulary(ontology: Iterable[Quad]) -> Vocabulary:
    triples = [(q.subject, q.predicate.value, q.object) for q in ontology]
    typed = {(s.value, o.value) for s, p, o in triples if p == RDF_TYPE.value}
    first = {s: o for s, p, o in triples if p == _RDF_FIRST}
    rest = {s: o for s, p, o in triples if p == _RDF_REST}

    def members(node: object) -> list[str]:
        out = []
        while node in first:
            out.append(first[node].value)
            node = rest.get(node)
        return out

    chains = []
    for s, p, o in triples:
        links = members(o) if p == OWL + "propertyChainAxiom" else []
        if len(links) != 2:
            if links:
                raise BuildError(f"{s.value}: property chains of length {len(links)} are not supported (only 2)")
            continue
        chains.append((s.value, links[0], links[1]))
    return Vocabulary(
        classes=frozenset(s for s, o in typed if o == OWL + "Class" and "://" in s) - _UNINFORMATIVE_TYPES,
        object_properties=frozenset(s for s, o in typed if o == OWL + "ObjectProperty"),
        chains=tuple(sorted(chains)),
    )


def _chained(closure: set[tuple[str, str, str]], chains: tuple[tuple[str, str, str], ...]) -> set[tuple[str, str, str]]:
    """The triples the chains derive from `closure` that it lacks."""
    by_subject: dict[tuple[str, str], list[str]] = {}
    for s, p, o in closure:
        by_subject.setdefault((s, p), []).append(o)
    new = set()
    for s, p, o in closure:
        for prop, link1, link2 in chains:
            if p == link1:
                new.update((s, prop, z) for z in by_subject.get((o, link2), ()))
    return new - closure


def materialise(ontology: Iterable[Quad], asserted: Iterable[Quad], vocab: Vocabulary | None = None) -> list[Quad]:
    """The inferred graph by OWL 2 RL rules (reasonable, in Rust): each data individual's named classes and its
    object-property values that no input asserts, as HermiT's `infer` gives them on this ontology (README,
    "Reasoning"). Monotone and local, so the inferences of a node computed over a neighbourhood that holds its
    derivations equal those computed over the whole graph: what incremental ingest relies on."""
    import reasonable  # noqa: PLC0415
    import rdflib  # noqa: PLC0415

    ontology = list(ontology)
    vocab = vocab or vocabulary(ontology)
    inputs = [q for q in [*ontology, *asserted] if q.predicate.value not in _NOT_FOR_REASONER]
    known = {(q.subject.value, q.predicate.value, q.object.value) for q in [*ontology, *asserted]}
    graph = rdflib.Graph()
    for quad in inputs:
        graph.add(tuple(_to_rdflib(term) for term in (quad.subject, quad.predicate, quad.object)))
    reasoner = reasonable.PyReasoner()
    reasoner.from_graph(graph)
    while True:
        closure = {(str(s), str(p), str(o)) for s, p, o in reasoner.reason() if not isinstance(o, rdflib.Literal)}
        derived = _chained(closure, vocab.chains)
        if not derived:
            break
        reasoner.from_graph([tuple(rdflib.URIRef(term) for term in triple) for triple in sorted(derived)])
    name = NamedNode(INFERRED_GRAPH)
    kept = [
        (s, p, o)
        for s, p, o in closure
        if s.startswith(ID)
        and ((p == RDF_TYPE.value and o in vocab.classes) or (p in vocab.object_properties and "://" in o))
        and (s, p, o) not in known
    ]
    return sorted((Quad(NamedNode(s), NamedNode(p), NamedNode(o), name) for s, p, o in kept), key=str)


def _to_rdflib(term: NamedNode | BlankNode | Literal) -> object:
    import rdflib  # noqa: PLC0415

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def join_properties(ontology: list[Quad], vocab: Vocabulary) -> frozenset[str]:
    """The properties whose edges can carry a node's inferences over to its neighbour: those a property chain or
    a restriction (other than owl:hasValue) is built on, and every property whose edge entails one of them in
    either direction (sub-properties, inverses), found by reasoning over one probe edge per property."""
    triples = [(q.subject, q.predicate.value, q.object) for q in ontology]
    has_value = {s for s, p, _ in triples if p == OWL + "hasValue"}
    join = {o.value for s, p, o in triples if p == OWL + "onProperty" and s not in has_value}
    join |= {link for _, first, second in vocab.chains for link in (first, second)}
    join.add(OWL + "sameAs")  # an entity's inferences follow from its equals' edges too (`same_as` in a curation)
    probes = sorted(vocab.object_properties)
    edges = [Quad(NamedNode(f"{ID}probe-{i}-a"), NamedNode(p), NamedNode(f"{ID}probe-{i}-b")) for i, p in
             enumerate(probes)]
    derived = materialise(ontology, edges, vocab)
    carriers = set(join)
    for quad in derived:
        if quad.predicate.value in join and quad.subject.value.startswith(ID + "probe-"):
            index = int(quad.subject.value.removeprefix(ID + "probe-").split("-")[0])
            if quad.object.value.startswith(f"{ID}probe-{index}-"):
                carriers.add(probes[index])
    return frozenset(carriers)


_RULES: dict[frozenset[Quad], tuple[Vocabulary, frozenset[str]]] = {}


def rules_of(ontology: list[Quad]) -> tuple[Vocabulary, frozenset[str]]:
    """The vocabulary and join properties of an ontology, computed once per process for each ontology (a server
    ingesting many sources pays the probe reasoning once)."""
    key = frozenset(ontology)
    if key not in _RULES:
        vocab = vocabulary(ontology)
        _RULES.clear()
        _RULES[key] = (vocab, join_properties(ontology, vocab))
    return _RULES[key]

"""Why the reasoner inferred an edge: its asserted premises, reconstructed from the ontology's property rules.

The inferred graph stores conclusions only (reasonable gives no derivations, and storing one per triple would
double the graph). An inferred object-property value follows from the rules the materialisation applies —
sub-properties, inverses, symmetric properties and two-link chains (filmgraph.reasoning) — and an inferred type
from sub-classes, domains, ranges and the defined classes (`fg:Official`, `fg:Plan`, …), so a short backward
search over the stored edges around the two ends finds the asserted triples it rests on: an academy's
`fg:foundingTime` from its establishment's `fg:establishes` (read backwards as `fg:establishedThrough`) and
`fg:atTime`. The search reads each node's edges once, in batches, and stops at the first derivation found.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from .lookup import RDF_TYPE, SPARQL_PREFIXES, is_inferred_graph, run_for_nodes
from .store import Store
from .store.derived import PerVersion
from .vocab import ONTOLOGY_GRAPH, curie

Edge = tuple[str, str, str]
MAX_DEPTH = 4  # a chain whose links are inverses of sub-properties is three steps deep; the ontology has no longer

_RULES = SPARQL_PREFIXES + f"""
SELECT ?kind ?p ?q ?r WHERE {{ GRAPH {NamedNode(ONTOLOGY_GRAPH)} {{
  {{ ?q rdfs:subPropertyOf ?p BIND("sub" AS ?kind) }}
  UNION {{ ?q owl:equivalentProperty ?p BIND("sub" AS ?kind) }}
  UNION {{ ?p owl:equivalentProperty ?q BIND("sub" AS ?kind) }}
  UNION {{ ?p owl:inverseOf ?q BIND("inverse" AS ?kind) }}
  UNION {{ ?q owl:inverseOf ?p BIND("inverse" AS ?kind) }}
  UNION {{ ?p a owl:SymmetricProperty BIND(?p AS ?q) BIND("symmetric" AS ?kind) }}
  UNION {{ ?p owl:propertyChainAxiom ?links . ?links rdf:first ?q ; rdf:rest/rdf:first ?r BIND("chain" AS ?kind) }}
  FILTER (isIRI(?p) && isIRI(?q))
}} }}"""

_EDGES = """
SELECT ?s ?p ?o ?g WHERE {
  {values}
  GRAPH ?g { { ?n ?p ?o BIND(?n AS ?s) } UNION { ?s ?p ?n BIND(?n AS ?o) } }
  FILTER (isIRI(?s) && isIRI(?o))
}"""


_CLASS_RULES = SPARQL_PREFIXES + f"""
SELECT ?kind ?c ?d ?p ?value ?innerProperty ?innerValue ?someClass WHERE {{ GRAPH {NamedNode(ONTOLOGY_GRAPH)} {{
  {{ ?d rdfs:subClassOf ?c BIND("subclass" AS ?kind) }}
  UNION {{ ?p rdfs:domain ?c BIND("domain" AS ?kind) }}
  UNION {{ ?p rdfs:range ?c BIND("range" AS ?kind) }}
  UNION {{ ?c owl:equivalentClass/owl:intersectionOf/rdf:rest*/rdf:first ?d BIND("defined-class" AS ?kind) }}
  UNION {{ ?c owl:equivalentClass/owl:intersectionOf/rdf:rest*/rdf:first ?restriction .
          ?restriction owl:onProperty ?p OPTIONAL {{ ?restriction owl:hasValue ?value }}
          OPTIONAL {{ ?restriction owl:someValuesFrom ?someClass FILTER (isIRI(?someClass)) }}
          OPTIONAL {{ ?restriction owl:someValuesFrom ?inner .
                     ?inner owl:onProperty ?innerProperty ; owl:hasValue ?innerValue }}
          BIND("defined-property" AS ?kind) }}
}} }}"""  # ?c and ?d are kept only when IRIs, in Python: Virtuoso 7.2 fails to compile those FILTERs (SP031)


@dataclass(frozen=True)
class Rule:
    """One way to conclude a property value (keyed by the property) or a type (keyed by the class)."""

    kind: str  # sub | inverse | symmetric | chain | subclass | domain | range | defined
    conclusion: str
    parts: tuple[str, ...]  # the premise property or class; a chain's two links; a defined class's conditions

    def describe(self) -> str:
        c, first = curie(self.conclusion), curie(self.parts[0]) if self.parts else ""
        if self.kind == "chain":
            return f"{c} is the chain {first} ∘ {curie(self.parts[1])}"
        if self.kind == "defined":
            return f"{c} is defined as {' and '.join(_condition(part) for part in self.parts)}"
        return {"sub": f"{first} is a sub-property of {c}", "inverse": f"{c} is the inverse of {first}",
                "symmetric": f"{c} is symmetric", "subclass": f"{first} is a subclass of {c}",
                "domain": f"the domain of {first} is {c}", "range": f"the range of {first} is {c}"}[self.kind]


def _split(part: str) -> list[str]:
    """A condition's terms: class; property, value; or property, `*`, inner property, inner value."""
    return [*part.split(" "), "", ""][: max(2, len(part.split(" ")))]


def _condition(part: str) -> str:
    """A defined class's condition as text: `fg:Person`, `org:holds some fg:Post`, `fg:epistemicStatus =
    fg:Planned`, `fg:hasStatusReport some (fg:reportedStatus = fg:StatusPostponed)`."""
    prop, value, *inner = _split(part)
    if not value:
        return curie(prop)
    if value != "*":
        return f"{curie(prop)} = {curie(value)}"
    if not inner or not inner[0]:
        return f"{curie(prop)} some thing"
    if inner[0] == RDF_TYPE:
        return f"{curie(prop)} some {curie(inner[1])}"
    return f"{curie(prop)} some ({curie(inner[0])} = {curie(inner[1])})"


@dataclass
class Derivation:
    """The asserted triples (with the graphs holding them) an inferred edge or type follows from, and the rules."""

    premises: dict[Edge, list[str]] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)


_RULES_OF: PerVersion[dict[str, list[Rule]]] = PerVersion()


def property_rules(store: Store) -> dict[str, list[Rule]]:
    """The ontology's rules, by the property or class they conclude; read once per store and ontology (its size
    tells a rebuilt ontology apart: a card should not pay two ontology queries)."""
    return _RULES_OF.get(store, lambda: _read_rules(store), version=store.count(ONTOLOGY_GRAPH))


def _read_rules(store: Store) -> dict[str, list[Rule]]:
    rules: dict[str, list[Rule]] = defaultdict(list)
    for row in store.query(_RULES).rows:
        parts = (row["q"].value, row["r"].value) if row.get("r") is not None else (row["q"].value,)
        rules[row["p"].value].append(Rule(row["kind"].value, row["p"].value, parts))
    defined: dict[str, list[str]] = defaultdict(list)
    for row in store.query(_CLASS_RULES).rows:
        if not isinstance(row["c"], NamedNode) or not isinstance(row.get("d", row["c"]), NamedNode):
            continue
        kind, cls = row["kind"].value, row["c"].value
        if kind == "defined-class":
            defined[cls].append(row["d"].value)
        elif kind == "defined-property":
            defined[cls].append(_part(row))
        else:
            rules[cls].append(Rule(kind, cls, (row["d" if kind == "subclass" else "p"].value,)))
    for cls, parts in defined.items():
        rules[cls].append(Rule("defined", cls, tuple(sorted(set(parts)))))
    return {key: sorted(found, key=lambda rule: _PREFERENCE.index(rule.kind)) for key, found in rules.items()}


# The plainest explanation first: a sub-class or sub-property before what a domain or range implies.
_PREFERENCE = ("sub", "subclass", "inverse", "symmetric", "chain", "defined", "domain", "range")


def _part(row: dict) -> str:
    """One condition of a defined class, as `property value [inner-property inner-value]` (value `*`: some)."""
    value = row.get("value")
    if value is not None:
        return f"{row['p'].value} {value.value}"
    if row.get("innerProperty") is not None:
        return f"{row['p'].value} * {row['innerProperty'].value} {row['innerValue'].value}"
    if row.get("someClass") is not None:
        return f"{row['p'].value} * {RDF_TYPE} {row['someClass'].value}"
    return f"{row['p'].value} *"


class _Edges:
    """The stored edges around the nodes asked about, read once per node; asserted ones with their graphs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.loaded: set[str] = set()
        self.holds: set[Edge] = set()
        self.asserted: dict[Edge, set[str]] = defaultdict(set)
        self.out: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.into: dict[tuple[str, str], set[str]] = defaultdict(set)

    def load(self, nodes: set[str]) -> None:
        wanted = nodes - self.loaded
        if not wanted:
            return
        self.loaded |= wanted
        for row in run_for_nodes(self.store, _EDGES, "n", wanted):
            edge = (row["s"].value, row["p"].value, row["o"].value)
            self.holds.add(edge)
            self.out[(edge[0], edge[1])].add(edge[2])
            self.into[(edge[2], edge[1])].add(edge[0])
            if not is_inferred_graph(row["g"]):
                self.asserted[edge].add(row["g"].value)


def _explain(edge: Edge, rules: dict[str, list[Rule]], edges: _Edges, depth: int, seen: frozenset[Edge]) -> Derivation | None:
    s, p, o = edge
    if s not in edges.loaded and (p == RDF_TYPE or o not in edges.loaded):
        edges.load({s})  # an edge is incident to both its ends: either end's edges show it
    if edge in edges.asserted:
        return Derivation({edge: sorted(edges.asserted[edge])})
    if depth == 0 or edge in seen:
        return None
    seen = seen | {edge}
    for rule in rules.get(o if p == RDF_TYPE else p, []):
        for steps in _premises(rule, edge, edges):
            found = [_explain(step, rules, edges, depth - 1, seen) for step in steps]
            if all(found):
                derivation = Derivation(rules=[rule.describe()])
                for part in found:
                    derivation.premises.update(part.premises)  # type: ignore[union-attr]
                    derivation.rules += [r for r in part.rules if r not in derivation.rules]  # type: ignore[union-attr]
                return derivation
    return None


def _premises(rule: Rule, edge: Edge, edges: _Edges) -> list[list[Edge]]:
    """The stored edges that, by `rule`, give `edge` (each candidate a list of premises)."""
    s, _, o = edge
    first = rule.parts[0] if rule.parts else ""
    if rule.kind == "sub":
        return [[(s, first, o)]] if (s, first, o) in edges.holds else []
    if rule.kind in ("inverse", "symmetric"):
        return [[(o, first, s)]] if (o, first, s) in edges.holds else []
    if rule.kind == "subclass":
        return [[(s, RDF_TYPE, first)]] if (s, RDF_TYPE, first) in edges.holds else []
    if rule.kind == "domain":
        return [[(s, first, x)] for x in sorted(edges.out.get((s, first), ()))]
    if rule.kind == "range":
        return [[(x, first, s)] for x in sorted(edges.into.get((s, first), ()))]
    if rule.kind == "defined":
        steps = [_condition_edges(s, part, edges) for part in rule.parts]
        return [[edge for step in steps for edge in step]] if all(steps) else []  # type: ignore[union-attr]
    middles = sorted(edges.out.get((s, first), ()))
    edges.load(set(middles))
    return [[(s, first, x), (x, rule.parts[1], o)] for x in middles if (x, rule.parts[1], o) in edges.holds]


def _condition_edges(node: str, part: str, edges: _Edges) -> list[Edge] | None:
    """The stored edges that meet one condition of a defined class: its type, a value, or some value (that
    meets the inner condition: the status report that is the postponed one, the post that is an fg:Post)."""
    prop, value, *inner = _split(part)
    if not value:
        return [(node, RDF_TYPE, prop)] if (node, RDF_TYPE, prop) in edges.holds else None
    targets = sorted(edges.out.get((node, prop), ()))
    if value != "*":
        targets = [target for target in targets if target == value]
    inner = [term for term in inner if term]
    if inner:
        edges.load(set(targets))
        targets = [target for target in targets if (target, inner[0], inner[1]) in edges.holds]
        return [(node, prop, targets[0]), (targets[0], inner[0], inner[1])] if targets else None
    return [(node, prop, targets[0])] if targets else None


def derivations(store: Store, inferred: list[Edge]) -> dict[Edge, Derivation]:
    """The derivation of each inferred edge or type (`(node, rdf:type, class)`) that the rules explain; one the
    rules do not explain is left out (the caller still says it is inferred)."""
    if not inferred:
        return {}
    rules = property_rules(store)
    edges = _Edges(store)
    shared = set.intersection(*({edge[0], edge[2]} for edge in inferred))  # a card's edges share its entity
    edges.load(shared or {end for edge in inferred for end in (edge[0], edge[2])})
    found = {edge: _explain(edge, rules, edges, MAX_DEPTH, frozenset()) for edge in inferred}
    return {edge: derivation for edge, derivation in found.items() if derivation is not None}

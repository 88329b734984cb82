"""Entity lookups over a `Store`: the entity card and its relations, each with the evidence behind it.

A relation is an edge `S P O` seen from one entity. It comes from a plain triple (asserted in a source graph or
inferred) or only from a relation claim (`fg:Claim` with rdf:subject/predicate/object) whose status is not
fg:Asserted, which never yields a plain triple (docs/model.md). Its evidence is the matching claim's, or the claim
of the node that states the edge in the graph holding it (an agreement's parties, an event's agreement, a post its
holder points at; for an inferred inverse, the asserted edge's), never the other end's nor another graph's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from .errors import InvalidParameter, NotFound
from .lookup import (
    RDF_TYPE,
    SPARQL_PREFIXES,
    entity_refs,
    has_status,
    is_inferred_graph,
    is_known,
    labels,
    provenance,
    require_status,
    run_for_nodes,
    term_matches,
)
from . import lookup
from .derivations import derivations
from .records import (
    Attribute,
    Derivation,
    EntityCard,
    EntityRef,
    Identifier,
    LabelValue,
    Origin,
    Premise,
    PropertyGroup,
    Provenance,
    Relation,
    TypeAssertion,
)
from .store import Store
from .store.base import Term
from .vocab import ID, PREFIXES, curie

_P = PREFIXES
ENTITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$")

LABEL_KINDS = {_P["skos"] + "prefLabel": "pref", _P["skos"] + "altLabel": "alt", _P["rdfs"] + "label": "label"}
DESCRIPTION_PROPERTIES = (_P["skos"] + "definition", _P["dcterms"] + "description", _P["rdfs"] + "comment")
IDENTIFIER_PROPERTIES = {
    _P["skos"] + "exactMatch",
    _P["owl"] + "sameAs",
    _P["fg"] + "iso3166Alpha2",
    _P["fg"] + "iso3166Alpha3",
}
# Edges that record how a claim is made rather than what it says: shown as provenance, never as relations.
PROVENANCE_PREDICATES = {
    RDF_TYPE,
    _P["rdf"] + "subject",
    _P["rdf"] + "predicate",
    _P["rdf"] + "object",
    _P["fg"] + "evidence",
    _P["fg"] + "epistemicStatus",
    _P["fg"] + "inSentence",
    _P["prov"] + "wasDerivedFrom",
    _P["fg"] + "mentionedAt",
    _P["nif"] + "referenceContext",
}
# Nodes that are provenance machinery (claims, spans, sentences, source texts), not things a reader looks up.
PROVENANCE_TYPES = lookup.PROVENANCE_TYPES | {"nif:Context"}

Edge = tuple[str, str, str]


def entity_node(entity_id: str) -> NamedNode:
    """The IRI of an entity from its local name; rejects anything that is not a flat local name."""
    if not ENTITY_ID.match(entity_id):
        raise InvalidParameter(f"not an entity id (letters, digits, '-', '.', '_', '~'): {entity_id!r}")
    return NamedNode(ID + entity_id)


def is_provenance_node(ref: EntityRef) -> bool:
    return any(t in PROVENANCE_TYPES for t in ref.types)


_OUT = "SELECT ?e ?p ?o ?g WHERE { GRAPH ?g { ?e ?p ?o } }"
_IN = "SELECT ?e ?s ?p ?g WHERE { GRAPH ?g { ?s ?p ?e } FILTER(isIRI(?s)) }"
_CLAIMS = """
SELECT DISTINCT ?e ?claim ?s ?p ?o WHERE {
  { ?claim rdf:subject ?e } UNION { ?claim rdf:object ?e }
  ?claim rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  FILTER(isIRI(?s) && isIRI(?o))
}"""


def _statements(store: Store, node: NamedNode) -> tuple[list[dict], list[dict]]:
    bindings = {"e": node}
    return store.query(_OUT, bindings=bindings).rows, store.query(_IN, bindings=bindings).rows


def _found(node: NamedNode, out_rows: list[dict], in_rows: list[dict]) -> list[tuple[Edge, Term]]:
    """Each plain triple between IRIs around the node, with the graph that holds it."""
    me = node.value
    found = [((me, r["p"].value, r["o"].value), r["g"]) for r in out_rows if isinstance(r["o"], NamedNode)]
    return found + [((r["s"].value, r["p"].value, me), r["g"]) for r in in_rows]


def _edges(found: list[tuple[Edge, Term]]) -> dict[Edge, Origin]:
    """The origin of each edge; a triple asserted anywhere counts as asserted."""
    edges: dict[Edge, Origin] = {}
    for edge, graph in found:
        origin: Origin = "inferred" if is_inferred_graph(graph) else "asserted"
        if edges.get(edge) != "asserted":
            edges[edge] = origin
    return edges


def _asserted_in(found: list[tuple[Edge, Term]]) -> dict[Edge, set[str]]:
    """The graphs (sources, users' graphs) that assert each edge."""
    graphs: dict[Edge, set[str]] = defaultdict(set)
    for edge, graph in found:
        if not is_inferred_graph(graph):
            graphs[edge].add(graph.value)
    return graphs


def _claims(store: Store, node: NamedNode) -> dict[Edge, list[str]]:
    claims: dict[Edge, list[str]] = defaultdict(list)
    for row in store.query(SPARQL_PREFIXES + _CLAIMS, bindings={"e": node}).rows:
        claims[(row["s"].value, row["p"].value, row["o"].value)].append(row["claim"].value)
    return claims


_STATED_CLAIMS = """
# xsd:boolean(...): Virtuoso answers a bare boolean as an integer, a cast one as a boolean (store/remote_engines)
SELECT ?node ?g ?claim ?own WHERE {
  {values}
  GRAPH ?g {
    { ?node fg:epistemicStatus ?status . BIND(?node AS ?claim) BIND(xsd:boolean(true) AS ?own) }
    UNION { ?node prov:wasDerivedFrom ?claim . ?claim fg:epistemicStatus ?derived . BIND(xsd:boolean(false) AS ?own) }
  }
}"""

Stated = dict[tuple[str, str], list[str]]  # (node, graph) → claims


def _stated_claims(store: Store, nodes: Iterable[str]) -> tuple[Stated, Stated]:
    """Per node and graph: the node's own claim there, and the claims of that graph it is derived from."""
    own: dict[tuple[str, str], set[str]] = defaultdict(set)
    derived: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in run_for_nodes(store, _STATED_CLAIMS, "node", nodes):
        key = (row["node"].value, row["g"].value)
        (own if row["own"].value == "true" else derived)[key].add(row["claim"].value)
    return {k: sorted(v) for k, v in own.items()}, {k: sorted(v) for k, v in derived.items()}


def _statements_of(edge: Edge, origin: Origin, asserted_in: dict[Edge, set[str]]) -> list[tuple[Edge, str]]:
    """The asserted triples (with their graph) the edge stands for: itself when asserted, else the asserted
    triples between the same two nodes it is inferred from (the event's fg:concernsAgreement for fg:hasEvent)."""
    if origin == "asserted":
        return [(edge, graph) for graph in sorted(asserted_in[edge])]
    pair = {edge[0], edge[2]}
    return sorted((e, graph) for e, graphs in asserted_in.items() if {e[0], e[2]} == pair for graph in graphs)


def _stating_claims(statement: tuple[Edge, str], own: Stated, derived: Stated) -> list[str]:
    """The claim that supports one asserted triple, of the graph holding it: its subject's own claim; else, for a
    triple pointing at a claim node, the claim the subject is derived from (a status report's event) or that
    node's own claim (a post its holder points at). Never the other end's claim made in another graph."""
    (subject, _, target), graph = statement
    if (subject, graph) in own:
        return own[(subject, graph)]
    if any(node == target for node, _ in own):
        return derived.get((subject, graph)) or own.get((target, graph), [])
    return []


def _edge_provenance(
    edge: Edge,
    origin: Origin,
    claims: dict[Edge, list[str]],
    carriers: dict[str, Provenance],
    support: tuple[dict[Edge, set[str]], Stated, Stated],
) -> list[Provenance]:
    """The matching relation claims' provenance (of a graph asserting the edge); else the claim that states the
    edge in its own graph (see `_stating_claims`); else, for an inferred edge (an inverse, a super-property), the
    relation claims between the same two nodes it follows from."""
    asserted_in, own, derived = support
    if edge in claims:
        graphs = asserted_in.get(edge, set()) if origin == "asserted" else None
        found = [c for c in claims[edge] if graphs is None or any((c, g) in own for g in graphs)]
        if found or graphs is None:
            return [carriers[c] for c in sorted(found) if c in carriers]
    statements = _statements_of(edge, origin, asserted_in)
    stated = sorted({c for statement in statements for c in _stating_claims(statement, own, derived)})
    if stated or origin != "inferred":
        return [carriers[c] for c in stated if c in carriers and carriers[c].status is not None]
    pair = {edge[0], edge[2]}
    found = sorted({c for (s, _, o), cs in claims.items() if {s, o} == pair for c in cs})
    return [carriers[c] for c in found if c in carriers and carriers[c].status == "fg:Asserted"]


def _other(edge: Edge, me: str) -> str:
    """The end of the edge that is not the entity being looked at."""
    return edge[2] if edge[0] == me else edge[0]


def _relation(edge: Edge, me: str, origin: Origin, refs, property_labels, evidence,
              derivation: Derivation | None = None) -> Relation:
    if derivation is not None and not evidence:
        evidence = list({p.claim: p for premise in derivation.premises for p in premise.provenance}.values())
    return Relation(
        derivation=derivation,
        property=edge[1],
        property_label=property_labels.get(edge[1]),
        direction="out" if edge[0] == me else "in",
        other=refs[_other(edge, me)],
        origin=origin,
        status=next((p.status for p in evidence if p.status), None),
        provenance=evidence,
    )


def _content_edges(edges: dict[Edge, Origin], claims: dict[Edge, list[str]]) -> dict[Edge, Origin]:
    """Plain triples plus claimed-only relations, without provenance plumbing and identifier links."""
    merged = {**{edge: "claim" for edge in claims}, **edges}
    hidden = PROVENANCE_PREDICATES | IDENTIFIER_PROPERTIES
    return {edge: origin for edge, origin in merged.items() if edge[1] not in hidden}  # type: ignore[misc]


def _evidence_of(
    store: Store, edges: dict[Edge, Origin], claims: dict[Edge, list[str]], found: list[tuple[Edge, Term]]
) -> dict[Edge, list[Provenance]]:
    """The provenance of each edge (see `_edge_provenance`), from the relation claims and the stored triples
    (with their graphs) around its ends."""
    claim_nodes = {claim for claimed in claims.values() for claim in claimed}
    asserted_in = _asserted_in(found)
    ends = {end for edge in asserted_in for end in (edge[0], edge[2])}
    own, derived = _stated_claims(store, claim_nodes | ends)
    carriers = provenance(store, claim_nodes | {c for made in [*own.values(), *derived.values()] for c in made})
    support = (asserted_in, own, derived)
    return {edge: _edge_provenance(edge, origin, claims, carriers, support) for edge, origin in edges.items()}


def edge_provenance(store: Store, edges: dict[Edge, Origin]) -> dict[Edge, list[Provenance]]:
    """The provenance of edges anywhere in the graph (a path's steps), worked out as an entity card does from
    what is stored around each edge's subject."""
    claims: dict[Edge, list[str]] = defaultdict(list)
    found: list[tuple[Edge, Term]] = []
    for subject in sorted({edge[0] for edge in edges}):
        node = NamedNode(subject)
        found += _found(node, *_statements(store, node))
        for edge, made in _claims(store, node).items():
            claims[edge] = sorted({*claims[edge], *made})
    return _evidence_of(store, edges, dict(claims), found)


def _collect_relations(store: Store, node: NamedNode, out_rows: list[dict], in_rows: list[dict],
                       inferred_types: Iterable[str] = (), own: list[Provenance] | None = None,
                       ) -> tuple[list[Relation], dict[Edge, Derivation]]:
    """The entity's relations, and the derivations of its inferred relations and of `inferred_types` (one pass)."""
    me = node.value
    claims = _claims(store, node)
    found = _found(node, out_rows, in_rows)
    edges = _content_edges(_edges(found), claims)
    refs = entity_refs(store, {_other(edge, me) for edge in edges} | {me})
    edges = {edge: origin for edge, origin in edges.items() if not is_provenance_node(refs[_other(edge, me)])}
    evidence = _evidence_of(store, edges, claims, found)
    property_labels = labels(store, {edge[1] for edge in edges})
    inferred = [edge for edge, origin in edges.items() if origin == "inferred"]
    inferred += [(me, RDF_TYPE, cls) for cls in inferred_types]
    known = {**evidence, **{(me, RDF_TYPE, cls): own or [] for cls in _asserted_types(found, me)}}
    derived = _derivations(store, inferred, known)
    relations = [_relation(edge, me, origin, refs, property_labels, evidence[edge], derived.get(edge))
                 for edge, origin in edges.items()]  # fmt: skip
    return sorted(relations, key=relation_order), derived


def _asserted_types(found: list[tuple[Edge, Term]], me: str) -> set[str]:
    return {edge[2] for edge, graph in found if edge[0] == me and edge[1] == RDF_TYPE and not is_inferred_graph(graph)}


def _derivations(store: Store, inferred: list[Edge], known: dict[Edge, list[Provenance]]) -> dict[Edge, Derivation]:
    """Each inferred edge's or type's rules and premises (filmgraph.derivations), the premises with their claims'
    provenance as the card gives it for an asserted edge: `known` for the card's own edges (an asserted type's is
    the node's own claim), worked out for the others (a chain's second link)."""
    found = derivations(store, inferred)
    premises = {premise for derivation in found.values() for premise in derivation.premises}
    if not premises:
        return {}
    evidence = {**edge_provenance(store, {p: "asserted" for p in premises - known.keys()}), **known}
    refs = entity_refs(store, {end for premise in premises for end in (premise[0], premise[2])})
    property_labels = labels(store, {premise[1] for premise in premises})
    return {
        edge: Derivation(rules=derivation.rules, premises=[
            Premise(subject=refs[s], property=p, property_label=property_labels.get(p), object=refs[o],
                    graphs=graphs, provenance=evidence.get((s, p, o), []))
            for (s, p, o), graphs in derivation.premises.items()
        ])
        for edge, derivation in found.items()
    }


def relation_order(relation: Relation) -> tuple[str, ...]:
    """Relations (and so a card's property groups) by direction, property label, other end's label; the IRIs
    break ties (two properties labelled "about"), so that the order never depends on the store's row order."""
    other = relation.other
    return (relation.direction, relation.property_label or relation.property, relation.property,
            other.label or other.iri, other.iri)  # fmt: skip


def _keep(relation: Relation, direction: str | None, prop: str | None, status: str | None) -> bool:
    return (
        (direction in (None, "both") or relation.direction == direction)
        and (prop is None or term_matches(relation.property, prop))
        and (status is None or has_status(relation.provenance, status))
    )


def require_entity(store: Store, entity_id: str) -> NamedNode:
    """The entity's IRI, or NotFound when the graph has no triple about it."""
    node = entity_node(entity_id)
    if not is_known(store, node):
        raise NotFound(f"no entity {entity_id!r} in the graph")
    return node


def _require(out_rows: list[dict], in_rows: list[dict], entity_id: str) -> None:
    if not out_rows and not in_rows:
        raise NotFound(f"no entity {entity_id!r} in the graph")


def entity_relations(
    store: Store,
    entity_id: str,
    direction: str | None = None,
    prop: str | None = None,
    status: str | None = None,
) -> list[Relation]:
    """Every relation in and out of an entity, optionally filtered by direction, property and status.

    `prop` and `status` accept a full IRI, a CURIE (`org:postIn`, `fg:Planned`) or a bare local name.
    """
    if direction not in (None, "both", "in", "out"):
        raise InvalidParameter(f"direction must be in, out or both, not {direction!r}")
    if status is not None:
        require_status(store, status)
    node = entity_node(entity_id)
    out_rows, in_rows = _statements(store, node)
    _require(out_rows, in_rows, entity_id)
    return [r for r in _collect_relations(store, node, out_rows, in_rows)[0] if _keep(r, direction, prop, status)]


def group_relations(relations: Iterable[Relation]) -> list[PropertyGroup]:
    """Relations grouped by (direction, property), in the order given."""
    groups: dict[tuple[str, str], PropertyGroup] = {}
    for relation in relations:
        key = (relation.direction, relation.property)
        if key not in groups:
            groups[key] = PropertyGroup(
                property=relation.property,
                property_label=relation.property_label,
                direction=relation.direction,
                relations=[],
            )
        groups[key].relations.append(relation)
    return list(groups.values())


def _types(store: Store, out_rows: list[dict]) -> list[TypeAssertion]:
    inferred: dict[str, bool] = {}
    for row in out_rows:
        if row["p"].value == RDF_TYPE and isinstance(row["o"], NamedNode):
            iri = row["o"].value
            inferred[iri] = inferred.get(iri, True) and is_inferred_graph(row["g"])
    class_labels = labels(store, inferred)
    return [
        TypeAssertion(iri=iri, curie=curie(iri), label=class_labels.get(iri), inferred=flag)
        for iri, flag in sorted(inferred.items(), key=lambda item: (item[1], curie(item[0])))
    ]


def _literals(out_rows: list[dict]) -> list[tuple[str, Literal]]:
    return sorted(
        {(r["p"].value, r["o"]) for r in out_rows if isinstance(r["o"], Literal)},
        key=lambda pair: (pair[0], pair[1].value, pair[1].language or "", pair[1].datatype.value),
    )


def _attribute(store_labels: dict[str, str], prop: str, value: Literal) -> Attribute:
    return Attribute(
        property=curie(prop),
        property_label=store_labels.get(prop),
        value=value.value,
        datatype=curie(value.datatype.value) if value.datatype and not value.language else None,
        lang=value.language,
    )


LABEL_PREFERENCE = ("pref", "label", "alt")


def _add_label(found: list[LabelValue], value: Literal, kind: str) -> None:
    """One entry per text and language: the same name as prefLabel and rdfs:label is one label of both kinds."""
    for label in found:
        if (label.value, label.lang) == (value.value, value.language):
            label.kinds = sorted({*label.kinds, kind}, key=LABEL_PREFERENCE.index)  # type: ignore[arg-type]
            label.kind = label.kinds[0]
            return
    found.append(LabelValue(value=value.value, lang=value.language, kind=kind, kinds=[kind]))  # type: ignore[arg-type]


_IDENTIFIER_RECORDS = """
SELECT ?e ?record ?p ?o ?row ?tablePath ?authority WHERE {
  ?record a fg:IdentifierRecord ; fg:identifies ?e ; rdf:predicate ?p ; rdf:object ?o .
  OPTIONAL { ?record fg:referenceRow ?row }
  OPTIONAL { ?record prov:wasDerivedFrom/dcterms:identifier ?tablePath }
  OPTIONAL { ?record prov:hadPrimarySource ?authority }
}"""


def _identifier_origins(store: Store, card: EntityCard) -> None:
    """Say where each identifier comes from: its record in the reference graph (table, row, issuing authority)."""
    rows = store.query(SPARQL_PREFIXES + _IDENTIFIER_RECORDS, bindings={"e": NamedNode(card.iri)}).rows
    if not rows:
        return
    authorities = entity_refs(store, {row["authority"].value for row in rows if row.get("authority")})
    records = {(curie(row["p"].value), row["o"].value): row for row in rows}
    for identifier in card.identifiers:
        row = records.get((identifier.property, identifier.value))
        if row is None:
            continue
        identifier.record = row["record"].value
        identifier.row = row["row"].value if row.get("row") else None
        identifier.table = row["tablePath"].value if row.get("tablePath") else None
        identifier.issued_by = authorities.get(row["authority"].value) if row.get("authority") else None


def _describe_literals(store: Store, card: EntityCard, out_rows: list[dict]) -> None:
    """Fill labels, description, identifiers and other literal attributes from the entity's own triples."""
    literals = _literals(out_rows)
    graphs = {(r["p"].value, r["o"].value): r["g"].value for r in out_rows if r["p"].value in IDENTIFIER_PROPERTIES}
    property_labels = labels(store, {p for p, _ in literals})
    for prop, value in literals:
        if prop in LABEL_KINDS:
            _add_label(card.labels, value, LABEL_KINDS[prop])
        elif prop in DESCRIPTION_PROPERTIES and card.description is None:
            card.description = value.value
        elif prop in IDENTIFIER_PROPERTIES:
            card.identifiers.append(Identifier(property=curie(prop), value=value.value, graph=graphs[(prop, value.value)]))
        else:
            card.attributes.append(_attribute(property_labels, prop, value))
    for row in out_rows:
        if row["p"].value in IDENTIFIER_PROPERTIES and isinstance(row["o"], NamedNode):
            card.identifiers.append(Identifier(property=curie(row["p"].value), value=row["o"].value,
                                              graph=row["g"].value))
    card.identifiers.sort(key=lambda identifier: (identifier.property, identifier.value))
    _identifier_origins(store, card)


def entity_card(store: Store, entity_id: str) -> EntityCard:
    """Everything about one entity: types (asserted/inferred), labels, identifiers, relations with evidence."""
    node = entity_node(entity_id)
    out_rows, in_rows = _statements(store, node)
    _require(out_rows, in_rows, entity_id)
    card = EntityCard(iri=node.value, id=entity_id, label=labels(store, [node.value]).get(node.value))
    card.types = _types(store, out_rows)
    _describe_literals(store, card, out_rows)
    own = provenance(store, [node.value]).get(node.value)
    card.provenance = [own] if own else []
    inferred_types = [t.iri for t in card.types if t.inferred]
    relations, derived = _collect_relations(store, node, out_rows, in_rows, inferred_types, card.provenance)
    card.relations = group_relations(relations)
    for assertion in card.types:
        assertion.derivation = derived.get((node.value, RDF_TYPE, assertion.iri))
    card.mentions = lookup.mentions(store, node.value)
    return card

"""Batched reads every lookup needs: labels and types of many nodes, and the provenance of claim nodes.

The entity card, paths, domain views and pages all show nodes with their labels and claims with their evidence;
doing that here in a few batched queries keeps them consistent and keeps round trips low on a remote backend.
Node sets are sent as `VALUES` rows whose terms pyoxigraph serialises; user text is never spliced into a query.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode

from .errors import InvalidParameter
from .records import EntityRef, Evidence, Provenance, TimeRef
from .store import Store
from .store.base import Term
from .vocab import ID, INFERRED_GRAPH, PREFIXES, SOURCE_GRAPH_PREFIX, curie, expand

SPARQL_PREFIXES = "".join(f"PREFIX {prefix}: <{iri}>\n" for prefix, iri in PREFIXES.items())
RDF_TYPE = PREFIXES["rdf"] + "type"
LABEL_PREFERENCE = ("pref", "label")
_MAX_VALUES = 500  # rows per VALUES block; keeps each query small on remote engines


_KNOWN = "SELECT ?node WHERE { { ?node ?p ?o } UNION { ?s ?p ?node } } LIMIT 1"
_ONTOLOGY_TERMS = "SELECT DISTINCT ?term WHERE { ?term a ?kind FILTER(STRSTARTS(STR(?term), STR(fg:))) }"


def is_known(store: Store, node: NamedNode) -> bool:
    """Whether the graph has any triple about the node (as subject or object)."""
    return bool(store.query(_KNOWN, bindings={"node": node}).rows)


def resolve_term(store: Store | None, value: str) -> NamedNode:
    """The IRI a user means by a full IRI, a CURIE under a known prefix (`fg:Sceptical`, `fgid:russia`) or a bare
    local name: an entity's (`russia`) when the graph has it, else an ontology term's, case aside (`sceptical`,
    `Planned`), as `term_matches` reads names; an unknown bare name (or any, without a store to look in) is taken
    as an entity's. ValueError when the text cannot be an IRI."""
    value = value.strip()
    if ":" in value:
        iri = expand(value)
        if "://" not in iri and not iri.startswith("urn:"):
            raise ValueError("expected a full IRI, a CURIE such as fgid:russia, or a local name such as russia")
        return NamedNode(iri)
    entity = NamedNode(ID + value)
    if store is None or is_known(store, entity):
        return entity
    rows = store.query(SPARQL_PREFIXES + _ONTOLOGY_TERMS).rows
    return next((row["term"] for row in rows if term_matches(row["term"].value, value)), entity)


def local_id(iri: str) -> str | None:
    """The flat local name of a data individual (`russia` for fgid:russia), or None for other IRIs."""
    if iri.startswith(ID):
        local = iri[len(ID) :]
        if local and "/" not in local and "#" not in local:
            return local
    return None


def source_id(graph_or_source: str) -> str | None:
    """The source id of a source graph IRI or of a source's own IRI."""
    if graph_or_source.startswith(SOURCE_GRAPH_PREFIX):
        return graph_or_source[len(SOURCE_GRAPH_PREFIX) :]
    return local_id(graph_or_source)


def is_inferred_graph(graph: Term | None) -> bool:
    return isinstance(graph, NamedNode) and graph.value == INFERRED_GRAPH


def values_block(variable: str, terms: Iterable[Term]) -> str:
    """A `VALUES ?var { … }` block; each term is serialised by pyoxigraph, which validated it on creation."""
    return f"VALUES ?{variable} {{ {' '.join(str(term) for term in terms)} }}"


def _chunks(iris: Iterable[str]) -> Iterable[list[NamedNode]]:
    unique = sorted(set(iris))
    for start in range(0, len(unique), _MAX_VALUES):
        yield [NamedNode(iri) for iri in unique[start : start + _MAX_VALUES]]


def run_for_nodes(store: Store, template: str, variable: str, iris: Iterable[str]) -> list[dict[str, Term]]:
    """Run `template` (with a `{values}` slot) once per chunk of nodes and concatenate the rows."""
    rows: list[dict[str, Term]] = []
    for chunk in _chunks(iris):
        sparql = SPARQL_PREFIXES + template.replace("{values}", values_block(variable, chunk))
        rows.extend(store.query(sparql).rows)
    return rows


def literal_text(term: Term | None) -> str | None:
    return term.value if isinstance(term, (Literal, NamedNode)) else None


def literal_int(term: Term | None) -> int | None:
    try:
        return int(term.value) if isinstance(term, Literal) else None
    except ValueError:
        return None


_LABELS = """
SELECT ?node ?kind ?label WHERE {
  {values}
  { ?node skos:prefLabel ?label . BIND("pref" AS ?kind) }
  UNION { ?node rdfs:label ?label . BIND("label" AS ?kind) }
}"""


def _rank(kind: str, label: Literal) -> tuple[int, int]:
    language = label.language or ""
    return (LABEL_PREFERENCE.index(kind), 0 if language.startswith("en") else 1 if not language else 2)


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The best display label of each node: English skos:prefLabel, then rdfs:label, then any language."""
    best: dict[str, tuple[tuple[int, int], str]] = {}
    for row in run_for_nodes(store, _LABELS, "node", iris):
        node, kind, label = row["node"].value, row["kind"].value, row["label"]
        rank = (_rank(kind, label), label.value)
        if node not in best or rank < best[node]:
            best[node] = rank
    return {node: value for node, (_, value) in best.items()}


_TYPES = """
SELECT DISTINCT ?node ?type WHERE { {values} ?node a ?type . FILTER(isIRI(?type)) }"""


def types(store: Store, iris: Iterable[str]) -> dict[str, list[str]]:
    """The classes (asserted and inferred) of each node, as IRIs."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in run_for_nodes(store, _TYPES, "node", iris):
        found[row["node"].value].add(row["type"].value)
    return {node: sorted(classes) for node, classes in found.items()}


def entity_refs(store: Store, iris: Iterable[str]) -> dict[str, EntityRef]:
    """EntityRefs (IRI, id, label, types) for many nodes in two queries."""
    wanted = sorted(set(iris))
    found_labels, found_types = labels(store, wanted), types(store, wanted)
    return {
        iri: EntityRef(
            iri=iri,
            id=local_id(iri),
            label=found_labels.get(iri),
            types=[curie(t) for t in found_types.get(iri, [])],
        )
        for iri in wanted
    }


_PROVENANCE = """
SELECT ?node ?status ?by WHERE {
  {values}
  { ?node fg:epistemicStatus ?status } UNION { ?node prov:wasAttributedTo ?by }
}"""

_SPANS = """
SELECT ?node ?span ?source ?quote ?begin ?end ?sentence ?sentenceText WHERE {
  {values}
  ?node {via} ?span .
  ?span nif:anchorOf ?quote ; nif:beginIndex ?begin ; nif:endIndex ?end .
  OPTIONAL { ?span nif:referenceContext ?source }
  OPTIONAL { ?span fg:inSentence ?sentence . OPTIONAL { ?sentence nif:anchorOf ?sentenceText } }
}"""


def _evidence(row: dict[str, Term]) -> Evidence:
    source = literal_text(row.get("source"))
    return Evidence(
        span=row["span"].value,
        source=source,
        source_id=source_id(source) if source else None,
        quote=row["quote"].value,
        begin=literal_int(row["begin"]) or 0,
        end=literal_int(row["end"]) or 0,
        sentence=literal_text(row.get("sentence")),
        sentence_text=literal_text(row.get("sentenceText")),
    )


def _spans(store: Store, nodes: Iterable[str], via: str) -> dict[str, dict[str, Evidence]]:
    """The spans each node points at through `via` (a constant property CURIE), by span IRI."""
    spans: dict[str, dict[str, Evidence]] = defaultdict(dict)
    for row in run_for_nodes(store, _SPANS.replace("{via}", via), "node", nodes):
        spans[row["node"].value].setdefault(row["span"].value, _evidence(row))
    return spans


def _in_text_order(spans: Iterable[Evidence]) -> list[Evidence]:
    return sorted(spans, key=lambda evidence: (evidence.begin, evidence.end, evidence.span))


def mentions(store: Store, node: str) -> list[Evidence]:
    """Where the sources name or describe a node (fg:mentionedAt spans), in text order."""
    return _in_text_order(_spans(store, [node], "fg:mentionedAt").get(node, {}).values())


def provenance(store: Store, nodes: Iterable[str]) -> dict[str, Provenance]:
    """Status, attribution and evidence spans of each node that carries any (claims and n-ary nodes)."""
    nodes = sorted(set(nodes))
    status: dict[str, str] = {}
    attributed: dict[str, set[str]] = defaultdict(set)
    for row in run_for_nodes(store, _PROVENANCE, "node", nodes):
        node = row["node"].value
        if "status" in row:
            status[node] = row["status"].value
        if "by" in row and isinstance(row["by"], NamedNode):
            attributed[node].add(row["by"].value)
    spans = _spans(store, nodes, "fg:evidence")
    carriers = set(status) | set(attributed) | set(spans)
    refs = entity_refs(store, set(status.values()) | {by for people in attributed.values() for by in people})
    return {
        node: Provenance(
            claim=node,
            status=curie(status[node]) if node in status else None,
            status_label=refs[status[node]].label if node in status else None,
            attributed_to=[refs[by] for by in sorted(attributed[node])],
            evidence=_in_text_order(spans.get(node, {}).values()),
        )
        for node in sorted(carriers)
    }


_TIMES = """
SELECT ?t ?asWorded ?precision ?notBefore ?notAfter WHERE {
  {values}
  OPTIONAL { ?t fg:asWorded ?asWorded }
  OPTIONAL { ?t fg:precision ?precision }
  OPTIONAL { ?t fg:notBefore ?notBefore }
  OPTIONAL { ?t fg:notAfter ?notAfter }
}"""


def times(store: Store, iris: Iterable[str]) -> dict[str, TimeRef]:
    """Time expressions (OWL-Time nodes) with their wording, precision and date bounds."""
    found: dict[str, TimeRef] = {}
    for row in run_for_nodes(store, _TIMES, "t", iris):
        precision = literal_text(row.get("precision"))
        found[row["t"].value] = TimeRef(
            iri=row["t"].value,
            as_worded=literal_text(row.get("asWorded")),
            precision=curie(precision) if precision else None,
            not_before=literal_text(row.get("notBefore")),
            not_after=literal_text(row.get("notAfter")),
        )
    return found


def term_matches(iri: str, wanted: str) -> bool:
    """Whether a user's name for a term (full IRI, CURIE or bare local name) names `iri`."""
    local = re.split(r"[#/]", iri)[-1]
    return wanted in (iri, curie(iri)) or wanted.casefold() == local.casefold()


def require_status(store: Store, status: str, also: Iterable[str] = ()) -> None:
    """Refuse (422) a status filter that names neither one of `also` nor an epistemic status of the graph, so that
    a typo ("Hopped") is not answered with an empty list, which reads as "nothing of that status"."""
    known = [row["s"].value for row in store.query(SPARQL_PREFIXES + "SELECT ?s WHERE { ?s a fg:EpistemicStatus }").rows]
    if status.casefold() not in also and not any(term_matches(iri, status) for iri in known):
        valid = ", ".join([*also, *sorted(curie(iri) for iri in known)])
        raise InvalidParameter(f"unknown status {status!r}; use one of {valid}")


def has_status(claims: Iterable[Provenance], status: str) -> bool:
    """Whether any of the claims has the epistemic status the user named (IRI, CURIE or local name)."""
    return any(claim.status and term_matches(expand(claim.status), status) for claim in claims)


# Provenance machinery (relation claims, evidence spans, sentences): nodes that record where a fact comes from,
# not things a reader looks up. Entity views and search both leave them aside.
PROVENANCE_TYPES = frozenset({
    "fg:Claim",
    "rdf:Statement",
    "fg:EvidenceSpan",
    "fg:Sentence",
    "nif:String",
    "nif:OffsetBasedString",
    "nif:Sentence",
    "fg:ReferenceTable",
    "fg:IdentifierRecord",
    "fg:IdentifierAuthority",
})

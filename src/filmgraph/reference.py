"""Reference data -> the reference graph: external identifiers are the curators' table's, not a source's words.

A source graph holds only what its source says. The verified Wikidata and ISO 3166 identifiers of
`data/reference/external-ids.tsv` go into `graph/reference` instead, each with a record of where it comes from: the
table (and its row) it was read from and the authority that issues it (Wikidata, ISO 3166-1). Which entity a row
identifies is still said by the curation file that declares the entity (`reference: <row>`), so the graph is
computed from the curations' references; ingest recomputes it from the rows the store already names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Quad

from .claims import Curation, ExternalIds, Location
from .errors import BuildError
from .vocab import ID, PREFIXES, REFERENCE_GRAPH, entity_iri, term

TABLE_PATH = "data/reference/external-ids.tsv"
TABLE = entity_iri("external-ids")
_P = PREFIXES
_RDF_TYPE = NamedNode(_P["rdf"] + "type")
_RDFS_LABEL = NamedNode(_P["rdfs"] + "label")
_PREF_LABEL = NamedNode(_P["skos"] + "prefLabel")
_DEFINITION = NamedNode(_P["skos"] + "definition")
IDENTIFIES = NamedNode(_P["fg"] + "identifies")
REFERENCE_ROW = NamedNode(_P["fg"] + "referenceRow")
ISSUED_BY = NamedNode(_P["prov"] + "hadPrimarySource")
_DERIVED_FROM = NamedNode(_P["prov"] + "wasDerivedFrom")
_IDENTIFIER = NamedNode(_P["dcterms"] + "identifier")
_URL = NamedNode(_P["schema"] + "url")


@dataclass(frozen=True)
class Authority:
    """Who issues one kind of identifier."""

    node: NamedNode
    label: str
    url: str


WIKIDATA = Authority(entity_iri("wikidata"), "Wikidata", "https://www.wikidata.org/")
ISO_3166 = Authority(entity_iri("iso-3166-1"), "ISO 3166-1", "https://www.iso.org/iso-3166-country-codes.html")


@dataclass(frozen=True)
class Reference:
    """An entity and the row of the table that identifies it (`reference:` in its curation file)."""

    entity: str
    row: str
    where: Location | None = None


def references_of(curations: Iterable[Curation]) -> list[Reference]:
    return [Reference(node.id, node.reference, node.where) for c in curations for node in c.nodes if node.reference]


def _identifiers(ids: ExternalIds) -> list[tuple[str, str, NamedNode | Literal, Authority]]:
    """(record suffix, property, value, authority) of each identifier a row holds."""
    found: list[tuple[str, str, NamedNode | Literal, Authority]] = []
    if ids.wikidata:
        found.append(("wikidata", "skos:exactMatch", NamedNode(_P["wd"] + ids.wikidata), WIKIDATA))
    if ids.iso3166_alpha2:
        found.append(("iso3166-alpha2", "fg:iso3166Alpha2", Literal(ids.iso3166_alpha2), ISO_3166))
    if ids.iso3166_alpha3:
        found.append(("iso3166-alpha3", "fg:iso3166Alpha3", Literal(ids.iso3166_alpha3), ISO_3166))
    return found


def reference_quads(references: Iterable[Reference], external_ids: Mapping[str, ExternalIds]) -> list[Quad]:
    """The reference graph: the table, the authorities, and per identifier the plain triple (what queries and
    cards read) and its record (rdf:Statement: which entity, which row, which table, which authority)."""
    graph = NamedNode(REFERENCE_GRAPH)
    triples: list[tuple[NamedNode, NamedNode, NamedNode | Literal]] = []
    used: dict[str, Authority] = {}
    for reference in sorted(references, key=lambda ref: ref.entity):
        ids = external_ids.get(reference.row)
        if ids is None:
            where = f"{reference.where}: " if reference.where else ""
            raise BuildError(f"{where}reference {reference.row!r} is not a row of the external identifiers table")
        entity = entity_iri(reference.entity)
        for suffix, prop, value, authority in _identifiers(ids):
            record = entity_iri(f"external-id-{reference.entity}-{suffix}")
            used[authority.label] = authority
            triples += [
                (entity, term(prop), value),
                (record, _RDF_TYPE, term("fg:IdentifierRecord")),
                (record, _RDF_TYPE, term("rdf:Statement")),
                (record, _RDFS_LABEL, Literal(f"{prop} {value.value} of {reference.row}", language="en")),
                (record, term("rdf:subject"), entity),
                (record, term("rdf:predicate"), term(prop)),
                (record, term("rdf:object"), value),
                (record, IDENTIFIES, entity),
                (record, REFERENCE_ROW, Literal(reference.row)),
                (record, _DERIVED_FROM, TABLE),
                (record, ISSUED_BY, authority.node),
            ]
    triples += _table()
    for authority in used.values():
        triples += [(authority.node, _RDF_TYPE, term("fg:IdentifierAuthority")), (authority.node, _URL, NamedNode(authority.url)),
                    *((authority.node, p, Literal(authority.label, language="en")) for p in (_PREF_LABEL, _RDFS_LABEL))]
    return [Quad(s, p, o, graph) for s, p, o in dict.fromkeys(triples)]


def _table() -> list[tuple[NamedNode, NamedNode, NamedNode | Literal]]:
    label = Literal("verified external identifiers", language="en")
    definition = ("The curators' table of checked Wikidata item ids and ISO 3166-1 codes, the only source of the "
                  "graph's external identifiers; an identifier that was not verified is left out.")
    return [
        (TABLE, _RDF_TYPE, term("fg:ReferenceTable")),
        (TABLE, _PREF_LABEL, label),
        (TABLE, _RDFS_LABEL, label),
        (TABLE, _DEFINITION, Literal(definition, language="en")),
        (TABLE, _IDENTIFIER, Literal(TABLE_PATH)),
    ]


def stored_references(quads: Iterable[Quad]) -> list[Reference]:
    """The (entity, row) pairs a stored reference graph was computed from (its records' fg:referenceRow)."""
    entity: dict[NamedNode, str] = {}
    row: dict[NamedNode, str] = {}
    for quad in quads:
        if quad.predicate == IDENTIFIES and quad.object.value.startswith(ID):
            entity[quad.subject] = quad.object.value.removeprefix(ID)
        elif quad.predicate == REFERENCE_ROW:
            row[quad.subject] = quad.object.value
    return sorted({Reference(entity[r], row[r]) for r in entity if r in row}, key=lambda ref: ref.entity)

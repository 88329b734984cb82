"""The project's IRIs: namespaces, named graphs and prefixes, in one place at the bottom of the data flow.

Every other module takes IRIs from here so that the ontology, the build, the API and the exports agree.
"""

from __future__ import annotations

from pyoxigraph import NamedNode

BASE = "https://w3id.org/filmgraph/"
ONTOLOGY = BASE + "ontology"
FG = ONTOLOGY + "#"  # ontology terms
ID = BASE + "id/"  # data individuals (entities, claims, spans, sources)
GRAPH = BASE + "graph/"  # named graphs

ONTOLOGY_GRAPH = GRAPH + "ontology"
SHAPES_GRAPH = GRAPH + "shapes"
INFERRED_GRAPH = GRAPH + "inferred"
SOURCE_GRAPH_PREFIX = GRAPH + "source/"
REFERENCE_GRAPH = GRAPH + "reference"  # reserved for reference data the build will own (filmgraph.ownership)
LOADED_GRAPH_PREFIX = GRAPH + "load/"  # `filmgraph load FILE` puts a file into load/<file stem>

# Prefixes used by Turtle exports, SPARQL examples and the service description.
PREFIXES: dict[str, str] = {
    "fg": FG,
    "fgid": ID,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "schema": "https://schema.org/",
    "time": "http://www.w3.org/2006/time#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "sh": "http://www.w3.org/ns/shacl#",
    "wd": "http://www.wikidata.org/entity/",
}


def source_graph(source_id: str) -> str:
    """The named graph that holds everything drawn from one source."""
    return SOURCE_GRAPH_PREFIX + source_id


def entity_iri(local_name: str) -> NamedNode:
    """The IRI of a data individual from its local name (flat, no slash)."""
    return NamedNode(ID + local_name)


def fg(term: str) -> NamedNode:
    """An ontology term."""
    return NamedNode(FG + term)


# Longest namespace first, so a CURIE names the most specific prefix if namespaces ever nest.
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))


def curie(iri: str) -> str:
    """`fg:State` for an IRI under a known prefix, else the IRI itself (for readable JSON, tables and messages).

    Only a flat local name (no `/` or `#`, not empty) is compacted, so every CURIE expands back to its IRI."""
    for prefix, namespace in _BY_LENGTH:
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and local and "/" not in local and "#" not in local:
            return f"{prefix}:{local}"
    return iri


def expand(value: str) -> str:
    """The IRI of a CURIE under a known prefix (`fg:Planned`), else the value unchanged (an IRI, a plain id)."""
    prefix, _, local = value.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else value


def term(value: str) -> NamedNode:
    """The node of a CURIE under a known prefix (`rdf:type`), or of a full IRI."""
    return NamedNode(expand(value))

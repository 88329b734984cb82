"""Dataset releases researchers can cite: a directory of files that describe and verify themselves.

A release holds the ontology, the data in Turtle (merged) and N-Quads (named graphs, so the provenance of every
triple's source is kept), the JSON-LD context, a VoID + DCAT description built with rdflib, pyLODE documentation of
the ontology, a CITATION.cff and a SHA256SUMS file that `sha256sum -c` verifies. The same description is served at
`/.well-known/void` (`describe_dataset`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import yaml
from pyoxigraph import NamedNode, RdfFormat, parse
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, XSD

from . import __version__
from .errors import BadRequest
from .export import CONTEXT_FILE, Progress, prepare_export, write_sorted_turtle
from .formats import HTML
from .ontology_docs import ontology_docs_html
from .public_url import public_base_url
from .settings import Settings
from .store import Store
from .vocab import BASE, FG, ID, ONTOLOGY, ONTOLOGY_GRAPH, PREFIXES, curie

VOID = Namespace("http://rdfs.org/ns/void#")
DESCRIPTION_PREFIXES = {**PREFIXES, "void": str(VOID), "dcat": str(DCAT)}  # Turtle prefixes and JSON-LD context
DATASET = URIRef(BASE + "dataset")
DCAT_VERSION = URIRef(str(DCAT) + "version")  # DCAT 3; rdflib's closed DCAT namespace predates it
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SPDX_LICENSES = {  # CITATION.cff wants SPDX identifiers
    "https://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0",
    "http://creativecommons.org/licenses/by/4.0/": "CC-BY-4.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
    "http://creativecommons.org/publicdomain/zero/1.0/": "CC0-1.0",
    "https://opensource.org/licenses/MIT": "MIT",
}
TITLE = "filmgraph: a knowledge graph of film diplomacy"
DESCRIPTION = (
    "Who (states, institutions, officials) agreed, planned, postponed or said what about international film "
    "co-production, each claim with its epistemic status, attribution and the exact sentence of the source that "
    "supports it. Asserted triples are in one named graph per source; reasoner inferences in their own graph."
)
EXAMPLE_RESOURCES = 5
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True)
class Distribution:
    """One downloadable file of the dataset."""

    url: str
    media_type: str
    title: str
    byte_size: int | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """What a citation and a catalogue need to know about this version of the dataset."""

    version: str
    created: date
    sparql_endpoint: str
    license: str = DEFAULT_LICENSE
    title: str = TITLE
    description: str = DESCRIPTION
    distributions: tuple[Distribution, ...] = field(default_factory=tuple)


def release_date() -> date:
    """Today, or SOURCE_DATE_EPOCH's day, so a release can be rebuilt byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return moment.date()


def ontology_license(store: Store) -> str:
    """The licence the ontology declares (`dcterms:license`), else CC BY 4.0."""
    result = store.query(
        "SELECT ?ontology ?g ?license WHERE { GRAPH ?g { ?ontology <http://purl.org/dc/terms/license> ?license } }",
        bindings={"ontology": NamedNode(ONTOLOGY), "g": NamedNode(ONTOLOGY_GRAPH)},
    )
    licenses = sorted(str(row["license"].value) for row in result.rows)
    return licenses[0] if licenses else DEFAULT_LICENSE


def dataset_info(store: Store, sparql_endpoint: str, distributions: Iterable[Distribution] = ()) -> DatasetInfo:
    return DatasetInfo(
        version=__version__,
        created=release_date(),
        sparql_endpoint=sparql_endpoint,
        license=ontology_license(store),
        distributions=tuple(distributions),
    )


# --- VoID + DCAT ------------------------------------------------------------------------------------------------
CLASSES_USED = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY ?class"
PROPERTIES_USED = "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p ORDER BY ?p"
LABELLED_RESOURCES = (
    "SELECT DISTINCT ?s WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?label } ORDER BY ?s"
)


def _counts(store: Store, sparql: str, key: str) -> list[tuple[URIRef, int]]:
    return [(URIRef(row[key].value), int(row["n"].value)) for row in store.query(sparql).rows]


def example_resources(store: Store) -> list[str]:
    """A few labelled individuals of the data namespace, the same ones every time."""
    labelled = (row["s"].value for row in store.query(LABELLED_RESOURCES).rows if isinstance(row["s"], NamedNode))
    return [iri for iri in labelled if iri.startswith(ID)][:EXAMPLE_RESOURCES]


def _partition(kind: str, term: URIRef) -> URIRef:
    """A readable IRI for a VoID partition, e.g. `…/dataset#class-fg-Institution`: blank nodes would be relabelled
    whenever the counts change, making every release's void.ttl differ everywhere."""
    iri = str(term)
    compact = curie(iri)
    local = compact.replace(":", "-", 1) if compact != iri else hashlib.sha256(iri.encode()).hexdigest()[:16]
    return URIRef(f"{DATASET}#{kind}-{quote(local, safe='')}")


def _add_partitions(graph: Graph, store: Store) -> None:
    """Which classes and properties the data uses, and how much (VoID class and property partitions)."""
    classes = _counts(store, CLASSES_USED, "class")
    properties = _counts(store, PROPERTIES_USED, "p")
    graph.add((DATASET, VOID.classes, Literal(len(classes))))
    graph.add((DATASET, VOID.properties, Literal(len(properties))))
    for term, entities in classes:
        partition = _partition("class", term)
        graph.add((DATASET, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], term))
        graph.add((partition, VOID.entities, Literal(entities)))
    for term, triples in properties:
        partition = _partition("property", term)
        graph.add((DATASET, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, term))
        graph.add((partition, VOID.triples, Literal(triples)))


def _add_graph_subsets(graph: Graph, store: Store) -> None:
    """Triples per named graph: each graph IRI is a VoID subset of the dataset."""
    graph.add((DATASET, VOID.triples, Literal(store.count())))
    for name in store.named_graphs():
        subset = URIRef(name)
        graph.add((DATASET, VOID.subset, subset))
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, VOID.triples, Literal(store.count(name))))


def _add_access(graph: Graph, info: DatasetInfo) -> None:
    """The SPARQL endpoint (VoID and a DCAT data service) and the downloadable files (DCAT distributions)."""
    endpoint = URIRef(info.sparql_endpoint)
    graph.add((DATASET, VOID.sparqlEndpoint, endpoint))
    graph.add((DATASET, DCAT.accessService, endpoint))
    graph.add((endpoint, RDF.type, DCAT.DataService))
    graph.add((endpoint, DCAT.endpointURL, endpoint))
    graph.add((endpoint, DCAT.servesDataset, DATASET))
    for item in info.distributions:
        url = URIRef(item.url)
        graph.add((DATASET, DCAT.distribution, url))
        graph.add((DATASET, VOID.dataDump, url))
        graph.add((url, RDF.type, DCAT.Distribution))
        graph.add((url, DCTERMS.title, Literal(item.title, lang="en")))
        graph.add((url, DCAT.downloadURL, url))
        graph.add((url, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/" + item.media_type)))
        if item.byte_size is not None:
            graph.add((url, DCAT.byteSize, Literal(item.byte_size, datatype=XSD.nonNegativeInteger)))


def describe_dataset(store: Store, info: DatasetInfo) -> Graph:
    """The dataset's VoID + DCAT description, computed from the store's content."""
    graph = Graph()
    for prefix, namespace in DESCRIPTION_PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    graph.add((DATASET, RDF.type, VOID.Dataset))
    graph.add((DATASET, RDF.type, DCAT.Dataset))
    graph.add((DATASET, DCTERMS.title, Literal(info.title, lang="en")))
    graph.add((DATASET, DCTERMS.description, Literal(info.description, lang="en")))
    graph.add((DATASET, DCTERMS.license, URIRef(info.license)))
    graph.add((DATASET, DCTERMS.created, Literal(info.created.isoformat(), datatype=XSD.date)))
    graph.add((DATASET, DCAT_VERSION, Literal(info.version)))
    graph.add((DATASET, OWL.versionInfo, Literal(info.version)))
    graph.add((DATASET, VOID.uriSpace, Literal(ID)))
    graph.add((DATASET, VOID.vocabulary, URIRef(FG)))
    for iri in example_resources(store):
        graph.add((DATASET, VOID.exampleResource, URIRef(iri)))
    _add_graph_subsets(graph, store)
    _add_partitions(graph, store)
    _add_access(graph, info)
    return graph


# --- the bundle -------------------------------------------------------------------------------------------------
DATA_FILES = (  # (file name, export format, subset, title)
    ("ontology.ttl", "turtle", "ontology", "The film-diplomacy ontology (OWL 2, Turtle)"),
    ("filmgraph.ttl", "turtle", "all", "The whole graph, named graphs merged (Turtle)"),
    ("filmgraph.nq", "nquads", "all", "The whole graph with its named graphs: one per source, plus inferences"),
)
ONTOLOGY_DOCS = "docs/ontology.html"


def write_void(description: Graph, out: BinaryIO) -> None:
    """The description as sorted Turtle, so two releases' void.ttl diff by what changed, not by rdflib's order."""
    write_sorted_turtle(parse(description.serialize(format="nt"), RdfFormat.N_TRIPLES), out, DESCRIPTION_PREFIXES)


def citation(info: DatasetInfo) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for this version."""
    document: dict = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": info.title,
        "abstract": info.description,
        "version": info.version,
        "date-released": info.created,
        "authors": [{"name": "The filmgraph contributors"}],
        "url": str(DATASET),
        "keywords": ["film diplomacy", "co-production", "knowledge graph", "provenance", "RDF"],
    }
    spdx = SPDX_LICENSES.get(info.license)
    document.update({"license": spdx} if spdx else {"license-url": info.license})
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def write_ontology_docs(ontology_file: Path, destination: Path) -> None:
    """Human-readable HTML documentation of the ontology (filmgraph.ontology_docs)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(ontology_docs_html(ontology_file.read_bytes()), encoding="utf-8")


def write_checksums(directory: Path) -> Path:
    """SHA256SUMS over every file of the release, in the format `sha256sum -c` reads."""
    lines = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != CHECKSUMS):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(directory).as_posix()}\n")
    target = directory / CHECKSUMS
    target.write_text("".join(lines), encoding="utf-8")
    return target


def _write_data(store: Store, directory: Path, download_base: str, progress: Progress | None) -> list[Distribution]:
    distributions = []
    for name, format_name, subset, title in DATA_FILES:
        export = prepare_export(store, format_name, subset)
        with (directory / name).open("wb") as out:
            export.write_to(out, progress)
        size = (directory / name).stat().st_size
        distributions.append(Distribution(download_base + name, export.format.media_type, title, size))
    return distributions


def write_release(
    store: Store,
    outdir: Path,
    settings: Settings,
    progress: Progress | None = None,
) -> Path:
    """Write a release bundle to `outdir`, which must not exist or be empty; all files appear at once or none do."""
    outdir = Path(outdir)
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise BadRequest(f"{outdir} exists and is not an empty directory; choose a new release directory")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-", dir=outdir.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the release from other users
    try:
        _fill_release(store, staging, settings, progress)
        if outdir.exists():
            outdir.rmdir()
        staging.rename(outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return outdir


def loopback_warning(settings: Settings) -> str | None:
    """What to tell someone releasing without a public base URL: the VoID would send readers to their own
    machine's `/sparql`, which answers nobody else."""
    if settings.base_url:
        return None
    endpoint = public_base_url(settings) + "/sparql"
    return (f"void.ttl will name the SPARQL endpoint {endpoint}, a local address: pass --base-url (or set "
            "FILMGRAPH_BASE_URL) to the public URL of the service")


def _fill_release(store: Store, directory: Path, settings: Settings, progress: Progress | None) -> None:
    download_base = f"{BASE}release/{__version__}/"
    distributions = _write_data(store, directory, download_base, progress)
    shutil.copyfile(settings.ontology_dir / CONTEXT_FILE, directory / CONTEXT_FILE)
    write_ontology_docs(directory / "ontology.ttl", directory / ONTOLOGY_DOCS)
    distributions.append(Distribution(download_base + ONTOLOGY_DOCS, HTML.media_type, "Ontology documentation (HTML)"))
    info = dataset_info(store, public_base_url(settings) + "/sparql", distributions)
    with (directory / "void.ttl").open("wb") as out:
        write_void(describe_dataset(store, info), out)
    (directory / "CITATION.cff").write_text(citation(info), encoding="utf-8")
    write_checksums(directory)

"""Exports: the graph, or one subset of it, in a standard RDF format, written or streamed without a whole-graph string.

Researchers take the graph away into other tools, so every file is written by a library serialiser (pyoxigraph, or
rdflib for compacted JSON-LD). Turtle and TriG are sorted (subjects, then predicates with `rdf:type` first, then
objects) and use the project prefixes, so two exports of one store are byte-identical and a changed fact changes
only its lines; blank nodes (only in the ontology's OWL axioms) get canonical RDFC-1.0 labels in every format.
N-Triples, N-Quads and RDF/XML stream in store order (their blank-node statements last, the only ones held in
memory); sorted formats hold the subset's terms (never a serialised string) to sort them; JSON-LD is one compacted
document, built in memory.
"""

from __future__ import annotations

import io
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import rdflib
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Triple,
    serialize,
)

from .entities import ENTITY_ID
from .errors import BadRequest, NotFound, UnsupportedFormat
from .formats import JSON_LD, N_QUADS, N_TRIPLES, RDF_XML, TRIG, TURTLE, Format, named
from .settings import get_settings
from .store import Store
from .store.unsendable import release_frames
from .vocab import BASE, ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, PREFIXES, source_graph

RDF_TYPE = PREFIXES["rdf"] + "type"
XSD_STRING = PREFIXES["xsd"] + "string"
CONTEXT_IRI = BASE + "context.jsonld"  # where the JSON-LD context is published
CONTEXT_FILE = "context.jsonld"  # its file in the ontology directory
PROGRESS_EVERY = 10_000  # quads between progress callbacks

Progress = Callable[[int], None]


# --- formats ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFormat:
    """How one format of the registry (filmgraph.formats) is written as an export; its name is the one of the
    command line and `?format=`."""

    format: Format
    keeps_graphs: bool  # quad formats keep named graphs; triple formats merge them
    sorted: bool  # deterministic, diff-friendly output
    compacted: bool = False  # JSON-LD compacted against the project context, through rdflib

    @property
    def rdf_format(self) -> RdfFormat | None:
        """pyoxigraph's serialiser; None for compacted JSON-LD."""
        return None if self.compacted else self.format.rdf

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def extension(self) -> str:
        return self.format.extension


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(TURTLE, keeps_graphs=False, sorted=True),
        ExportFormat(N_TRIPLES, keeps_graphs=False, sorted=False),
        ExportFormat(TRIG, keeps_graphs=True, sorted=True),
        ExportFormat(N_QUADS, keeps_graphs=True, sorted=False),
        ExportFormat(JSON_LD, keeps_graphs=False, sorted=True, compacted=True),
        ExportFormat(RDF_XML, keeps_graphs=False, sorted=False),
    )
}


def parse_format(name: str) -> ExportFormat:
    """The format `name` means for a graph (the registry's names: `turtle`, `ttl`, `json` for JSON-LD, ...); an
    unknown name is a 400 that lists the valid ones."""
    found = named(name, "graph", tuple(f.format for f in FORMATS.values()))
    if found is None:
        raise UnsupportedFormat(f"unknown format {name!r}; valid formats: {', '.join(FORMATS)}")
    return FORMATS[found.name]


# --- subsets ----------------------------------------------------------------------------------------------------
SUBSET_KINDS = ("all", "asserted", "inferred", "ontology")
SUBSET_FORMS = (*SUBSET_KINDS, "source:<id>", "entity:<local-name>")


@dataclass(frozen=True)
class Subset:
    """Which part of the store to export: a named part, one source's graph, or one entity's neighbourhood."""

    kind: str
    argument: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.argument}" if self.argument else self.kind

    @property
    def slug(self) -> str:
        """A file-name-safe name, used for download file names."""
        return str(self).replace(":", "-")


def parse_subset(text: str) -> Subset:
    """The subset `text` names; anything else is a 400 that lists the valid forms."""
    kind, _, argument = text.strip().partition(":")
    if kind in SUBSET_KINDS and not argument:
        return Subset(kind)
    if kind in ("source", "entity") and argument:
        return Subset(kind, argument)
    raise BadRequest(f"unknown subset {text!r}; valid subsets: {', '.join(SUBSET_FORMS)}")


ENTITY_NEIGHBOURHOOD = "".join(f"PREFIX {name}: <{PREFIXES[name]}>\n" for name in ("fg", "prov", "nif")) + """
SELECT DISTINCT ?entity ?s ?p ?o ?g WHERE {
  { GRAPH ?g { ?entity ?p ?o } BIND(?entity AS ?s) }
  UNION
  { GRAPH ?g { ?s ?p ?entity } BIND(?entity AS ?o) }
  UNION
  { ?entity ?via ?s FILTER(isBlank(?s)) GRAPH ?g { ?s ?p ?o } }
  UNION
  {
    { ?claim fg:evidence ?anySpan ; ?link ?entity } UNION { ?entity fg:evidence ?ownSpan BIND(?entity AS ?claim) }
    ?claim (fg:evidence | fg:evidence/fg:inSentence | fg:evidence/nif:referenceContext | prov:wasDerivedFrom)? ?s .
    GRAPH ?g { ?s ?p ?o }
  }
}
"""


def entity_quads(store: Store, local_name: str) -> list[Quad]:
    """An entity's symmetric concise bounded description plus the provenance of the claims about it.

    The provenance is each claim node that mentions the entity (or the entity itself when it is a claim), with its
    evidence spans, their sentences and the source, so the exported neighbourhood can be checked against the text.
    """
    if not ENTITY_ID.fullmatch(local_name):
        raise NotFound(f"no entity {local_name!r}: local names are flat, like 'russian-state-fund'")
    result = store.query(ENTITY_NEIGHBOURHOOD, bindings={"entity": NamedNode(ID + local_name)})
    quads = [Quad(row["s"], row["p"], row["o"], row["g"]) for row in result.rows]
    if not quads:
        raise NotFound(f"no entity fgid:{local_name} in the store")
    return quads


def _quads_outside(store: Store, excluded_graph: str) -> Iterator[Quad]:
    return (quad for quad in store.quads() if not _in_graph(quad, excluded_graph))


def _in_graph(quad: Quad, graph: str) -> bool:
    return isinstance(quad.graph_name, NamedNode) and quad.graph_name.value == graph


def _graph_selection(store: Store, subset: Subset) -> tuple[Callable[[], Iterable[Quad]], int]:
    """For the graph-shaped subsets: a way to stream their quads, and how many there are (for progress)."""
    if subset.kind == "all":
        return store.quads, store.count()
    if subset.kind == "asserted":
        return lambda: _quads_outside(store, INFERRED_GRAPH), store.count() - store.count(INFERRED_GRAPH)
    graph = {"inferred": INFERRED_GRAPH, "ontology": ONTOLOGY_GRAPH}.get(subset.kind) or source_graph(subset.argument)
    if subset.kind == "source" and graph not in store.named_graphs():
        raise NotFound(f"no source {subset.argument!r} in the store")
    return lambda: store.quads(graph), store.count(graph)


# --- writing ----------------------------------------------------------------------------------------------------
def _term_key(term: Any) -> str:
    """IRIs sort by the IRI itself (not by `<iri>`, whose `>` would put `a-b` before `a`)."""
    return term.value if type(term) is NamedNode else str(term)


def _sort_key(statement: Quad | Triple) -> tuple[str, str, bool, str, str]:
    """Graph (quads), subject, then `rdf:type` before the other predicates, then object."""
    graph = _term_key(statement.graph_name) if type(statement) is Quad else ""
    predicate = statement.predicate.value
    return (graph, _term_key(statement.subject), predicate != RDF_TYPE, predicate, _term_key(statement.object))


def _has_blank_node(statement: Quad | Triple) -> bool:
    return type(statement.subject) is BlankNode or type(statement.object) is BlankNode


def _canonical_blank_nodes(statements: set[Quad] | set[Triple]) -> list[Quad] | list[Triple]:
    """Relabel blank nodes (OWL lists and restrictions) by W3C RDFC-1.0, so sorted exports stay byte-identical
    across rebuilds, which give blank nodes fresh random labels."""
    blank = [item for item in statements if _has_blank_node(item)]
    if not blank:
        return list(statements)
    as_triples = type(blank[0]) is Triple
    dataset = Dataset([Quad(t.subject, t.predicate, t.object) for t in blank] if as_triples else blank)
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    relabelled = [quad.triple for quad in dataset] if as_triples else list(dataset)
    return [item for item in statements if not _has_blank_node(item)] + relabelled


def canonical_blank_nodes_last(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Stream the quads without blank nodes in store order, then those with one, relabelled by RDFC-1.0 and sorted:
    a rebuild or a write gives blank nodes fresh labels, and a citable dump must not change with them. Only the
    quads with blank nodes are held (the ontology's OWL axioms, a few hundred), never the whole graph."""
    held: set[Quad] = set()
    for quad in quads:
        if _has_blank_node(quad):
            held.add(quad)
        else:
            yield quad
    yield from stable_order(held)


def stable_order(statements: Iterable[Quad] | Iterable[Triple]) -> list[Quad] | list[Triple]:
    """Deduplicated, with canonical blank nodes, sorted: the order that keeps a serialisation byte-stable."""
    return sorted(_canonical_blank_nodes(set(statements)), key=_sort_key)


def write_sorted_turtle(
    statements: Iterable[Triple] | Iterable[Quad], out: BinaryIO, prefixes: dict[str, str] = PREFIXES
) -> None:
    """Deterministic Turtle for any statements, graphs merged (the release's VoID): same content, same bytes."""
    triples = (item.triple if type(item) is Quad else item for item in statements)
    serialize(stable_order(triples), out, RdfFormat.TURTLE, prefixes=prefixes)


def _counted(quads: Iterable[Quad], progress: Progress | None) -> Iterator[Quad]:
    """Pass quads through, reporting how many went by every PROGRESS_EVERY (and at the end)."""
    pending = 0
    for quad in quads:
        yield quad
        pending += 1
        if progress and pending == PROGRESS_EVERY:
            progress(pending)
            pending = 0
    if progress and pending:
        progress(pending)


def to_rdflib(term: NamedNode | BlankNode | Literal) -> rdflib.term.Identifier:
    """The rdflib term for a pyoxigraph one; a blank node keeps its label (a canonical one stays canonical)."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = None if term.datatype.value == XSD_STRING else rdflib.URIRef(term.datatype.value)
        return rdflib.Literal(term.value, datatype=datatype)
    raise UnsupportedFormat(f"JSON-LD export cannot carry the RDF-star term {term}")


def load_context(ontology_dir: Path | None = None) -> dict[str, Any]:
    """The published JSON-LD context (`ontology/context.jsonld`): the project prefixes."""
    directory = ontology_dir or get_settings().ontology_dir
    return json.loads((directory / CONTEXT_FILE).read_text(encoding="utf-8"))


def jsonld_document_loader(ontology_dir: Path | None = None) -> Callable[..., dict[str, Any]]:
    """A pyld document loader that serves the published context from disk and refuses any other (network) URL.

    For documents that reference the context by its IRI, e.g. `jsonld.expand(doc, {"documentLoader": loader})`.
    """
    context = load_context(ontology_dir)

    def load(url: str, options: dict | None = None) -> dict[str, Any]:
        if url != CONTEXT_IRI:
            raise BadRequest(f"refusing to fetch {url}: only {CONTEXT_IRI} is served locally")
        return {"contextUrl": None, "documentUrl": url, "document": context}

    return load


def _canonical_json(value: Any, in_list: bool = False) -> Any:
    """Sort JSON-LD arrays (which are sets, except `@list`) so the document does not depend on hash order."""
    if isinstance(value, dict):
        return {key: _canonical_json(item, in_list=key == "@list") for key, item in value.items()}
    if isinstance(value, list):
        items = [_canonical_json(item) for item in value]
        return items if in_list else sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return value


def _write_jsonld(triples: Iterable[Triple], out: BinaryIO) -> None:
    """Compact JSON-LD with the published context embedded, so the file loads offline in any JSON-LD processor."""
    graph = rdflib.Graph()
    for triple in triples:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    context = load_context()["@context"]
    document = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    if isinstance(document, list) and not document:  # an empty graph
        document = {"@context": context, "@graph": []}
    text = json.dumps(_canonical_json(document), indent=2, sort_keys=True, ensure_ascii=False)
    out.write(text.encode("utf-8") + b"\n")


@dataclass
class Export:
    """A prepared export: the subset is resolved and checked, so errors surface before any byte is written."""

    format: ExportFormat
    subset: Subset
    _quads: Callable[[], Iterable[Quad]]
    size: int

    @property
    def filename(self) -> str:
        return f"filmgraph-{self.subset.slug}.{self.format.extension}"

    def _items(self, progress: Progress | None) -> Iterable[Triple | Quad]:
        quads = _counted(self._quads(), progress)
        if not self.format.sorted:
            # Streaming triple formats rely on the model's promise that no triple is written to two graphs.
            streamed = canonical_blank_nodes_last(quads)
            return streamed if self.format.keeps_graphs else (quad.triple for quad in streamed)
        return stable_order(quads if self.format.keeps_graphs else (quad.triple for quad in quads))

    def write_to(self, out: BinaryIO, progress: Progress | None = None) -> None:
        """Serialise into a binary file object, reporting quads read to `progress`."""
        items = self._items(progress)
        if self.format.rdf_format is None:
            _write_jsonld(items, out)  # type: ignore[arg-type]  # triples: JSON-LD merges graphs
        else:
            serialize(items, out, self.format.rdf_format, prefixes=PREFIXES)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.write_to(buffer)
        return buffer.getvalue()

    def chunks(self) -> Iterator[bytes]:
        """The serialisation as a stream of byte chunks (for HTTP), produced by the library serialiser."""
        return _stream(self.write_to)


def prepare_export(store: Store, format_name: str, subset_text: str = "all") -> Export:
    """Resolve a format and a subset against a store; 400 for an unknown format or subset, 404 for a missing one."""
    export_format = parse_format(format_name)
    subset = parse_subset(subset_text)
    if subset.kind == "entity":
        quads = entity_quads(store, subset.argument)
        return Export(export_format, subset, lambda: quads, len(quads))
    select, size = _graph_selection(store, subset)
    return Export(export_format, subset, select, size)


def with_usual_permissions(path: Path) -> None:
    """Give a file written through a private temporary file (0600) the mode a plain `open` would have (0644 under
    the usual umask 022), so an export is as readable as any other file its user writes."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)


# --- streaming --------------------------------------------------------------------------------------------------
_DONE = object()
CHUNK_SIZE = 64 * 1024
QUEUED_CHUNKS = 8


class _QueueWriter(io.RawIOBase):
    """A binary file whose writes become chunks in a bounded queue; it fails once the reader has gone away."""

    def __init__(self, chunks: queue.Queue, cancelled: threading.Event) -> None:
        self._chunks = chunks
        self._cancelled = cancelled

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self._cancelled.is_set():
            raise BrokenPipeError("the export's reader went away")
        self._chunks.put(bytes(data))
        return len(data)


def _stream(write: Callable[[BinaryIO], None]) -> Iterator[bytes]:
    """Turn a writer function into an iterator of chunks: it runs in a thread, with a bounded queue as backpressure.

    The library serialisers write to file objects; HTTP wants an iterator. Only QUEUED_CHUNKS chunks are ever held.
    """
    chunks: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
    cancelled = threading.Event()

    def produce() -> None:
        try:
            with io.BufferedWriter(_QueueWriter(chunks, cancelled), CHUNK_SIZE) as out:
                write(out)
        except BaseException as error:  # noqa: BLE001 - handed to the reader, which re-raises it
            chunks.put(release_frames(error))  # the frames hold the store's iterators: dropped in this thread
        else:
            chunks.put(_DONE)

    producer = threading.Thread(target=produce, name="filmgraph-export", daemon=True)
    producer.start()
    try:
        while (item := chunks.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancelled.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue so it can notice and stop
            try:
                chunks.get(timeout=0.05)
            except queue.Empty:
                pass
        producer.join()

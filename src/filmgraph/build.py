"""The build: ontology + curation files -> checked, reasoned, validated named graphs -> an embedded store on disk.

Everything is computed before the store is touched; the result is written into a fresh directory that is then
renamed into place, so a failed build leaves the previous store intact and two builds give the same store. The
graphs users own (filmgraph.ownership) are carried over from the previous store into the fresh one.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from pyoxigraph import DefaultGraph, NamedNode, Quad, Store as OxStore, Triple

from .claims import Curation, check_terms, load_curations, load_external_ids
from .errors import BuildError, is_held_elsewhere
from .ownership import user_graphs
from .rdfio import canonical_quads, read_turtle
from .settings import Settings
from .reference import reference_quads, references_of
from .triples import curation_quads
from .vocab import (
    INFERRED_GRAPH, ONTOLOGY_GRAPH, REFERENCE_GRAPH, SHAPES_GRAPH, SOURCE_GRAPH_PREFIX as SOURCE_PREFIX, source_graph,
)


@dataclass(frozen=True)
class BuildPaths:
    """The inputs of a build: the ontology, the shapes, the curation files, their sources and the identifiers."""

    ontology: Path
    shapes: Path
    claims_dir: Path
    sources_dir: Path
    external_ids: Path

    @classmethod
    def from_dirs(cls, data_dir: Path, ontology_dir: Path) -> BuildPaths:
        return cls(
            ontology=ontology_dir / "filmdiplomacy.ttl",
            shapes=ontology_dir / "shapes.ttl",
            claims_dir=data_dir / "claims",
            sources_dir=data_dir / "sources",
            external_ids=data_dir / "reference" / "external-ids.tsv",
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> BuildPaths:
        return cls.from_dirs(settings.data_dir, settings.ontology_dir)


@dataclass
class BuildReport:
    """What a build wrote: quads per named graph, the sources, and how long it took."""

    store_path: Path
    graph_counts: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    seconds: float = 0.0
    kept: dict[str, int] = field(default_factory=dict)  # users' graphs carried over from the previous store


    @property
    def total(self) -> int:
        return sum(self.graph_counts.values())

    def lines(self) -> list[str]:
        width = max((len(graph) for graph in self.graph_counts), default=0)
        rows = [f"{graph:<{width}}  {count:>6}" for graph, count in self.graph_counts.items()]
        kept = [f"kept {len(self.kept)} user graph(s), {sum(self.kept.values())} quads"] if self.kept else []
        return [*rows, f"{'total':<{width}}  {self.total:>6}", *kept, f"built {self.store_path} in {self.seconds:.1f} s"]


def read_curations(paths: BuildPaths) -> list[Curation]:
    """Every curation file, in name order, checked together; a build needs at least one."""
    files = sorted(paths.claims_dir.glob("*.yaml"))
    if not files:
        raise BuildError(f"{paths.claims_dir}: no curation files (*.yaml)")
    return load_curations(files, paths.sources_dir)


def compute_graphs(paths: BuildPaths, curations: list[Curation] | None = None) -> dict[str, list[Quad]]:
    """Every named graph of the store, fully computed and checked; nothing is written.

    `curations` (checked together) replace reading `paths.claims_dir`. Sources are taken in id order, so the
    graph of a fact two sources assert does not depend on file names (ingest names its copies by source id)."""
    from .reasoning import materialise  # noqa: PLC0415 - HermiT, reasonable, pySHACL load only when building

    ontology = read_turtle(paths.ontology)
    shapes = read_turtle(paths.shapes)
    declared = {str(s) for s in ontology.subjects()}
    external_ids = load_external_ids(paths.external_ids)
    graphs: dict[str, list[Quad]] = {
        ONTOLOGY_GRAPH: canonical_quads(ontology, ONTOLOGY_GRAPH),
        SHAPES_GRAPH: canonical_quads(shapes, SHAPES_GRAPH),
    }
    curations = sorted(read_curations(paths) if curations is None else curations, key=lambda c: c.source.id)
    labels = {node.id: node.label for curation in curations for node in curation.nodes}
    already: set[Triple] = set()
    for curation in curations:
        check_terms(curation, declared)
        quads = curation_quads(curation, labels)
        graphs[source_graph(curation.source.id)] = _not_yet_written(quads, already)
    asserted = [quad for graph, quads in graphs.items() if graph.startswith(SOURCE_PREFIX) for quad in quads]
    graphs[REFERENCE_GRAPH] = reference_quads(references_of(curations), external_ids)
    graphs[INFERRED_GRAPH] = materialise(graphs[ONTOLOGY_GRAPH], asserted)
    check_in_batches(graphs, shapes)
    return graphs


SOURCES_PER_CHECK = 50  # sources per HermiT run and per pySHACL run: large enough to pay for the JVM start


def check_in_batches(graphs: dict[str, list[Quad]], shapes: rdflib.Graph) -> None:
    """Consistency (HermiT) and SHACL per batch of sources, each over the neighbourhood of the nodes its graphs
    describe (filmgraph.neighbourhood): every node is checked once with all it depends on, and the cost grows
    with the corpus, not its square (pySHACL's SPARQL constraint reads the whole data graph per focus node)."""
    from .neighbourhood import View, batches, context, is_data_node, shape_context  # noqa: PLC0415
    from .reasoning import check_consistency, rules_of  # noqa: PLC0415
    from .store import EmbeddedStore  # noqa: PLC0415
    from .validation import validate  # noqa: PLC0415

    ontology = graphs[ONTOLOGY_GRAPH]
    _, join = rules_of(ontology)
    store = EmbeddedStore(None)
    try:
        for graph, quads in graphs.items():
            store.add_to_graph(graph, quads)
        view = View(store)
        for batch in batches(sorted(g for g in graphs if g.startswith(SOURCE_PREFIX)), SOURCES_PER_CHECK):
            seeds = {q.subject for graph in batch for q in graphs[graph] if is_data_node(q.subject)}
            check_consistency(ontology, context(view, seeds, join))
            validate({"data": [*ontology, *shape_context(view, seeds, view.inferred_about)]}, shapes, seeds)
    finally:
        store.close()


def _not_yet_written(quads: list[Quad], already: set[Triple]) -> list[Quad]:
    """Drop triples an earlier source graph holds (two sources asserting one fact): the union default graph
    counts a triple once per graph, so each triple lives in one graph; both sources keep their own fg:Claim."""
    kept = []
    for quad in quads:
        triple = Triple(quad.subject, quad.predicate, quad.object)
        if triple not in already:
            already.add(triple)
            kept.append(quad)
    return kept


def _refuse_a_store_in_use(store_path: Path) -> None:
    """Refuse to replace a store another process holds open (its lock is taken): RocksDB keeps writing by path,
    so a running server would write into the new store's directory and corrupt it. The check opens and closes the
    store at once; holding it across the rename would do the same harm."""
    if not store_path.exists() or not any(store_path.iterdir()):
        return
    try:
        probe = OxStore(str(store_path))
    except OSError as error:
        if not is_held_elsewhere(error):
            raise BuildError(f"cannot open the store at {store_path} to replace it ({error})") from None
        raise BuildError(
            f"the store at {store_path} is in use by another process (a running `filmgraph serve`?): "
            f"stop it first, or build into another --store ({error})"
        ) from None
    del probe
    gc.collect()  # closes it


def _carry_user_graphs(previous: Path, fresh: OxStore) -> dict[str, int]:
    """Copy every graph users own (filmgraph.ownership), and the default graph, from the previous store: a build
    recomputes only what it owns, and must never drop what `filmgraph load`, the Graph Store or SPARQL Update
    wrote. Returns quads per graph kept ('' = the default graph)."""
    if not previous.exists() or not any(previous.iterdir()):
        return {}
    old = OxStore.read_only(str(previous))
    kept: dict[str, int] = {}
    names: list[NamedNode | DefaultGraph] = [DefaultGraph()]
    names += [NamedNode(graph) for graph in user_graphs(g.value for g in old.named_graphs())]
    for name in names:
        if isinstance(name, NamedNode):
            fresh.add_graph(name)
        quads = list(old.quads_for_pattern(None, None, None, name))
        fresh.bulk_extend(quads)
        if quads or isinstance(name, NamedNode):
            kept[name.value if isinstance(name, NamedNode) else ""] = len(quads)
    del old
    gc.collect()  # closes it before the rename
    return kept


def write_store(store_path: Path, graphs: dict[str, list[Quad]]) -> dict[str, int]:
    """Write the graphs into a fresh directory next to `store_path`, carry the users' graphs over from the store
    there, then swap the fresh one in by renaming. Returns the quads kept per user graph."""
    store_path = store_path.resolve()
    store_path.parent.mkdir(parents=True, exist_ok=True)
    fresh = store_path.with_name(f".{store_path.name}.building-{os.getpid()}")
    retired = store_path.with_name(f".{store_path.name}.old-{os.getpid()}")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        store = OxStore(str(fresh))
        for graph, quads in graphs.items():
            store.add_graph(NamedNode(graph))
            store.extend(quads)
        _refuse_a_store_in_use(store_path)
        kept = _carry_user_graphs(store_path, store)
        store.flush()
        del store
        gc.collect()  # pyoxigraph closes the database when the object goes
        if store_path.exists():
            os.rename(store_path, retired)
        os.rename(fresh, store_path)
        return kept
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def build_store(store_path: Path, paths: BuildPaths | Settings | None = None) -> BuildReport:
    """Build the whole graph into `store_path` (replacing what is there only if every check passes)."""
    started = time.monotonic()
    if paths is None:
        paths = Settings()
    if isinstance(paths, Settings):
        paths = BuildPaths.from_settings(paths)
    graphs = compute_graphs(paths)
    kept = write_store(Path(store_path), graphs)
    return BuildReport(
        store_path=Path(store_path),
        graph_counts={graph: len(quads) for graph, quads in graphs.items()},
        sources=[g.removeprefix(SOURCE_PREFIX) for g in graphs if g.startswith(SOURCE_PREFIX)],
        seconds=time.monotonic() - started,
        kept=kept,
    )

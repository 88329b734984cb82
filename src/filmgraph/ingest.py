"""Ingest one source into a built store: the curation file's graph, its inferences and its checks, in one write.

A source is refused (IngestError, nothing changed) or accepted as a whole: its graph `graph/source/<id>` and the
inferences it affects are replaced in one SPARQL Update, then its curation file and text are copied into the data
directory, so that a later full `filmgraph build` gives the same store. Ingesting the same files again changes
nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml
from pyoxigraph import Quad

from .build import BuildPaths
from .claims import Curation, load_external_ids, read_curation, source_text_name
from .incremental import source_change
from .resolution import check_resolution
from .errors import BuildError, IngestError, ReasonerFailed
from .store import Store
from .ownership import is_owned
from .vocab import FG, ID, source_graph

EPISTEMIC_STATUS = FG + "epistemicStatus"


@dataclass
class IngestReport:
    """What an ingest changed (or, in a dry run, would change): claim ids and quads per named graph."""

    source_id: str
    dry_run: bool
    changed: bool
    claims_added: list[str] = field(default_factory=list)
    claims_removed: list[str] = field(default_factory=list)
    quads_added: dict[str, int] = field(default_factory=dict)
    quads_removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def lines(self) -> list[str]:
        would = "would " if self.dry_run else ""
        if not self.changed:
            return [f"{self.source_id}: unchanged (the store already holds this source as given)"]
        rows = [f"claims {would}add: {', '.join(self.claims_added) or '-'}",
                f"claims {would}remove: {', '.join(self.claims_removed) or '-'}"]
        for graph in sorted({*self.quads_added, *self.quads_removed}):
            rows.append(f"{graph}  +{self.quads_added.get(graph, 0)} -{self.quads_removed.get(graph, 0)}")
        verb = "checked (dry run, nothing written)" if self.dry_run else "ingested"
        return [*rows, f"{self.source_id}: {verb} in {self.seconds:.1f} s"]


@dataclass(frozen=True)
class _Accepted:
    """A parsed source and the exact bytes to copy into the data directory once the store has it."""

    curation: Curation
    curation_bytes: bytes
    text_bytes: bytes


# --- entry points --------------------------------------------------------------------------------------------------
def ingest_files(
    store: Store,
    curation: Path,
    text: Path | None = None,
    *,
    paths: BuildPaths,
    dry_run: bool = False,
    data_dir: Path | None = None,
) -> IngestReport:
    """Ingest a curation file; its text is `text`, else the file `source.text` names beside it, else the file of
    the same stem (`.txt`), else `<source id>.txt` beside it — or, for a file in a `claims/` folder with a
    `sources/` folder beside it (the layout of `data/`, where ingest copies what it accepts), in that folder."""
    text = text or _text_of_same_stem(curation)
    parsed = _refusing(lambda: read_curation(curation, _sources_dir_of(curation), text))
    accepted = _Accepted(parsed, curation.read_bytes(), parsed.source.path.read_bytes())
    return _ingest(store, accepted, paths, dry_run, data_dir)


def ingest_texts(
    store: Store,
    curation_yaml: str,
    text: str,
    *,
    paths: BuildPaths,
    dry_run: bool = False,
    data_dir: Path | None = None,
) -> IngestReport:
    """Ingest a curation file and its text given as strings (POST /api/sources); messages name `curation.yaml`."""
    with tempfile.TemporaryDirectory(prefix="filmgraph-ingest-") as workdir:
        curation_path, text_path = Path(workdir, "curation.yaml"), Path(workdir, "source.txt")
        curation_path.write_text(curation_yaml, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
        try:
            parsed = _refusing(lambda: read_curation(curation_path, Path(workdir), text_path))
            accepted = _Accepted(parsed, curation_yaml.encode("utf-8"), text.encode("utf-8"))
            return _ingest(store, accepted, paths, dry_run, data_dir)
        except BuildError as error:  # every refusal (parse, resolution, checks) names `curation.yaml`, not the temp dir
            if workdir not in str(error):
                raise
            raise type(error)(str(error).replace(workdir + os.sep, "")) from error


def _sources_dir_of(curation: Path) -> Path:
    beside = curation.parent.parent / "sources"
    return beside if curation.parent.name == "claims" and beside.is_dir() else curation.parent


def _text_of_same_stem(curation: Path) -> Path | None:
    """The `.txt` of the same stem beside the file, unless the file names its text itself."""
    beside = curation.with_suffix(".txt")
    try:
        named = _named_text(curation.read_bytes())
    except OSError:
        return None  # read_curation reports it
    return beside if beside.is_file() and named is None else None


def _named_text(curation_bytes: bytes) -> str | None:
    """The text file a curation file names (`source.text`), if it names one."""
    try:
        document = yaml.safe_load(curation_bytes)
    except yaml.YAMLError:
        return None  # read_curation reports it with its line
    source = document.get("source") if isinstance(document, dict) else None
    named = source.get("text") if isinstance(source, dict) else None
    return named if isinstance(named, str) else None


def _refusing(step):
    """Run a step; a BuildError of the build's own (a 500) becomes an IngestError (a client's 422), same message."""
    try:
        return step()
    except BuildError as error:
        if 400 <= error.status_code < 500 or isinstance(error, ReasonerFailed):
            raise
        raise IngestError(str(error)) from error


# --- the ingest ----------------------------------------------------------------------------------------------------
def _ingest(store: Store, accepted: _Accepted, paths: BuildPaths, dry_run: bool, data_dir: Path | None) -> IngestReport:
    started = time.monotonic()
    if data_dir is not None:
        paths = replace(paths, claims_dir=data_dir / "claims", sources_dir=data_dir / "sources")
    curation = accepted.curation
    _refusing(lambda: check_resolution(curation, store, load_external_ids(paths.external_ids)))
    change = _refusing(lambda: source_change(store, curation, paths.external_ids))
    if change is None:  # the change reaches beyond the source's neighbourhood: recompute everything
        removed, added = _difference(store, _refusing(lambda: _compute(curation, paths)))
    else:
        removed, added = change.removed, change.added
    claims_before = _claims_in_store(store, curation.source.id)
    claims_after = _claim_ids(curation)
    files_differ = _files_differ(accepted, paths)
    report = IngestReport(
        source_id=curation.source.id,
        dry_run=dry_run,
        changed=bool(removed or added or files_differ),
        claims_added=sorted(claims_after - claims_before),
        claims_removed=sorted(claims_before - claims_after),
        quads_added=_per_graph(added),
        quads_removed=_per_graph(removed),
    )
    if not dry_run:
        if removed or added:
            store.update(_update_text(removed, added))
        if files_differ:
            _copy_into_data(accepted, paths)
    report.seconds = time.monotonic() - started
    return report


def _compute(curation: Curation, paths: BuildPaths) -> dict[str, list[Quad]]:
    """Every owned graph as a full build over the data directory with this source in would give."""
    from .build import compute_graphs, read_curations  # noqa: PLC0415

    others = [c for c in read_curations(paths) if c.source.id != curation.source.id] if any(
        paths.claims_dir.glob("*.yaml")) else []
    return compute_graphs(paths, [*others, curation])


def _difference(store: Store, wanted: dict[str, list[Quad]]) -> tuple[list[Quad], list[Quad]]:
    """The quads to remove from and add to the store's owned graphs to make them `wanted`."""
    have = {graph for graph in store.named_graphs() if is_owned(graph)}
    removed: list[Quad] = []
    added: list[Quad] = []
    for graph in sorted(have | set(wanted)):
        current = set(store.quads(graph)) if graph in have else set()
        target = set(wanted.get(graph, []))
        removed += sorted(current - target, key=str)
        added += sorted(target - current, key=str)
    return removed, added


def _per_graph(quads: Iterable[Quad]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for quad in quads:
        counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    return dict(sorted(counts.items()))


def _claim_ids(curation: Curation) -> set[str]:
    return {claim.id for claim in curation.relations} | {n.id for n in curation.nodes if n.provenance is not None}


def _claims_in_store(store: Store, source_id: str) -> set[str]:
    """The claim ids the store holds for the source: nodes with an epistemic status in its graph."""
    graph = source_graph(source_id)
    if not store.has_graph(graph):
        return set()
    return {q.subject.value.removeprefix(ID) for q in store.quads(graph) if q.predicate.value == EPISTEMIC_STATUS}


def _update_text(removed: list[Quad], added: list[Quad]) -> str:
    """One SPARQL Update (one transaction) with every term written by pyoxigraph, never user text spliced raw."""
    return f"DELETE DATA {{ {_data_block(removed)} }} ; INSERT DATA {{ {_data_block(added)} }}"


def _data_block(quads: list[Quad]) -> str:
    by_graph: dict[str, list[str]] = {}
    for quad in quads:
        by_graph.setdefault(str(quad.graph_name), []).append(f"{quad.subject} {quad.predicate} {quad.object} .")
    return " ".join(f"GRAPH {graph} {{ {' '.join(lines)} }}" for graph, lines in by_graph.items())


# --- the data directory ----------------------------------------------------------------------------------------------
def _data_targets(accepted: _Accepted, paths: BuildPaths) -> tuple[Path, Path]:
    """Where the full build reads this source from: `claims/<source id>.yaml` and its text in `sources/`."""
    source = accepted.curation.source
    named = _named_text(accepted.curation_bytes)
    return paths.claims_dir / f"{source.id}.yaml", paths.sources_dir / source_text_name(source.id, named)


def _files_differ(accepted: _Accepted, paths: BuildPaths) -> bool:
    targets = _data_targets(accepted, paths)
    wanted = (accepted.curation_bytes, accepted.text_bytes)
    return any(not path.is_file() or path.read_bytes() != data for path, data in zip(targets, wanted, strict=True))


def _copy_into_data(accepted: _Accepted, paths: BuildPaths) -> None:
    """Write each file beside its target, then rename it into place (a reader never sees half a file)."""
    for path, data in zip(_data_targets(accepted, paths), (accepted.curation_bytes, accepted.text_bytes),
                          strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.ingest-{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, path)

"""Read and check curation files (data/claims/*.yaml) and find every evidence quote's span in its source text.

A curation file is written for people to review in a diff; this module turns it into typed records and refuses
anything it cannot trust, naming the file and line: YAML syntax errors, missing keys, unknown ids or prefixes,
duplicate ids, and quotes that are not in the source or occur more than once.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BuildError
from .spans import AmbiguousQuote, QuoteNotFound, Span, find_evidence_span, split_sentences
from .vocab import PREFIXES, expand

LOCAL_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURIE = re.compile(r"^([a-z][a-z0-9]*):([A-Za-z_][\w.-]*)$")
Value = str | int | float | bool | dt.date


@dataclass(frozen=True)
class Location:
    """Where a record was written: file and 1-based line, for error messages."""

    file: Path
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Provenance:
    """The epistemic status, the speaker and the evidence spans of one claim."""

    status: str
    said_by: str
    evidence: list[Span]


@dataclass
class Node:
    """An entity, an n-ary claim node (agreement, event, statement, post) or a time expression."""

    id: str
    types: list[str]
    label: str
    where: Location
    alt_labels: list[str] = field(default_factory=list)
    definition: str | None = None
    links: dict[str, list[str]] = field(default_factory=dict)  # CURIE (or ^CURIE for reverse) -> ids/CURIEs
    values: dict[str, list[Value]] = field(default_factory=dict)  # CURIE -> literals
    mentions: list[Span] = field(default_factory=list)
    reference: str | None = None  # row name in the external-ids table
    provenance: Provenance | None = None  # set for n-ary claim nodes
    same_as: list[str] = field(default_factory=list)  # existing ids this node is (owl:sameAs)
    distinct_from: list[str] = field(default_factory=list)  # existing ids it only looks like (owl:differentFrom)


@dataclass
class RelationClaim:
    """One `subject predicate object` claim, reified as fg:Claim; a plain triple only when asserted."""

    id: str
    subject: str
    predicate: str
    object: str
    provenance: Provenance
    where: Location


@dataclass
class Source:
    """A source's metadata and exact text."""

    id: str
    type: str
    title: str
    url: str
    publisher: str
    issued: str
    language: str
    published_at: str | None
    path: Path
    text: str
    sentences: list[Span]
    where: Location


@dataclass
class Curation:
    """Everything one curation file says, checked and with spans resolved."""

    path: Path
    source: Source
    nodes: list[Node]
    relations: list[RelationClaim]


@dataclass(frozen=True)
class ExternalIds:
    """Verified identifiers of one named entity (only non-empty cells of the reference table)."""

    wikidata: str | None = None
    iso3166_alpha2: str | None = None
    iso3166_alpha3: str | None = None


# --- YAML with line numbers ------------------------------------------------------------------------------------


class _Mapping(dict):
    """A YAML mapping that remembers its line."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings carry the line they start on."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> _Mapping:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise BuildError(f"{path}:{line}: YAML syntax error: {error.problem or error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise BuildError(f"{path}: cannot read: {error}") from error
    if not isinstance(document, _Mapping):
        raise BuildError(f"{path}:1: a curation file is a mapping with `source`, `entities`, `times`, `claims`")
    return document


# --- field readers ---------------------------------------------------------------------------------------------


class _Reader:
    """Reads one YAML mapping's fields, with errors that name the file and the mapping's line."""

    def __init__(self, path: Path, mapping: Any, what: str) -> None:
        if not isinstance(mapping, _Mapping):
            raise BuildError(f"{path}: {what} must be a mapping, got {mapping!r}")
        self.mapping = mapping
        self.where = Location(path, mapping.line)
        self.what = what

    def fail(self, message: str) -> BuildError:
        return BuildError(f"{self.where}: {self.what}: {message}")

    def text(self, key: str, required: bool = True) -> str | None:
        value = self.mapping.get(key)
        if value is None:
            if required:
                raise self.fail(f"missing `{key}`")
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise self.fail(f"`{key}` must be text, got {value!r}")
        return str(value)

    def texts(self, key: str) -> list[str]:
        value = self.mapping.get(key, [])
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) and item.strip() for item in items):
            raise self.fail(f"`{key}` must be text or a list of texts")
        return items

    def date(self, key: str) -> dt.date | None:
        value = self.mapping.get(key)
        if value is None or isinstance(value, dt.date):
            return value
        raise self.fail(f"`{key}` must be a date written YYYY-MM-DD, got {value!r}")

    def local_id(self) -> str:
        """The record's id; later errors name it (`claim 'signing-x': … not in the source`)."""
        local = self.text("id")
        if not LOCAL_NAME.match(local):
            raise self.fail(f"id {local!r} must be flat kebab-case (a-z, 0-9, hyphens)")
        self.what = f"{self.what} {local!r}"
        return local

    def curie(self, key: str, required: bool = True) -> str | None:
        value = self.text(key, required)
        if value is not None:
            check_curie(value, self.fail)
        return value

    def unknown_keys(self, allowed: Iterable[str]) -> None:
        extra = sorted(set(self.mapping) - set(allowed))
        if extra:
            raise self.fail(f"unknown key(s) {', '.join(extra)}")


def check_curie(value: str, fail: Callable[[str], BuildError]) -> None:
    """A CURIE with a prefix of `filmgraph.vocab.PREFIXES`."""
    match = CURIE.match(value)
    if not match or match.group(1) not in PREFIXES:
        raise fail(f"{value!r} is not a CURIE with a known prefix ({', '.join(sorted(PREFIXES))})")


def _find_span(reader: _Reader, source: Source, quote: str) -> Span:
    try:
        return find_evidence_span(source.text, quote)
    except (QuoteNotFound, AmbiguousQuote) as error:
        raise reader.fail(f"{error} ({source.path.name}): {quote!r}") from error


# --- records ---------------------------------------------------------------------------------------------------

_NODE_KEYS = {
    "id", "type", "label", "alt", "definition", "mention", "reference", "links", "values", "same_as", "distinct_from"
}  # fmt: skip
# Entity resolution (filmgraph.resolution): a node whose name matches an existing entity says which it is.
IDENTITY_LINKS = {"same_as": "owl:sameAs", "distinct_from": "owl:differentFrom"}
_PROVENANCE_KEYS = {"status", "said_by", "quote"}
_TIME_KEYS = {"id", "label", "worded", "precision", "not_before", "not_after"}
_RELATION_KEYS = {"id", "subject", "predicate", "object"} | _PROVENANCE_KEYS
_SOURCE_KEYS = {"id", "type", "title", "url", "publisher", "issued", "language", "published_at", "text"}


def source_text_name(source_id: str, named: str | None) -> str:
    """The file name of a source's text in the sources directory: the one `source.text` names, or `<id>.txt`."""
    return named or f"{source_id}.txt"


def _read_source(reader: _Reader, sources_dir: Path, text_path: Path | None = None) -> Source:
    reader.unknown_keys(_SOURCE_KEYS)
    source_id = reader.local_id()
    text_path = text_path or sources_dir / source_text_name(source_id, reader.text("text", required=False))
    try:
        text = text_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise reader.fail(f"cannot read the source text {text_path}: {error}") from error
    issued = reader.text("issued")
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", issued):
        raise reader.fail(f"`issued` must be YYYY, YYYY-MM or YYYY-MM-DD (quoted), got {issued!r}")
    return Source(
        id=source_id,
        type=reader.curie("type"),
        title=reader.text("title"),
        url=reader.text("url"),
        publisher=reader.text("publisher"),
        issued=issued,
        language=reader.text("language"),
        published_at=reader.text("published_at", required=False),
        path=text_path,
        text=text,
        sentences=split_sentences(text),
        where=reader.where,
    )


def _read_links(reader: _Reader) -> dict[str, list[str]]:
    links = reader.mapping.get("links", {}) or {}
    if not isinstance(links, dict):
        raise reader.fail("`links` must map CURIEs to ids")
    result: dict[str, list[str]] = {}
    for key, predicate in IDENTITY_LINKS.items():
        for target in reader.texts(key):
            if not LOCAL_NAME.match(target):
                raise reader.fail(f"`{key}` takes entity ids (flat kebab-case), got {target!r}")
            result.setdefault(predicate, []).append(target)
    for key, targets in links.items():
        check_curie(key.removeprefix("^"), reader.fail)
        items = targets if isinstance(targets, list) else [targets]
        if not all(isinstance(item, str) for item in items):
            raise reader.fail(f"`links.{key}` must be an id or a list of ids")
        for item in items:
            if ":" in item:
                check_curie(item, reader.fail)
        result[key] = items
    return result


def _read_values(reader: _Reader) -> dict[str, list[Value]]:
    values = reader.mapping.get("values", {}) or {}
    if not isinstance(values, dict):
        raise reader.fail("`values` must map CURIEs to literals")
    result: dict[str, list[Value]] = {}
    for key, items in values.items():
        check_curie(key, reader.fail)
        items = items if isinstance(items, list) else [items]
        if not all(isinstance(item, (str, int, float, bool, dt.date)) for item in items):
            raise reader.fail(f"`values.{key}` must be literals")
        result[key] = items
    return result


def _read_provenance(reader: _Reader, source: Source) -> Provenance:
    quotes = reader.texts("quote")
    if not quotes:
        raise reader.fail("a claim needs at least one verbatim `quote` from the source")
    return Provenance(
        status=reader.curie("status"),
        said_by=reader.text("said_by"),
        evidence=[_find_span(reader, source, quote) for quote in quotes],
    )


def _read_node(reader: _Reader, source: Source, is_claim: bool) -> Node:
    reader.unknown_keys(_NODE_KEYS | (_PROVENANCE_KEYS if is_claim else set()))
    types = reader.texts("type")
    if not types:
        raise reader.fail("missing `type`")
    for curie in types:
        check_curie(curie, reader.fail)
    return Node(
        id=reader.local_id(),
        types=types,
        label=reader.text("label"),
        where=reader.where,
        alt_labels=reader.texts("alt"),
        definition=reader.text("definition", required=False),
        links=_read_links(reader),
        values=_read_values(reader),
        mentions=[_find_span(reader, source, quote) for quote in reader.texts("mention")],
        reference=reader.text("reference", required=False),
        provenance=_read_provenance(reader, source) if is_claim else None,
        same_as=reader.texts("same_as"),
        distinct_from=reader.texts("distinct_from"),
    )


def _read_time(reader: _Reader) -> Node:
    reader.unknown_keys(_TIME_KEYS)
    worded = reader.text("worded", required=False)  # absent for a date only the metadata gives (publication)
    values: dict[str, list[Value]] = {"fg:asWorded": [worded]} if worded else {}
    bounds = {"fg:notBefore": reader.date("not_before"), "fg:notAfter": reader.date("not_after")}
    if bounds["fg:notBefore"] and bounds["fg:notAfter"] and bounds["fg:notBefore"] > bounds["fg:notAfter"]:
        raise reader.fail("`not_before` is after `not_after`")
    values.update({key: [value] for key, value in bounds.items() if value is not None})
    return Node(
        id=reader.local_id(),
        types=["fg:TimeExpression"],
        label=reader.text("label"),
        where=reader.where,
        links={"fg:precision": [reader.curie("precision")]},
        values=values,
    )


def _read_relation(reader: _Reader, source: Source) -> RelationClaim:
    reader.unknown_keys(_RELATION_KEYS)
    return RelationClaim(
        id=reader.local_id(),
        subject=reader.text("subject"),
        predicate=reader.curie("predicate"),
        object=reader.text("object"),
        provenance=_read_provenance(reader, source),
        where=reader.where,
    )


def _section(document: _Mapping, path: Path, key: str) -> list:
    items = document.get(key) or []
    if not isinstance(items, list):
        raise BuildError(f"{path}:{document.line}: `{key}` must be a list")
    return items


# --- cross-checks ----------------------------------------------------------------------------------------------


def check_references(curations: list[Curation]) -> None:
    """Every id is defined once across all curation files, and every id used is defined in one of them.

    An entity is written by the one file that defines it; other files refer to it by id, so no triple about it is
    repeated in two source graphs. CURIE targets are left to the ontology check."""
    known = set(defined_ids(curations))
    for curation in curations:
        for target, where, role in used_ids(curation):
            if target not in known:
                raise BuildError(f"{where}: unknown entity {target!r} in {role}")


def defined_ids(curations: list[Curation]) -> dict[str, Location]:
    """Every id the files define, with where; an id defined twice is refused."""
    seen: dict[str, Location] = {}
    for curation in curations:
        for record in (curation.source, *curation.nodes, *curation.relations):
            if record.id in seen:
                raise BuildError(f"{record.where}: id {record.id!r} is defined twice (first at {seen[record.id]})")
            seen[record.id] = record.where
    return seen


def used_ids(curation: Curation) -> Iterator[tuple[str, Location, str]]:
    """Every entity id the file refers to (CURIEs left out), with where and in which role, in file order."""
    return ((target, where, role) for target, where, role in _references(curation) if ":" not in target)


def _references(curation: Curation) -> Iterator[tuple[str, Location, str]]:
    source = curation.source
    yield source.publisher, source.where, "source.publisher"
    if source.published_at:
        yield source.published_at, source.where, "source.published_at"
    for node in curation.nodes:
        for key, targets in node.links.items():
            role = next((name for name, curie in IDENTITY_LINKS.items() if curie == key), f"links.{key}")
            yield from ((target, node.where, role) for target in targets)
        if node.provenance:
            yield node.provenance.said_by, node.where, "said_by"
    for claim in curation.relations:
        for target, role in ((claim.subject, "subject"), (claim.object, "object"), (claim.provenance.said_by, "said_by")):
            yield target, claim.where, role


def check_terms(curation: Curation, known_terms: set[str]) -> None:
    """Every fg: term the file uses is declared in the ontology (catches typos such as fg:ofstate)."""

    def check(curie: str, where: Location) -> None:
        if curie.startswith("fg:") and expand(curie) not in known_terms:
            raise BuildError(f"{where}: {curie} is not a term of the ontology")

    for node in curation.nodes:
        used = [*node.types, *(key.removeprefix("^") for key in node.links), *node.values]
        used += [target for targets in node.links.values() for target in targets if ":" in target]
        if node.provenance:
            used.append(node.provenance.status)
        for curie in used:
            check(curie, node.where)
    for claim in curation.relations:
        for curie in (claim.predicate, claim.provenance.status):
            check(curie, claim.where)
    check(curation.source.type, curation.source.where)


# --- entry points ----------------------------------------------------------------------------------------------


def read_curation(path: Path, sources_dir: Path, text_path: Path | None = None) -> Curation:
    """Read one curation file and resolve every quote to its span (references are checked across files).

    `text_path` overrides where the source text is read from (ingest reads it from beside the file)."""
    document = _read_yaml(path)
    source = _read_source(_Reader(path, document.get("source"), "source"), sources_dir, text_path)
    nodes = [_read_node(_Reader(path, item, "entity"), source, False) for item in _section(document, path, "entities")]
    nodes += [_read_time(_Reader(path, item, "time")) for item in _section(document, path, "times")]
    relations: list[RelationClaim] = []
    for item in _section(document, path, "claims"):
        reader = _Reader(path, item, "claim")
        if "predicate" in item:
            relations.append(_read_relation(reader, source))
        else:
            nodes.append(_read_node(reader, source, True))
    return Curation(path, source, nodes, relations)


def load_curations(paths: Iterable[Path], sources_dir: Path) -> list[Curation]:
    """Read curation files together: ids are unique across them and may be used in any of them."""
    curations = [read_curation(path, sources_dir) for path in paths]
    check_references(curations)
    return curations


def load_curation(path: Path, sources_dir: Path) -> Curation:
    """Read and check one self-contained curation file."""
    return load_curations([path], sources_dir)[0]


def load_external_ids(path: Path) -> dict[str, ExternalIds]:
    """The verified identifiers table, keyed by entity name; empty cells mean 'not verified' and are dropped."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except OSError as error:
        raise BuildError(f"{path}: cannot read: {error}") from error
    return {
        row["entity"].strip(): ExternalIds(
            wikidata=(row.get("wikidata") or "").strip() or None,
            iso3166_alpha2=(row.get("iso3166_alpha2") or "").strip() or None,
            iso3166_alpha3=(row.get("iso3166_alpha3") or "").strip() or None,
        )
        for row in rows
        if (row.get("entity") or "").strip()
    }

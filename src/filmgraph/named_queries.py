"""Named research questions: `queries/*.rq` files with a header comment, run with parameters bound as RDF terms.

Header format (comment lines at the top of the file):

    # title: Who heads what
    # description: Each post in the graph, the institution it is in, the role, and who holds it.
    # param: institution iri optional  The institution whose posts to list (full IRI or fgid: local name).
    # param: state iri optional default=fgid:russia  A parameter with a default value.

A parameter `x` is the variable `?x` of the query. Values are converted to terms of their declared type (an IRI
may be given in full, as a CURIE or as a bare local name) and bound by a `VALUES` row at the head of the WHERE
group, written by pyoxigraph from the term, never by splicing the user's text; an optional parameter left out (and
without default) leaves its variable free.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal as TypingLiteral

from pyoxigraph import Literal, NamedNode

from .errors import BuildError, InvalidParameter, NotFound
from .lookup import resolve_term, values_block
from .sparql_text import where_group_start
from .store.base import QueryResult, SerializedResult, Store, Term
from .vocab import PREFIXES, curie

ParameterType = TypingLiteral["iri", "string", "integer", "date"]
PARAMETER_TYPES: tuple[str, ...] = ("iri", "string", "integer", "date")
XSD = PREFIXES["xsd"]
_HEADER = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*?)\s*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class QueryParameter:
    """One declared parameter of a named query."""

    name: str
    type: ParameterType
    required: bool
    description: str = ""
    default: str | None = None


@dataclass(frozen=True)
class NamedQuery:
    """A research question: its file name (without .rq), header and SPARQL text."""

    name: str
    title: str
    description: str
    parameters: tuple[QueryParameter, ...]
    text: str

    def parameter(self, name: str) -> QueryParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def _parse_parameter(spec: str, where: str) -> QueryParameter:
    """`name type required|optional [default=VALUE]  description`."""
    words = spec.split()
    if len(words) < 3 or not _NAME.match(words[0]) or words[1] not in PARAMETER_TYPES:
        raise BuildError(f"{where}: bad param line {spec!r}: expected `name {'|'.join(PARAMETER_TYPES)} required|optional`")
    if words[2] not in ("required", "optional"):
        raise BuildError(f"{where}: param {words[0]!r} must say `required` or `optional`")
    rest = words[3:]
    default = rest.pop(0).removeprefix("default=") if rest and rest[0].startswith("default=") else None
    return QueryParameter(words[0], words[1], words[2] == "required", " ".join(rest), default)  # type: ignore[arg-type]


def parse_named_query(name: str, text: str, where: str = "") -> NamedQuery:
    """Read the header comment of one query; every declared parameter must occur as a variable."""
    where = where or name
    fields: dict[str, str] = {}
    parameters: list[QueryParameter] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            parameters.append(_parse_parameter(value, where))
        else:
            fields[key] = value
    if "title" not in fields:
        raise BuildError(f"{where}: the header has no `# title:` line")
    for parameter in parameters:
        if not re.search(rf"[?$]{parameter.name}\b", text):
            raise BuildError(f"{where}: parameter {parameter.name!r} is not a variable of the query")
    return NamedQuery(name, fields["title"], fields.get("description", ""), tuple(parameters), text)


def load_named_queries(directory: Path) -> dict[str, NamedQuery]:
    """Every `*.rq` file of the directory, by file stem, in name order."""
    queries = {}
    for path in sorted(Path(directory).glob("*.rq")):
        queries[path.stem] = parse_named_query(path.stem, path.read_text(encoding="utf-8"), str(path))
    return queries


def get_named_query(directory: Path, name: str) -> NamedQuery:
    """One named query, or NotFound listing the names there are."""
    queries = load_named_queries(directory)
    if name not in queries:
        raise NotFound(f"no query named {name!r}; known: {', '.join(queries) or 'none'}")
    return queries[name]


def to_term(parameter: QueryParameter, raw: str, store: Store | None = None) -> Term:
    """The RDF term for a parameter's text value, or InvalidParameter saying what is expected. An IRI parameter
    takes a full IRI, a CURIE or a bare local name, looked up in the store (`filmgraph.lookup.resolve_term`)."""
    try:
        if parameter.type == "iri":
            return resolve_term(store, raw)
        if parameter.type == "integer":
            return Literal(str(int(raw.strip())), datatype=NamedNode(XSD + "integer"))
        if parameter.type == "date":
            return Literal(dt.date.fromisoformat(raw.strip()).isoformat(), datatype=NamedNode(XSD + "date"))
        return Literal(raw)
    except ValueError as error:
        raise InvalidParameter(f"parameter {parameter.name!r} ({parameter.type}): {raw!r} is not valid: {error}") from error


def bind_parameters(query: NamedQuery, params: Mapping[str, str], store: Store | None = None) -> dict[str, Term]:
    """Check the given values against the declared parameters and convert them to terms (bare local names are
    looked up in `store`)."""
    unknown = sorted(set(params) - {p.name for p in query.parameters})
    if unknown:
        known = ", ".join(p.name for p in query.parameters) or "none"
        raise InvalidParameter(f"query {query.name!r} has no parameter {', '.join(unknown)} (parameters: {known})")
    bindings: dict[str, Term] = {}
    for parameter in query.parameters:
        raw = params.get(parameter.name)
        if raw is None or raw == "":
            raw = parameter.default
        if raw is None:
            if parameter.required:
                raise InvalidParameter(f"query {query.name!r} needs parameter {parameter.name!r} ({parameter.type})")
            continue
        bindings[parameter.name] = to_term(parameter, raw, store)
    return bindings


def _where_group(text: str) -> int:
    at = where_group_start(text)
    if at is None:
        raise BuildError("the query has no WHERE group")
    return at


def with_parameters(query: NamedQuery, bindings: Mapping[str, Term]) -> str:
    """The query text with one `VALUES` row per bound parameter at the head of its WHERE group, each term
    serialised by pyoxigraph (which validated it): a variable then holds its value everywhere in the query, also
    one used only in a FILTER or a SELECT expression. (The engine's substitutions refuse a variable the SELECT
    does not project, and a trailing VALUES, the remote backend's way, would not constrain it.)"""
    if not bindings:
        return query.text
    at = _where_group(query.text)
    rows = "".join(f"\n  {values_block(name, [term])}" for name, term in bindings.items())
    return query.text[:at] + rows + query.text[at:]



def run_named_query(
    store: Store, query: NamedQuery, params: Mapping[str, str] | None = None, timeout: float | None = None
) -> QueryResult:
    """Run a named query with its parameters bound as RDF terms."""
    return store.query(with_parameters(query, bind_parameters(query, params or {}, store)), timeout=timeout)


def run_named_query_serialized(
    store: Store, query: NamedQuery, media_type: str, params: Mapping[str, str] | None = None
) -> SerializedResult:
    """The same, serialised by the engine (SPARQL JSON/CSV/TSV/XML results) for files and the wire."""
    return store.query_serialized(with_parameters(query, bind_parameters(query, params or {}, store)), media_type)


def _compact(term: Term) -> str:
    if isinstance(term, NamedNode):
        return curie(term.value)
    return term.value if hasattr(term, "value") else str(term)


def render_table(result: QueryResult, max_width: int = 60) -> str:
    """A plain-text table for a terminal: IRIs as CURIEs, long values cut to `max_width` characters."""
    if result.kind == "ask":
        return "yes" if result.boolean else "no"

    def cell(row, name: str) -> str:
        text = _compact(row[name]) if name in row else ""
        text = " ".join(text.split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    header = result.variables
    body = [[cell(row, name) for name in header] for row in result.rows]
    widths = [max([len(name), *(len(line[i]) for line in body)]) for i, name in enumerate(header)]
    lines = ["  ".join(name.ljust(w) for name, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(value.ljust(w) for value, w in zip(line, widths, strict=True)) for line in body]
    lines.append(f"({len(body)} row{'s' if len(body) != 1 else ''})")
    return "\n".join(lines)

"""The W3C SPARQL 1.1 test suite, run against an endpoint over HTTP only: the SPARQL 1.1 Protocol for queries and
updates (each test's data too), the Graph Store Protocol to read back the graphs an update left.

The manifests and their files are vendored in `sparql11/` (see its NOTICE); their IRIs are the W3C's, so a test's
files are read from the folder and its queries are sent with `BASE <its W3C IRI>` (graph names such as
`<data.ttl>` then match the loaded graphs). Data files are parsed by pyoxigraph (lexical forms kept) and written, after a
`DROP ALL`, by one `INSERT DATA` per test. Answers are compared as RDF terms: solutions as multisets, blank nodes up to a consistent renaming,
order where the query orders by plain variables; graphs by rdflib's isomorphism.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

SUITE = Path(__file__).parent / "sparql11"
W3C = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
MANIFESTS = ("manifest-sparql11-query.ttl", "manifest-sparql11-update.ttl", "manifest-sparql11-results.ttl")
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RS = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
N_TRIPLES = "application/n-triples"
SKIPPED_KEYWORDS = {  # what the endpoint refuses by design, and why
    "SERVICE": "SERVICE: federation reaches other endpoints (off by default, and no network here)",
    "LOAD": "LOAD: the endpoint refuses to fetch a URL (403)",
}
RESULT_FORMATS = {
    ".srx": pyoxigraph.QueryResultsFormat.XML,
    ".srj": pyoxigraph.QueryResultsFormat.JSON,
    ".csv": pyoxigraph.QueryResultsFormat.CSV,
    ".tsv": pyoxigraph.QueryResultsFormat.TSV,
}
RESULT_ACCEPT = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}


@dataclass
class Case:
    """One test of a manifest: what to load, what to send, what to expect."""

    id: str  # folder/local name
    kind: str  # the mf: class's local name
    request: Path
    data: list[Path] = field(default_factory=list)
    graph_data: list[tuple[Path, str]] = field(default_factory=list)  # (file, graph name)
    result: Path | None = None
    result_data: list[Path] = field(default_factory=list)
    result_graphs: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class Outcome:
    case: Case
    status: str  # pass, fail, skip
    reason: str = ""


def local(iri: rdflib.term.Node) -> Path:
    return SUITE / str(iri).removeprefix(W3C)


def iri_of(path: Path) -> str:
    return W3C + path.relative_to(SUITE).as_posix()


# --- manifests ---------------------------------------------------------------------------------------------------
def cases() -> Iterator[Case]:
    for top in MANIFESTS:
        manifest = rdflib.Graph().parse(SUITE / top, format="turtle", publicID=iri_of(SUITE / top))
        for included in _items(manifest, next(manifest.objects(None, MF.include))):
            yield from _cases_of(local(included))


def _items(graph: rdflib.Graph, head: rdflib.term.Node) -> list[rdflib.term.Node]:
    return list(Collection(graph, head))


def _cases_of(path: Path) -> Iterator[Case]:
    graph = rdflib.Graph().parse(path, format="turtle", publicID=iri_of(path))
    entries = next(graph.objects(None, MF.entries))
    for entry in _items(graph, entries):
        kind = str(graph.value(entry, rdflib.RDF.type)).rsplit("#", 1)[-1]
        yield _case(graph, entry, f"{path.parent.name}/{str(entry).rsplit('#', 1)[-1]}", kind)


def _case(graph: rdflib.Graph, entry: rdflib.term.Node, case_id: str, kind: str) -> Case:
    action, result = graph.value(entry, MF.action), graph.value(entry, MF.result)
    if isinstance(action, rdflib.URIRef):  # a syntax test names its file
        return Case(case_id, kind, local(action))
    if kind == "UpdateEvaluationTest":
        case = Case(case_id, kind, local(graph.value(action, UT.request)))
        case.data = [local(d) for d in graph.objects(action, UT.data)]
        case.graph_data = _labelled_graphs(graph, action)
        case.result_data = [local(d) for d in graph.objects(result, UT.data)]
        case.result_graphs = _labelled_graphs(graph, result)
        return case
    case = Case(case_id, kind, local(graph.value(action, QT.query)), result=local(result))
    case.data = [local(d) for d in graph.objects(action, QT.data)]
    case.graph_data = [(local(g), str(g)) for g in graph.objects(action, QT.graphData)]
    return case


def _labelled_graphs(graph: rdflib.Graph, node: rdflib.term.Node) -> list[tuple[Path, str]]:
    return [(local(graph.value(g, UT.graph)), str(graph.value(g, rdflib.RDFS.label))) for g in graph.objects(node, UT.graphData)]


# --- the endpoint ------------------------------------------------------------------------------------------------
class Endpoint:
    """The SPARQL endpoint and Graph Store of one server; writes carry `authorization`."""

    def __init__(self, base: str, authorization: str, timeout: float = 30) -> None:
        self.sparql, self.graph_store = f"{base}/sparql", f"{base}/graph-store"
        self.client = httpx.Client(timeout=timeout, headers={"Authorization": authorization})

    def close(self) -> None:
        self.client.close()

    def prepare(self, default: list[Path], named: list[tuple[Path, str]]) -> None:
        """Empty the store and load a test's data in one update (one write per test, not one per file)."""
        steps = ["DROP ALL"] + [f"CREATE SILENT GRAPH <{name}>" for _, name in named]
        data = [_n_triples(path) for path in default]
        data += [f"GRAPH <{name}> {{ {_n_triples(path)} }}" for path, name in named]
        if any(part.strip() for part in data):
            steps.append("INSERT DATA { " + "\n".join(data) + " }")
        self.update(" ;\n".join(steps)).raise_for_status()

    def query(self, sparql: str, accept: str) -> httpx.Response:
        return self.client.post(self.sparql, data={"query": sparql}, headers={"Accept": accept})

    def update(self, sparql: str) -> httpx.Response:
        return self.client.post(self.sparql, data={"update": sparql})

    def graph(self, name: str | None) -> rdflib.Graph:
        params = {"graph": name} if name else {"default": ""}
        response = self.client.get(self.graph_store, params=params, headers={"Accept": N_TRIPLES})
        return _rdflib_graph(response.content if response.status_code == 200 else b"")

    def non_empty_graphs(self) -> set[str]:
        answer = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "application/sparql-results+json")
        return {row["g"]["value"] for row in answer.json()["results"]["bindings"]}


def _n_triples(path: Path) -> str:
    """A data file as N-Triples, parsed against its W3C IRI (blank node labels are unique per parse)."""
    triples = pyoxigraph.parse(path=str(path), base_iri=iri_of(path), format=_rdf_format(path))
    return (pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


def _rdf_format(path: Path) -> pyoxigraph.RdfFormat:
    return pyoxigraph.RdfFormat.from_extension(path.suffix.lstrip(".")) or pyoxigraph.RdfFormat.TURTLE


def _rdflib_graph(n_triples: bytes, *, path: Path | None = None) -> rdflib.Graph:
    """A graph as rdflib terms, read by pyoxigraph (lexical forms kept, xsd:string literals as simple ones)."""
    triples = (
        pyoxigraph.parse(path=str(path), base_iri=iri_of(path), format=_rdf_format(path))
        if path is not None
        else pyoxigraph.parse(n_triples, format=pyoxigraph.RdfFormat.N_TRIPLES)
    )
    graph = rdflib.Graph()
    for quad in triples:
        graph.add((_rdflib(quad.subject), _rdflib(quad.predicate), _rdflib(quad.object)))
    return graph


def _rdflib(term):
    if isinstance(term, pyoxigraph.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language.lower(), normalize=False)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


# --- running one case --------------------------------------------------------------------------------------------
def run(endpoint: Endpoint, case: Case) -> Outcome:
    text = case.request.read_text(encoding="utf-8")
    for keyword, reason in SKIPPED_KEYWORDS.items():
        if re.search(rf"\b{keyword}\b", text, re.IGNORECASE):
            return Outcome(case, "skip", reason)
    sent = f"BASE <{iri_of(case.request)}>\n{text}"
    try:
        endpoint.prepare(case.data, case.graph_data)
        reason = CHECKS[case.kind](endpoint, case, sent)
    except (httpx.HTTPError, ValueError, SyntaxError, KeyError) as error:
        reason = f"{type(error).__name__}: {error}"
    return Outcome(case, "fail" if reason else "pass", reason or "")


def _positive_syntax(endpoint: Endpoint, case: Case, sent: str) -> str | None:
    """A well-formed text is accepted; an update that cannot run (404, 409: a missing graph) was still parsed."""
    update = "Update" in case.kind
    response = endpoint.update(sent) if update else endpoint.query(sent, "application/sparql-results+json, */*")
    accepted = response.status_code < 400 or (update and response.status_code in (404, 409))
    return None if accepted else f"valid text refused: {response.status_code} {response.text[:200]}"


def _negative_syntax(endpoint: Endpoint, case: Case, sent: str) -> str | None:
    update = "Update" in case.kind
    response = endpoint.update(sent) if update else endpoint.query(sent, "application/sparql-results+json, */*")
    return None if response.status_code == 400 else f"invalid text answered {response.status_code}, not 400"


def _query_evaluation(endpoint: Endpoint, case: Case, sent: str) -> str | None:
    assert case.result is not None
    if case.result.suffix in RESULT_FORMATS or _is_result_set(case.result):
        accept = RESULT_ACCEPT.get(case.result.suffix, "application/sparql-results+json")
        response = endpoint.query(sent, accept)
        if response.status_code != 200:
            return f"answered {response.status_code}: {response.text[:200]}"
        actual_format = RESULT_FORMATS[case.result.suffix] if case.result.suffix in RESULT_ACCEPT else RESULT_FORMATS[".srj"]
        return _compare_solutions(_expected_solutions(case.result), _solutions(response.content, actual_format), sent)
    response = endpoint.query(sent, N_TRIPLES)
    if response.status_code != 200:
        return f"answered {response.status_code}: {response.text[:200]}"
    expected = _rdflib_graph(b"", path=case.result)
    return None if isomorphic(expected, _rdflib_graph(response.content)) else "the constructed graph differs"


def _update_evaluation(endpoint: Endpoint, case: Case, sent: str) -> str | None:
    response = endpoint.update(sent)
    if response.status_code >= 300:
        return f"update answered {response.status_code}: {response.text[:200]}"
    expected_default = rdflib.Graph()
    for path in case.result_data:
        expected_default += _rdflib_graph(b"", path=path)
    if not isomorphic(expected_default, endpoint.graph(None)):
        return "the default graph differs"
    for path, name in case.result_graphs:
        if not isomorphic(_rdflib_graph(b"", path=path), endpoint.graph(name)):
            return f"graph <{name}> differs"
    expected_names = {name for path, name in case.result_graphs if len(_rdflib_graph(b"", path=path))}
    extra = endpoint.non_empty_graphs() - expected_names
    return f"unexpected non-empty graphs {sorted(extra)}" if extra else None


CHECKS = {
    "PositiveSyntaxTest11": _positive_syntax,
    "PositiveUpdateSyntaxTest11": _positive_syntax,
    "NegativeSyntaxTest11": _negative_syntax,
    "NegativeUpdateSyntaxTest11": _negative_syntax,
    "QueryEvaluationTest": _query_evaluation,
    "CSVResultFormatTest": _query_evaluation,
    "UpdateEvaluationTest": _update_evaluation,
}


# --- solutions ---------------------------------------------------------------------------------------------------
Key = tuple  # a term as a comparable tuple: ("iri", v), ("bnode", label), ("literal", lexical, datatype, language)
Solutions = list[dict[str, Key]] | bool


XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + name for name in ("integer", "decimal", "float", "double", "int", "long", "short", "byte",
                                    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}  # fmt: skip


def _literal(lexical: str, datatype: str | None, language: str) -> Key:
    """A literal's key; numbers and booleans of one datatype by value ("2.0" and "2" are one decimal), the only
    leeway: the value, not its spelling, is what the queries compute."""
    if datatype in NUMERIC:
        try:
            return ("literal", Decimal(lexical.strip()), datatype, "")
        except InvalidOperation:
            pass
    if datatype == XSD + "boolean" and lexical.strip() in ("true", "false", "1", "0"):
        return ("literal", lexical.strip() in ("true", "1"), datatype, "")
    return ("literal", lexical, datatype, language.lower())


def _key(term) -> Key:
    if isinstance(term, pyoxigraph.NamedNode | rdflib.URIRef):
        return ("iri", str(term.value if isinstance(term, pyoxigraph.NamedNode) else term))
    if isinstance(term, pyoxigraph.BlankNode | rdflib.BNode):
        return ("bnode", str(term.value if isinstance(term, pyoxigraph.BlankNode) else term))
    if isinstance(term, rdflib.Literal):
        datatype = str(term.datatype) if term.datatype else (None if term.language else XSD + "string")
        return _literal(str(term), datatype, term.language or "")
    return _literal(term.value, None if term.language else term.datatype.value, term.language or "")


def _solutions(body: bytes, format: pyoxigraph.QueryResultsFormat) -> Solutions:
    if format == pyoxigraph.QueryResultsFormat.CSV:  # lossy, so pyoxigraph does not read it: compared as text
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        return [{name: _csv_key(value) for name, value in zip(rows[0], row) if value} for row in rows[1:] if row]
    parsed = pyoxigraph.parse_query_results(body, format=format)
    if isinstance(parsed, pyoxigraph.QueryBoolean):
        return bool(parsed)
    names = [variable.value for variable in parsed.variables]
    return [{name: _key(row[name]) for name in names if row[name] is not None} for row in parsed]


def _csv_key(value: str) -> Key:
    return ("bnode", value[2:]) if value.startswith("_:") else ("text", value)


def _is_result_set(path: Path) -> bool:
    return path.suffix in (".ttl", ".rdf") and b"result-set#" in path.read_bytes()


def _expected_solutions(path: Path) -> Solutions:
    if path.suffix in RESULT_FORMATS:
        return _solutions(path.read_bytes(), RESULT_FORMATS[path.suffix])
    graph = _rdflib_graph(b"", path=path)  # the result-set vocabulary, in Turtle or RDF/XML
    result = next(graph.subjects(rdflib.RDF.type, RS.ResultSet))
    boolean = graph.value(result, RS.boolean)
    if boolean is not None:
        return str(boolean) == "true"
    return [
        {str(graph.value(b, RS.variable)): _key(graph.value(b, RS.value)) for b in graph.objects(solution, RS.binding)}
        for solution in graph.objects(result, RS.solution)
    ]


def _compare_solutions(expected: Solutions, actual: Solutions, sent: str) -> str | None:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return None if expected == actual else f"ASK: expected {expected}, got {actual}"
    if len(expected) != len(actual):
        return f"{len(expected)} solutions expected, {len(actual)} returned"
    if not _same_multiset(expected, actual):
        missing = [row for row in expected if row not in actual][:2]
        return f"the solutions differ (expected, not returned: {missing})"
    keys = _order_keys(sent)
    if keys and not _has_bnodes(expected) and [_pick(r, keys) for r in expected] != [_pick(r, keys) for r in actual]:
        return f"not in the order of ORDER BY {' '.join(keys)}"
    return None


def _has_bnodes(rows: list[dict[str, Key]]) -> bool:
    return any(term[0] == "bnode" for row in rows for term in row.values())


def _same_multiset(expected: list[dict[str, Key]], actual: list[dict[str, Key]]) -> bool:
    frozen = lambda rows: Counter(frozenset(row.items()) for row in rows)  # noqa: E731
    if not _has_bnodes(expected) and not _has_bnodes(actual):
        return frozen(expected) == frozen(actual)
    return _match(expected, actual, {}, set())


def _match(expected: list[dict], actual: list[dict], mapping: dict, used: set) -> bool:
    """Backtracking over rows: a renaming of blank nodes, consistent over the whole result, that maps each expected
    row onto a distinct actual one (the results with blank nodes in the suite have a few rows)."""
    if not expected:
        return True
    row, rest = expected[0], expected[1:]
    for index, candidate in enumerate(actual):
        unified = _unify(row, candidate, mapping, used)
        if unified is not None and _match(rest, actual[:index] + actual[index + 1 :], *unified):
            return True
    return False


def _unify(row: dict, candidate: dict, mapping: dict, used: set) -> tuple[dict, set] | None:
    if row.keys() != candidate.keys():
        return None
    mapping, used = dict(mapping), set(used)
    for name, term in row.items():
        other = candidate[name]
        if term[0] != "bnode" or other[0] != "bnode":
            if term != other:
                return None
        elif term in mapping:
            if mapping[term] != other:
                return None
        elif other in used:
            return None
        else:
            mapping[term], used = other, used | {other}
    return mapping, used


_ORDER_BY = re.compile(r"ORDER\s+BY((?:\s+(?:\?\w+|(?:ASC|DESC)\s*\(\s*\?\w+\s*\)))+)\s*(?:LIMIT|OFFSET|$)", re.I)


def _order_keys(sent: str) -> list[str]:
    """The variables of a final ORDER BY made only of plain variables (else order is not checked)."""
    match = _ORDER_BY.search(sent.strip())
    return re.findall(r"\?(\w+)", match.group(1)) if match else []


def _pick(row: dict[str, Key], keys: list[str]) -> tuple:
    return tuple(row.get(key) for key in keys)

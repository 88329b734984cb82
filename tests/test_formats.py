"""The format registry (filmgraph.formats): one home for media types, and `format=` names that mean one thing.

The guard scans the package's source: a media type the registry knows, written as a string anywhere but
formats.py, is a second table in the making and fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import DefaultGraph, NamedNode, QueryResultsFormat, RdfFormat, parse

import filmgraph
from filmgraph import formats
from filmgraph.api.export import VOID_MEDIA_TYPES
from filmgraph.api.sparql import DESCRIPTION_TYPES
from filmgraph.errors import UnsupportedFormat
from filmgraph.export import FORMATS as EXPORT_FORMATS, parse_format
from filmgraph.formats import FORMATS, JSON_LD, PLAIN_JSON, SPARQL_JSON, named

PACKAGE = Path(filmgraph.__file__).parent
REGISTRY = PACKAGE / "formats.py"
KNOWN = {t for f in FORMATS for t in f.media_types} | {formats.PLAIN_TEXT}
MEDIA_TYPE = re.compile(r"[a-z]+/[a-z0-9.+-]+")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the nodes that are docstrings (a module's, class's or function's first string)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def media_type_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of `path` (docstrings aside, f-string parts included) that names a known media type."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for media_type in MEDIA_TYPE.findall(node.value.lower()):
                if media_type in KNOWN:
                    hits.append((node.lineno, media_type))
    return hits


def test_media_types_are_written_only_in_the_registry():
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {media_type}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != REGISTRY
        for line, media_type in media_type_literals(path)
    ]
    assert found == [], "media types belong in filmgraph/formats.py:\n" + "\n".join(found)


def test_the_guard_sees_a_table(tmp_path):
    table = tmp_path / "table.py"
    table.write_text('"""A docstring may say text/turtle."""\nTYPES = {"turtle": "text/turtle; charset=utf-8"}\n')
    assert media_type_literals(table) == [(2, "text/turtle")]


def test_the_registry_agrees_with_pyoxigraph():
    for f in FORMATS:
        if f.rdf is not None:
            assert RdfFormat.from_media_type(f.media_type) == f.rdf and f.extension == f.rdf.file_extension
        if f.results is not None:
            assert QueryResultsFormat.from_media_type(f.media_type) == f.results
            assert f.extension == f.results.file_extension
            assert all(QueryResultsFormat.from_media_type(alias) == f.results for alias in f.aliases)
    assert RdfFormat.from_media_type(formats.PLAIN_TEXT) == RdfFormat.N_TRIPLES


def test_a_name_means_one_format_per_query_form():
    for form in ("solutions", "boolean", "graph"):
        serving = [f for f in FORMATS if form in f.forms]
        names = [name for f in serving for name in f.names]
        assert len(names) == len(set(names)), form
    everywhere = [name for f in FORMATS for name in f.names]
    assert {n for n in everywhere if everywhere.count(n) > 1} == {"json", "xml"}  # results vs graph, as on /sparql
    assert named("json", "solutions") == SPARQL_JSON and named("json", "graph") == JSON_LD
    assert named("rows") == PLAIN_JSON


# --- `format=json` is SPARQL results JSON (JSON-LD for a graph) on every route and in the CLI ---------------------
SELECT = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?name WHERE { <https://w3id.org/filmgraph/id/russian-state-fund> skos:prefLabel ?name }"""
HEADS = {"institution": "russian-state-fund"}


def _sparql_json(text: str, variable: str) -> list[str]:
    return [b[variable]["value"] for b in json.loads(text)["results"]["bindings"]]


def test_format_json_on_sparql_is_sparql_results_json_or_json_ld(rest):
    select = rest.get("/sparql", params={"query": SELECT, "format": "json"})
    assert select.headers["content-type"].startswith(SPARQL_JSON.media_type)
    assert _sparql_json(select.text, "name") == ["Russian State Fund"]
    construct = rest.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "format": "json"})
    assert construct.headers["content-type"].startswith(JSON_LD.media_type)


def test_format_json_on_api_queries_is_sparql_results_json_and_rows_are_the_default(rest):
    rows = rest.get("/api/queries/who-heads-what", params=HEADS)
    assert rows.headers["content-type"].startswith(PLAIN_JSON.media_type)
    assert [r["holderLabel"] for r in rows.json()["rows"]] == ["Sergei Tolstikov"]
    assert rest.get("/api/queries/who-heads-what", params={**HEADS, "format": "rows"}).json() == rows.json()
    by_accept = rest.get("/api/queries/who-heads-what", params=HEADS, headers={"Accept": "application/json"})
    assert by_accept.json() == rows.json()
    for name in ("json", "srj"):
        answer = rest.get("/api/queries/who-heads-what", params={**HEADS, "format": name})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(SPARQL_JSON.media_type)
        assert _sparql_json(answer.text, "holderLabel") == ["Sergei Tolstikov"]
    xml = rest.get("/api/queries/who-heads-what", params={**HEADS, "format": "xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml") and "<sparql" in xml.text
    refused = rest.get("/api/queries/who-heads-what", params={**HEADS, "format": "turtle"})
    assert refused.status_code == 422 and "rows, csv, tsv, json, srj, xml, srx" in refused.json()["detail"]


def test_format_json_on_export_is_json_ld(rest):
    answer = rest.get("/export", params={"format": "json", "subset": "ontology"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(JSON_LD.media_type)
    assert parse_format("json") == parse_format("jsonld") == EXPORT_FORMATS["jsonld"]
    assert parse_format("ttl") == EXPORT_FORMATS["turtle"]
    with pytest.raises(UnsupportedFormat, match="valid formats: turtle, ntriples, trig, nquads, jsonld, rdfxml"):
        parse_format("csv")  # a results format is not a graph format


def test_format_json_in_the_cli_is_sparql_results_json(built_store_path, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    base = [sys.executable, "-m", "filmgraph.cli", "query", "who-heads-what", "--store", str(store),
            "--param", "institution=russian-state-fund", "--format"]  # fmt: skip

    def run(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([*base, name], capture_output=True, text=True, timeout=120)

    assert _sparql_json(run("json").stdout, "holderLabel") == ["Sergei Tolstikov"]
    assert [row["holderLabel"] for row in csv.DictReader(io.StringIO(run("csv").stdout))] == ["Sergei Tolstikov"]
    refused = run("rows")
    assert refused.returncode != 0 and "use table, json, xml, csv, tsv" in refused.stderr


@pytest.mark.parametrize("media_type", DESCRIPTION_TYPES)
def test_the_service_description_is_served_in_every_format_it_offers(rest, media_type):
    """N-Quads was a 500: rdflib writes it only from a context-aware store; TriG named its graph by a blank node."""
    answer = rest.get("/sparql", headers={"Accept": media_type})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(media_type)
    rdf_format = RdfFormat.from_media_type(media_type)
    statements = list(parse(answer.content, rdf_format, base_iri="http://testserver/sparql"))
    assert any(q.object == NamedNode("http://www.w3.org/ns/sparql-service-description#Service") for q in statements)
    assert {q.graph_name for q in statements} == {DefaultGraph()}  # TriG put it in a graph named by a blank node


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/sparql", t) for t in DESCRIPTION_TYPES] + [("/.well-known/void", t) for t in VOID_MEDIA_TYPES],
)
def test_the_service_description_and_void_are_the_same_bytes_each_time(rest, path, media_type):
    """They varied from one request to the next (fresh blank node labels, rdflib's order): a description a user
    saves and diffs, or cites, must change only when what it describes changes."""
    first, second = (rest.get(path, headers={"Accept": media_type}) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content


def test_a_wrong_method_on_sparql_is_the_projects_405_with_allow(rest):
    refused = rest.put("/sparql", content="x")
    assert refused.status_code == 405 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Method not allowed"  # errors.MethodNotAllowed, not FastAPI's HTTPException
    assert refused.headers["allow"] == "GET, HEAD, POST"

"""Research questions as endpoints: listing, typed parameters bound as terms, formats, errors, OpenAPI.

Most tests use questions written here (so every parameter type is covered); the last ones call the project's own
`queries/*.rq` and check that each is listed, documented and answers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from filmgraph.api import create_app
from filmgraph.named_queries import load_named_queries
from filmgraph.settings import Settings, get_settings
from filmgraph.store import Store

HEADS = """\
# title: Who heads which institution
# description: Holders of posts and the institution each post is in.
# param: institution iri optional  The institution (IRI, CURIE or local name).
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?institution ?person ?name WHERE {
  ?post org:postIn ?institution ; org:heldBy ?person .
  ?person skos:prefLabel ?name .
} ORDER BY ?name
"""
TIMES = """\
# title: Times by their latest date
# description: Times as the article words them whose latest possible date is the given one.
# param: latest date required  The date (YYYY-MM-DD).
# param: worded string optional  The article's exact words.
PREFIX fg: <https://w3id.org/filmgraph/ontology#>
SELECT ?time ?worded ?latest WHERE { ?time fg:asWorded ?worded ; fg:notAfter ?latest } ORDER BY ?worded
"""
NAMED = """\
# title: Things by name
# description: What carries a label; the name is used only in a FILTER, never projected.
# param: name string required  The label's text.
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing WHERE { ?thing skos:prefLabel ?label FILTER(STR(?label) = ?name) }
"""
SESSIONS = """\
# title: Forum sessions by number
# description: The forum session with a given ordinal.
# param: ordinal integer optional default=10  Its number.
PREFIX fg: <https://w3id.org/filmgraph/ontology#>
SELECT ?session ?ordinal WHERE { ?session fg:ordinal ?ordinal }
"""


@pytest.fixture(scope="session")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("queries")
    (directory / "heads.rq").write_text(HEADS, encoding="utf-8")
    (directory / "times.rq").write_text(TIMES, encoding="utf-8")
    (directory / "sessions.rq").write_text(SESSIONS, encoding="utf-8")
    (directory / "named.rq").write_text(NAMED, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def asking(any_store: Store, questions: Path):
    with TestClient(create_app(Settings(queries_dir=questions), store=any_store)) as client:
        yield client


def _rows(client: TestClient, question: str, **params: str) -> list[dict]:
    response = client.get(f"/api/queries/{question}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["rows"])
    return body["rows"]


def test_list_describes_each_question_and_its_parameters(asking):
    listing = asking.get("/api/queries").json()
    assert [q["name"] for q in listing["queries"]] == ["heads", "named", "sessions", "times"]
    heads = listing["queries"][0]
    assert heads["title"] == "Who heads which institution" and heads["url"] == "/api/queries/heads"
    assert [(p["name"], p["type"], p["required"]) for p in heads["parameters"]] == [("institution", "iri", False)]
    times = listing["queries"][3]
    assert [(p["name"], p["type"], p["required"]) for p in times["parameters"]] == [
        ("latest", "date", True),
        ("worded", "string", False),
    ]


def test_parameters_are_bound_as_terms(asking):
    everyone = [row["name"] for row in _rows(asking, "heads")]
    assert everyone == ["Nikita Mikhalkov", "Sergei Tolstikov"]  # the Culture Minister's post is of a state, in no institution
    for spelling in ("russian-state-fund", "fgid:russian-state-fund", "https://w3id.org/filmgraph/id/russian-state-fund"):
        assert [row["name"] for row in _rows(asking, "heads", institution=spelling)] == ["Sergei Tolstikov"]
    assert [row["worded"] for row in _rows(asking, "times", latest="2010-08-31")] == ["this summer"]
    assert [row["time"] for row in _rows(asking, "times", latest="2009-12-31", worded="last year")] == [
        "https://w3id.org/filmgraph/id/time-2009"
    ]
    assert _rows(asking, "times", latest="2010-08-31", worded="last year") == []
    assert [row["session"] for row in _rows(asking, "sessions")] == ["https://w3id.org/filmgraph/id/petersburg-dialogue-10"]
    assert _rows(asking, "sessions", ordinal="9") == []


@pytest.mark.parametrize(
    ("question", "params"),
    [
        ("times", {}),  # `latest` is required
        ("times", {"latest": "summer"}),
        ("sessions", {"ordinal": "tenth"}),
        ("times", {"latest": "2010-08-31", "unknown": "1"}),
        ("times", {"latest": "2010-08-31", "format": "pdf"}),
    ],
)
def test_invalid_parameters_are_422_naming_the_problem(asking, question, params):
    response = asking.get(f"/api/queries/{question}", params=params)
    assert response.status_code == 422
    assert response.json()["status"] == 422 and response.json()["detail"]


def test_a_parameter_used_only_in_a_filter_is_bound(asking):
    rows = _rows(asking, "named", name="Russian State Fund")
    assert rows == [{"thing": "https://w3id.org/filmgraph/id/russian-state-fund"}]
    csv_rows = asking.get("/api/queries/named", params={"name": "Russian State Fund", "format": "csv"})
    assert csv_rows.status_code == 200 and csv_rows.text.splitlines()[1:] == [rows[0]["thing"]]


def test_iri_parameters_take_a_curie_or_a_bare_local_name(asking):
    full = _rows(asking, "heads", institution="https://w3id.org/filmgraph/id/russian-state-fund")
    assert len(full) == 1
    assert _rows(asking, "heads", institution="fgid:russian-state-fund") == full
    assert _rows(asking, "heads", institution="russian-state-fund") == full


def test_a_parameter_given_twice_is_422(asking):
    assert asking.get("/api/queries/times?latest=2010-08-31&latest=2009-12-31").status_code == 422


@pytest.mark.parametrize(
    "attack",
    ['Sergei Tolstikov" } UNION { ?post ?p ?o } #', "x> } UNION { ?s ?p ?o", "} UNION {", "a b"],
)
def test_injection_is_refused_or_bound_as_a_plain_value(asking, attack):
    assert asking.get("/api/queries/heads", params={"institution": attack}).status_code == 422
    assert _rows(asking, "times", latest="2010-08-31", worded=attack) == []  # a literal no time is worded as


def test_formats_by_parameter_and_by_accept(asking):
    expected = _rows(asking, "heads", institution="russian-state-fund")
    by_format = asking.get("/api/queries/heads", params={"institution": "russian-state-fund", "format": "csv"})
    assert by_format.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(by_format.text))) == expected
    tsv = asking.get("/api/queries/heads?format=tsv&institution=russian-state-fund")
    assert tsv.headers["content-type"].startswith("text/tab-separated-values") and "\"Sergei Tolstikov\"" in tsv.text
    srj = asking.get(
        "/api/queries/heads", params={"institution": "russian-state-fund"},
        headers={"Accept": "application/sparql-results+json"},
    )
    bindings = json.loads(srj.text)["results"]["bindings"]
    assert [b["name"]["value"] for b in bindings] == ["Sergei Tolstikov"]
    srx = asking.get("/api/queries/heads?format=srx")
    assert srx.headers["content-type"].startswith("application/sparql-results+xml") and "<sparql" in srx.text
    assert asking.get("/api/queries/heads", headers={"Accept": "image/png"}).status_code == 406


def test_unknown_question_is_404_and_answers_are_cacheable(asking):
    missing = asking.get("/api/queries/no-such-question")
    assert missing.status_code == 404 and "heads" in missing.json()["detail"]
    first = asking.get("/api/queries/heads")
    assert asking.get("/api/queries/heads", headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_each_question_is_documented_in_openapi_with_typed_parameters(asking):
    schema = asking.get("/openapi.json").json()
    operation = schema["paths"]["/api/queries/times"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["latest"]["required"] is True and parameters["latest"]["schema"]["format"] == "date"
    assert parameters["worded"]["required"] is False and parameters["worded"]["schema"] == {"type": "string"}
    sessions = schema["paths"]["/api/queries/sessions"]["get"]["parameters"]
    assert sessions[0]["schema"] == {"type": "integer", "default": 10}
    assert set(operation["responses"]["200"]["content"]) >= {"application/json", "text/csv"}


def test_the_projects_questions_are_all_served(rest):
    project = load_named_queries(get_settings().queries_dir)
    listing = rest.get("/api/queries").json()
    assert [q["name"] for q in listing["queries"]] == list(project) and len(project) >= 12
    schema = rest.get("/openapi.json").json()
    for name, query in project.items():
        documented = {p["name"] for p in schema["paths"][f"/api/queries/{name}"]["get"]["parameters"]}
        assert documented == {p.name for p in query.parameters} | {"format"}
        defaults = {p.name: p.default for p in query.parameters if p.required and p.default}
        if not any(p.required and not p.default for p in query.parameters):
            response = rest.get(f"/api/queries/{name}", params=defaults)
            assert response.status_code == 200, (name, response.text)


def test_who_heads_the_fund_as_a_url(rest):
    """A research question called the way a spreadsheet would: a URL with a parameter, CSV back."""
    rows = _rows(rest, "who-heads-what", institution="russian-state-fund")
    assert [(r["holderLabel"], r["roleLabel"], r["institutionLabel"]) for r in rows] == [
        ("Sergei Tolstikov", "head", "Russian State Fund")
    ]
    table = rest.get("/api/queries/who-heads-what?format=csv&institution=russian-state-fund").text
    assert list(csv.DictReader(io.StringIO(table)))[0]["holder"] == "https://w3id.org/filmgraph/id/sergei-tolstikov"


def test_answers_negotiated_by_accept_say_vary_accept(asking):
    for headers in ({}, {"Accept": "text/csv"}, {"Accept": "application/sparql-results+json"}):
        response = asking.get("/api/queries/heads", params={"institution": "russian-state-fund"}, headers=headers)
        assert response.status_code == 200 and "accept" in response.headers["vary"].casefold()

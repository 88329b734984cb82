"""The workbench's server side: the editor's ready tabs run as shipped, and without the npm assets every page
still answers (saying what is missing), never a 5xx. The browser itself is driven in tests/browser/."""

from __future__ import annotations

import pytest

from filmgraph.api import assets

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_every_research_question_is_a_tab_that_runs_with_its_example(rest):
    config = rest.get("/api/workbench/tabs").json()
    names = {query["name"] for query in rest.get("/api/queries").json()["queries"]}
    assert {tab["name"] for tab in config["tabs"]} == names
    assert config["prefixes"]["fgid"] == "https://w3id.org/filmgraph/id/"
    answered = 0
    for tab in config["tabs"]:
        response = rest.post("/sparql", data={"query": tab["query"]}, headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, (tab["name"], response.text)
        answered += bool(response.json()["results"]["bindings"])
    statements = next(tab for tab in config["tabs"] if tab["name"] == "statements-about")
    assert statements["example"] == {"entity": "fgid:spain"}  # the example its header gives
    assert "VALUES (?entity) { (<https://w3id.org/filmgraph/id/spain>) }" in statements["query"]
    assert answered >= len(config["tabs"]) - 2  # the examples find something: a tab that shows rows


@pytest.fixture
def no_vendor_files(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path / "vendor")


@pytest.mark.usefixtures("no_vendor_files")
@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_without_the_assets_the_api_docs_are_a_plain_list_of_operations(rest, path):
    page = rest.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert "not installed" in page.text and "make setup" in page.text
    assert "<code>/api/entities/{id}</code>" in page.text and "/static/vendor/" not in page.text


@pytest.mark.usefixtures("no_vendor_files")
def test_without_the_assets_the_graph_view_lists_the_neighbours(rest):
    page = rest.get("/graph/russian-state-fund", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert "not installed" in page.text and '<a href="/id/sergei-tolstikov">Sergei Tolstikov</a>' in page.text
    assert "cytoscape.min.js" not in page.text


def test_with_the_assets_the_docs_load_only_local_files(rest):
    for path in ("/docs", "/redoc"):
        page = rest.get(path).text
        assert "cdn" not in page.lower() and "fonts.googleapis" not in page and "/static/vendor/" in page
    assert rest.get("/graph/no-such-entity").status_code == 404

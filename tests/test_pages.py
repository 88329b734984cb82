"""Dereferenceable entity IRIs: the HTML page for browsers, Turtle / JSON-LD / N-Triples for linked-data clients."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import rdflib
from rdflib import RDF, SKOS, URIRef

import filmgraph

from api_support import SOURCE_ID

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FGID = rdflib.Namespace("https://w3id.org/filmgraph/id/")
FG = rdflib.Namespace("https://w3id.org/filmgraph/ontology#")
ORG = rdflib.Namespace("http://www.w3.org/ns/org#")
NIF = rdflib.Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")


def _graph(response: httpx.Response, rdflib_format: str) -> rdflib.Graph:
    assert response.status_code == 200, response.text
    return rdflib.Graph().parse(data=response.content, format=rdflib_format)


def _assert_describes_the_fund(graph: rdflib.Graph, source_text: str) -> None:
    fund, tolstikov = FGID["russian-state-fund"], FGID["sergei-tolstikov"]
    assert (fund, SKOS.prefLabel, rdflib.Literal("Russian State Fund", lang="en")) in graph
    assert (fund, RDF.type, FG.StateFilmFund) in graph
    assert (tolstikov, ORG.headOf, fund) in graph
    # labels of what it links to
    assert (tolstikov, SKOS.prefLabel, rdflib.Literal("Sergei Tolstikov", lang="en")) in graph
    # the provenance of the claim that he heads it, down to the span
    [claim] = [c for c in graph.subjects(RDF.subject, tolstikov) if (c, RDF.object, fund) in graph]
    [span] = graph.objects(claim, FG.evidence)
    begin, end = int(graph.value(span, NIF.beginIndex)), int(graph.value(span, NIF.endIndex))
    assert str(graph.value(span, NIF.anchorOf)) == source_text[begin:end] == "the head of the Fund, Sergei Tolstikov"


def test_browser_gets_a_readable_page_with_links_and_evidence(rest):
    response = rest.get("/id/russian-state-fund", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    page = response.text
    assert "<h1>Russian State Fund</h1>" in page
    assert '<a href="/id/sergei-tolstikov">Sergei Tolstikov</a>' in page
    assert "“the head of the Fund, Sergei Tolstikov”" in page
    assert f'<a href="/id/{SOURCE_ID}">' in page
    assert "(inferred)" in page  # its inferred classes are marked
    assert '<link rel="alternate" type="text/turtle" href="/id/russian-state-fund.ttl">' in page


def test_turtle_by_accept_and_by_extension(rest, source_text):
    by_accept = _graph(rest.get("/id/russian-state-fund", headers={"Accept": "text/turtle"}), "turtle")
    by_extension = _graph(rest.get("/id/russian-state-fund.ttl"), "turtle")
    assert set(by_accept) == set(by_extension)
    _assert_describes_the_fund(by_accept, source_text)


def test_json_ld_and_n_triples_carry_the_same_description(rest, source_text):
    turtle = _graph(rest.get("/id/russian-state-fund.ttl"), "turtle")
    jsonld = _graph(rest.get("/id/russian-state-fund", headers={"Accept": "application/ld+json"}), "json-ld")
    ntriples = _graph(rest.get("/id/russian-state-fund.nt"), "nt")
    assert set(jsonld) == set(turtle) == set(ntriples)
    _assert_describes_the_fund(jsonld, source_text)


def test_rdf_xml_by_accept_and_by_extension_carries_the_same_description(rest, source_text):
    turtle = _graph(rest.get("/id/russian-state-fund.ttl"), "turtle")
    by_accept = rest.get("/id/russian-state-fund", headers={"Accept": "application/rdf+xml"})
    assert by_accept.headers["content-type"].startswith("application/rdf+xml")
    by_extension = _graph(rest.get("/id/russian-state-fund.rdf"), "xml")
    assert set(_graph(by_accept, "xml")) == set(by_extension) == set(turtle)
    _assert_describes_the_fund(by_extension, source_text)


def test_unacceptable_and_unknown(rest):
    assert rest.get("/id/russian-state-fund", headers={"Accept": "image/png"}).status_code == 406
    missing = rest.get("/id/no-such-entity.ttl")
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_an_iri_opened_on_a_running_server_shows_a_page(live_server):
    with httpx.Client(base_url=live_server, timeout=30) as client:
        page = client.get("/id/cinecitta-luce", headers={"Accept": BROWSER_ACCEPT})
        assert page.status_code == 200 and "<h1>Cinecittà Luce</h1>" in page.text
        assert '<a href="/id/italy">Italy</a>' in page.text
        card = client.get("/api/entities/cinecitta-luce").json()
        assert card["label"] == "Cinecittà Luce" and URIRef(card["iri"]) == FGID["cinecitta-luce"]


def test_a_source_page_shows_its_text_with_every_evidence_span_highlighted(rest, source_text):
    response = rest.get(f"/id/{SOURCE_ID}", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    page = response.text
    start = page.index('<div class="text reader">') + len('<div class="text reader">')
    text = page[start : page.index("</div>", start)]
    segments = re.findall(r'<a class="seg [^"]*" id="seg-(\d+)" href="#([^"]*)" title="[^"]*">(.*?)</a>', text, flags=re.S)
    assert html.unescape(re.sub(r"<[^>]+>", "", text)) == source_text  # the whole text, nothing added or lost
    assert html.unescape("".join(s for _, _, s in segments)).count("the head of the Fund, Sergei Tolstikov") == 1
    sources = rest.get(f"/api/sources/{SOURCE_ID}").json()
    evidence = [(c["claim"]["id"], e) for c in sources["claim_list"] for e in c["provenance"]["evidence"]]
    covered = {i for _, e in evidence for i in range(e["begin"], e["end"])}
    assert sum(len(html.unescape(s)) for _, _, s in segments) == len(covered)
    for begin, target, _ in segments:  # each highlight links to a passage that covers it
        b, e = map(int, target.removeprefix("span-").split("-"))
        assert b <= int(begin) < e and f'id="{target}"' in page
    spans = {(e["begin"], e["end"]) for _, e in evidence}
    assert page.count('<li id="span-') == len(spans)  # one passage per span, listing its claims
    assert page.count('<li class="claim">') == len(evidence)  # every claim under every span of its
    for claim, e in evidence:
        assert f'href="/id/{claim}"' in page and f'href="#seg-{e["begin"]}"' in page  # claim out, span back


def test_only_web_iris_become_links_on_an_entity_page(tmp_path):
    from fastapi.testclient import TestClient

    from filmgraph.api import create_app
    from filmgraph.store import EmbeddedStore

    data = tmp_path / "hostile.ttl"
    data.write_text(
        "@prefix fgid: <https://w3id.org/filmgraph/id/> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        'fgid:trap skos:prefLabel "Trap"@en ;\n'
        "  skos:related <javascript:alert(1)> , <data:text/html,hi> , <https://example.org/fine> , fgid:russia ;\n"
        "  skos:exactMatch <javascript:alert(2)> .\n"
    )
    store = EmbeddedStore(tmp_path / "store")
    try:
        store.load_file(data, "https://w3id.org/filmgraph/graph/loaded")
        with TestClient(create_app(store=store)) as client:
            response = client.get("/id/trap", headers={"Accept": BROWSER_ACCEPT})
            page = response.text
    finally:
        store.close()
    assert response.status_code == 200, page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert not [h for h in hrefs if not (h.startswith(("/", "#", "http://", "https://")))]  # "#": same page
    assert "https://example.org/fine" in hrefs and "/id/russia" in hrefs
    assert "javascript:alert(1)" in page and "javascript:alert(2)" in page  # shown, as text


def test_landing_page_links_the_entry_points_in_html_and_json(rest):
    page = rest.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    hrefs = set(re.findall(r'href="([^"]*)"', page.text))
    expected = {"/docs", "/sparql", "/api/entities?q=", "/api/queries", f"/id/{SOURCE_ID}", "/export",
                "/.well-known/void", "/timeline", "/reconcile"}
    assert expected <= hrefs
    twin = rest.get("/", headers={"Accept": "application/json"})
    assert twin.headers["content-type"].startswith("application/json")
    assert {link["href"] for link in twin.json()["links"]} == expected
    for href in expected - {"/export"}:
        assert rest.get(href).status_code == 200, href
    assert rest.get("/", headers={"Accept": "image/png"}).status_code == 406


def test_one_jinja_environment_renders_every_page():
    """The templates are loaded once (issue 16): a second Environment would miss the filters set in pages.py."""
    package = Path(filmgraph.__file__).parent
    made = [p.name for p in package.rglob("*.py") if "Environment(" in p.read_text(encoding="utf-8")]
    assert made == ["pages.py"]
    from filmgraph.api import pages, sparql

    assert sparql.templates is pages.templates

"""The workbench in a real browser: the query editor, entity pages into the reader, the graph view, the API docs,
the timeline; each page offline (no request leaves 127.0.0.1), free of console errors, and readable at 1280 px
and at a phone's width. Screenshots of every page are saved (see conftest)."""

from __future__ import annotations

import re

from conftest import PHONE

from api_support import SOURCE_ID

# The WCAG relative-luminance contrast of an element's text against the first opaque background behind it.
CONTRAST = """(selector) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (el) => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  return [...document.querySelectorAll(selector)].slice(0, 200).map((el) => {
    const [a, b] = [lum(parse(getComputedStyle(el).color)), lum(background(el))];
    return { text: el.textContent.trim().slice(0, 30), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
  });
}"""
FITS = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _tab(page, name: str):
    page.locator(".tabsList .tab", has_text=name).first.click()


def test_a_research_question_runs_in_the_editor_and_its_rows_link_to_entity_pages(open_page):
    page, _ = open_page("/sparql", name="query-editor")
    page.wait_for_function("window.filmgraphEditor && Object.keys(window.filmgraphEditor._tabs).length > 10")
    tabs = page.locator(".tabsList .tab").all_inner_texts()
    assert any("signed-partners" in tab for tab in tabs) and any("timeline" in tab for tab in tabs)
    _tab(page, "signed-partners")
    page.locator(".tabPanel.active .yasqe_queryButton").click()
    rows = page.locator(".tabPanel.active .yasr table tbody tr")
    rows.first.wait_for()
    text = rows.first.inner_text()
    assert "Russian State Fund" in text and "Italy" in text and "Cinecittà Luce" in text
    links = page.locator(".tabPanel.active .yasr table tbody a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert "/id/cinecitta-luce" in links and not [h for h in links if "w3id.org" in h]
    downloads = {kind: page.get_attribute(f"#download-{kind}", "href") for kind in ("csv", "json")}
    assert all("format=" + kind in href and "/sparql?query=" in href for kind, href in downloads.items())
    csv = page.request.get(downloads["csv"])
    assert csv.ok and "Cinecitt" in csv.text()


def test_without_the_editor_files_the_page_says_so_and_the_plain_form_runs(open_page):
    page, log = open_page("/sparql", missing=("**/static/vendor/yasgui.min.*",))
    page.locator("#editor-missing").wait_for()
    assert "make setup" in page.locator("#editor-missing").inner_text()
    page.fill("#query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    page.select_option("select[name=format]", "json")
    page.click("#plain-form button[type=submit]")
    page.wait_for_url(re.compile(r"/sparql\?query=.*format=json"))
    assert '"vars":["n"]' in page.inner_text("body").replace(" ", "")  # the answer, shown by the browser
    expected = [e for e in log.console_errors if "404" in e]
    assert expected  # the browser saw the missing files; nothing else went wrong
    log.console_errors[:] = [e for e in log.console_errors if e not in expected]


def test_an_aggregate_is_drawn_as_a_chart(open_page):
    page, _ = open_page("/sparql")
    page.wait_for_function("window.filmgraphEditor && Object.keys(window.filmgraphEditor._tabs).length > 10")
    _tab(page, "sources")
    page.locator(".tabPanel.active .yasqe_queryButton").click()
    page.locator(".tabPanel.active .yasr table tbody tr").first.wait_for()
    page.locator(".tabPanel.active .select_chart").click()
    chart = page.locator(".tabPanel.active figure.chart svg")
    chart.wait_for()
    assert chart.locator("rect").count() == 1  # one source, one bar
    [source] = page.request.get(page.url.split("/sparql")[0] + "/api/sources").json()["sources"]
    assert str(source["claims"]) in chart.text_content()  # its claims count, drawn beside its bar


def test_an_entity_page_badges_its_relations_and_its_evidence_leads_into_the_reader(open_page):
    page, _ = open_page("/id/russian-state-fund", name="entity-page")
    glance = page.locator(".first-screen").inner_text()
    assert "Posts" in glance and "Agreements" in glance and "State" in glance and "Russia" in glance
    assert page.locator(".legend dt .badge").count() == 8
    assert page.locator("ul.relations .badge.st-asserted").count() > 0
    evidence = page.locator("a.in-reader").first
    href = evidence.get_attribute("href")
    anchor = href.split("#", 1)[1]
    evidence.click()
    page.wait_for_url(re.compile(re.escape(f"/id/{SOURCE_ID}#{anchor}") + "$"))
    passage = page.locator(f"#{anchor}")
    assert passage.is_visible() and passage.locator("li.claim a").count() >= 1
    begin = anchor.split("-")[1]
    segment = page.locator(f"#seg-{begin}")  # the highlighted text links to the passage of its claims
    assert segment.get_attribute("href").startswith("#span-")
    segment.focus()  # keyboard-reachable
    assert page.evaluate("document.activeElement.id") == f"seg-{begin}"


def test_the_reader_colours_spans_by_status_and_keeps_overlaps_readable(open_page):
    page, _ = open_page(f"/id/{SOURCE_ID}", name="source-reader")
    statuses = set(page.locator(".reader a.seg").evaluate_all("els => els.map(e => e.className.split(' ')[1])"))
    assert {"st-asserted", "st-planned"} <= statuses and len(statuses) >= 4
    assert page.locator(".reader a.seg.depth-2, .reader a.seg.depth-3").count() > 0  # overlapping spans exist
    low = [c for c in page.evaluate(CONTRAST, ".reader a.seg, .badge, .meta, p") if c["ratio"] < 4.5]
    assert not low, f"below WCAG AA contrast: {low[:5]}"


def test_a_node_expands_in_the_graph_view_and_an_edge_shows_its_evidence(open_page):
    page, _ = open_page("/graph/russian-state-fund", name="graph-view")
    page.wait_for_selector("#graph[data-ready=true]")
    before = page.evaluate("window.filmgraphGraph.nodes().length")
    target = page.evaluate("""() => {
      const node = window.filmgraphGraph.nodes().filter(n => n.data('entity') === 'sergei-tolstikov')[0];
      const box = document.getElementById('graph').getBoundingClientRect(), at = node.renderedPosition();
      return { x: box.left + at.x, y: box.top + at.y };
    }""")
    page.mouse.click(target["x"], target["y"])
    page.wait_for_function(f"window.filmgraphGraph.nodes().length > {before}")
    assert page.evaluate("window.filmgraphGraph.nodes('.expanded').length") == 2
    styles = set(page.evaluate("window.filmgraphGraph.edges().map(e => e.data('lineStyle'))"))
    assert "solid" in styles
    edge = page.evaluate("""() => {  // an edge with evidence: the one from Tolstikov's post into the fund
      const graph = window.filmgraphGraph, box = document.getElementById('graph').getBoundingClientRect();
      graph.fit(graph.$('.expanded').closedNeighborhood());
      const edge = graph.edges().filter(e => e.data('relation').provenance.length && e.data('label') === 'head of')[0];
      const at = edge.renderedMidpoint();
      return { x: box.left + at.x, y: box.top + at.y };
    }""")
    page.mouse.click(edge["x"], edge["y"])
    assert page.locator("#edge-evidence blockquote a[href*='#span-']").count() >= 1


def test_the_api_docs_list_the_operations_offline(open_page):
    page, _ = open_page("/docs", name="swagger-ui")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/entities/{id}").count() >= 1
    redoc, _ = open_page("/redoc", name="redoc")
    redoc.locator("h2", has_text="Everything about one entity").first.wait_for()


def test_every_page_is_titled_landmarked_and_fits_a_phone(open_page):
    for path, name in [("/", "home"), ("/timeline", "timeline"), ("/id/agreement-russia-germany-co-production", "agreement"),
                       (f"/id/{SOURCE_ID}", None), ("/graph/russia", None), ("/sparql", None)]:  # fmt: skip
        page, _ = open_page(path, viewport=PHONE, name=name and f"phone-{name}")
        page.wait_for_load_state("load")
        assert page.title(), path
        assert page.locator("main").count() == 1 and page.locator("header nav").count() == 1, path
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(FITS), f"{path} scrolls sideways at {PHONE['width']} px"
    timeline = page.context.browser.contexts[1].pages[0]
    assert timeline.locator(".timeline li").count() == 5  # the dated events; the forum session has no date of its own
    assert "summer" in timeline.locator(".timeline").inner_text().lower()
    assert timeline.locator("ol.history .badge.st-postponed").count() >= 1

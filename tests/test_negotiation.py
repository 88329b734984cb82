"""Accept -> media type: q-values, wildcards, specificity, server preference on ties, the format parameter."""

from __future__ import annotations

import pytest

from filmgraph.api.negotiation import negotiate, parse_accept, prefers_html, quality
from filmgraph.errors import NotAcceptable, UnsupportedFormat


@pytest.mark.parametrize(
    ("accept", "results", "graph"),
    [
        (None, "application/sparql-results+json", "text/turtle"),
        ("*/*", "application/sparql-results+json", "text/turtle"),
        ("text/csv", "text/csv", None),
        ("application/sparql-results+xml", "application/sparql-results+xml", None),
        ("text/tab-separated-values", "text/tab-separated-values", None),
        ("application/ld+json", None, "application/ld+json"),
        ("application/n-triples", None, "application/n-triples"),
        ("text/turtle;q=0.5, application/rdf+xml", None, "application/rdf+xml"),
        ("application/sparql-results+json, text/turtle", "application/sparql-results+json", "text/turtle"),
        ("text/*", "text/csv", "text/turtle"),
        ("text/csv;q=0.2, application/sparql-results+xml;q=0.9", "application/sparql-results+xml", None),
        ("*/*;q=0.1, text/tab-separated-values", "text/tab-separated-values", "text/turtle"),
        ("application/json", "application/json", None),
    ],
)
def test_accept_picks_one_type_per_result_kind(accept, results, graph):
    chosen = negotiate(accept)
    assert (chosen.results, chosen.graph) == (results, graph)


def test_a_zero_q_value_refuses_a_type_even_under_a_wildcard():
    chosen = negotiate("*/*, application/sparql-results+json;q=0, application/json;q=0")
    assert chosen.results == "application/sparql-results+xml"


def test_nothing_offered_is_406():
    with pytest.raises(NotAcceptable):
        negotiate("image/png")


def test_format_parameter_wins_over_accept():
    chosen = negotiate("text/csv", "turtle")
    assert (chosen.results, chosen.graph) == (None, "text/turtle")
    assert negotiate(None, "xml").preference() == "application/sparql-results+xml, application/rdf+xml"


def test_unknown_format_parameter_is_a_clear_400():
    with pytest.raises(UnsupportedFormat, match="unknown format 'excel'"):
        negotiate(None, "excel")


def test_malformed_accept_parts_are_ignored_not_fatal():
    assert quality(parse_accept("garbage, text/csv;q=abc"), "text/csv") == 0.0
    assert negotiate("garbage, text/turtle").graph == "text/turtle"


def test_browsers_get_html_curl_does_not():
    assert prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert not prefers_html("*/*")
    assert not prefers_html(None)
    assert not prefers_html("text/turtle, text/html;q=0.5")

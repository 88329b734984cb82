"""Whether a query uses `SERVICE`: the endpoint's engine follows it over HTTP, which a public deployment may
want to refuse (it lets anyone make the server fetch a URL, internal ones included)."""

from __future__ import annotations

from collections.abc import Iterable

from pyparsing import ParseException
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue


def uses_service(sparql: str) -> bool:
    """True when the query has a SERVICE pattern; a query rdflib cannot parse counts if it has the word at all."""
    if "service" not in sparql.lower():
        return False  # nearly every query: no parse needed
    try:
        return _has_service(parseQuery(sparql))
    except ParseException:
        return True


def _has_service(node: object) -> bool:
    if isinstance(node, CompValue):
        return node.name == "ServiceGraphPattern" or any(_has_service(value) for value in node.values())
    if isinstance(node, Iterable) and not isinstance(node, str | bytes):
        return any(_has_service(item) for item in node)
    return False

"""Which SERVICE calls a query or update may make: the engine follows SERVICE over HTTP, which lets anyone make the
server fetch a URL, internal ones included. Off by default; when on, only to the endpoints of an allow-list.

Cheapest first. The nesting depth was checked already (`read_operation`), so no parser below recurses without
bound. The lexer of `filmgraph.sparql_text` says whether the word can be the keyword at all (not in a string, IRI,
comment or name): nearly every query stops there, in microseconds. When SERVICE is allowed, the same lexer reads the
term after each occurrence (`named_terms`: an absolute IRI, a declared prefixed name, or a variable, which is
refused): a linear pass, ~20 ms less than rdflib's parse. Only a text where some occurrence cannot be read so (a
BASE-relative IRI, an escaped IRI, letters that only look like the keyword) is parsed by rdflib into its algebra,
whose ServiceGraphPattern nodes name the endpoints. rdflib's parser recurses per nesting level and per triple pattern
(RecursionError past about 30 levels or 90 patterns) and costs ~0.2 ms per character: a query it cannot read is
refused, not guessed at. Every occurrence the lexer reads must name an allowed endpoint, so a false alarm can only
refuse, never allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from ..errors import Forbidden
from ..settings import Settings
from ..sparql_text import may_contain_keyword, named_terms

ANY_ENDPOINT = "*"
MAX_CHECKED_LENGTH = 20_000  # characters rdflib parses for the check (~4 s at worst); a longer SERVICE query: 403


@dataclass(frozen=True)
class ServicePolicy:
    allowed: bool = False
    endpoints: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> ServicePolicy:
        return cls(settings.allow_service, frozenset(settings.service_allow))

    def permits(self, endpoint: str) -> bool:
        return ANY_ENDPOINT in self.endpoints or endpoint in self.endpoints


def check_service(sparql: str, policy: ServicePolicy, *, update: bool = False) -> None:
    """Raise Forbidden unless every SERVICE of the text goes to an allowed endpoint."""
    if not may_contain_keyword(sparql, "service"):
        return
    if not policy.allowed:
        raise Forbidden("SERVICE (federated query) is disabled on this endpoint (FILMGRAPH_ALLOW_SERVICE)")
    refused = sorted(endpoint for endpoint in service_endpoints(sparql, update=update) if not policy.permits(endpoint))
    if refused:
        raise Forbidden(
            f"SERVICE to {', '.join(refused)} is not allowed; allowed endpoints: "
            f"{', '.join(sorted(policy.endpoints)) or 'none'} (FILMGRAPH_SERVICE_ALLOW)"
        )


def service_endpoints(sparql: str, *, update: bool = False) -> list[str]:
    """The endpoint IRIs of the text's SERVICE patterns, read by the lexer, else from rdflib's algebra; Forbidden
    when that cannot be told (a variable endpoint, or a text neither can read)."""
    read = [term.iri for term in named_terms(sparql) if term.keyword == "service"]
    if read and None not in read:
        variables = [iri for iri in read if iri[0] in "?$"]
        if variables:
            raise Forbidden(f"SERVICE needs a fixed endpoint IRI to be checked, not {variables[0]}")
        return read
    return _algebra_endpoints(sparql, update=update)


def _algebra_endpoints(sparql: str, *, update: bool) -> list[str]:
    if len(sparql) > MAX_CHECKED_LENGTH:
        raise Forbidden(f"a query using SERVICE is checked up to {MAX_CHECKED_LENGTH} characters; this one is longer")
    try:
        algebra = translateUpdate(parseUpdate(sparql)) if update else translateQuery(parseQuery(sparql))
    except RecursionError:
        raise Forbidden("this query may use SERVICE, but is nested too deeply or too long to check its endpoints")
    except (ParseException, ValueError, TypeError, KeyError, AttributeError) as error:  # rdflib's several kinds
        raise Forbidden(f"this query may use SERVICE, and its endpoints cannot be checked: {error}") from None
    endpoints = []
    for node in _service_patterns(algebra):
        term = node.get("term")
        if not isinstance(term, URIRef):
            raise Forbidden(f"SERVICE needs a fixed endpoint IRI to be checked, not {term}")
        endpoints.append(str(term))
    return endpoints


def _service_patterns(root: object) -> list[CompValue]:
    """Every ServiceGraphPattern node, found with an explicit stack (the algebra of a deep query is deep)."""
    found, pending, seen = [], [root], set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append(node)
            pending.extend(node.values())
        elif isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list | tuple):
            pending.extend(node)
        elif hasattr(node, "algebra"):  # rdflib's Query / Update wrappers
            pending.append(node.algebra)
        elif hasattr(node, "__iter__") and type(node).__name__ == "Update":
            pending.extend(node)
    return found

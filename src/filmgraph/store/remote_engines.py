"""What differs between the SPARQL engines behind the remote backend, and the normalising that hides it.

Detected once from the engine's `Server` header. A generic engine (Oxigraph server, Fuseki, …) is taken to
speak the standards; Virtuoso 7.2 differs where filmgraph can repair it here:

- SPARQL JSON/XML results name blank nodes `nodeID://b10000` (not a valid blank-node label): the prefix goes.
- an xsd:boolean is written `1` / `0`: made `true` / `false`. A boolean *expression* (`EXISTS {…}`, `?a < ?b`,
  the constant `true`) comes back as the integer 1 or 0, which cannot be told from a number: filmgraph's own
  queries cast such values (`xsd:boolean(EXISTS {…})`), which both engines answer as booleans.
- ASK answers a one-column table (`__ASK_RETVAL`, a row for true, none for false), not a boolean.
- a query stopped by its time limit answers 200 with *partial* results and `X-SQL-State: S1TAT` ("anytime
  query"): filmgraph turns that into a timeout, never a silently short answer.
- it keeps its own graphs (`virtrdf#`, `ldp#`, its service description) beside the user's, all in its default
  graph: they are not filmgraph's, so they are left out of graph listings, counts and quads, and of the dataset
  filmgraph's queries read (remote_dataset).
- `GRAPH ?g { }` matches one empty solution whatever the store holds, and it keeps no empty graphs: graphs are
  listed and probed with a triple pattern instead, and listed with GROUP BY (SELECT DISTINCT ?g took 4 s for
  300 graphs of 23k triples, GROUP BY 0.06 s).
- its own time limit is asked for per request (`timeout`, in milliseconds).
- a trailing VALUES does not constrain every branch of a UNION (an unknown entity got a description), and after
  ASK it is a syntax error: parameters go in a VALUES row at the head of the WHERE group instead (the embedded
  store's substitution binds them everywhere too).
- its Graph Store has no default graph (`?default` is a 500): reading it gives nothing, writing it is refused.

What cannot be repaired here is listed, each with its test, in the README (Deploying at scale).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx

from ..errors import QueryTimeout
from ..formats import SPARQL_JSON

JSON_RESULTS = SPARQL_JSON.media_type
_VIRTUOSO_BNODE = "nodeID://"
_ASK_COLUMN = "__ASK_RETVAL"
_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BOOLEAN_DIGITS = {"1": "true", "0": "false"}
_VIRTUOSO_OWN_GRAPHS = re.compile(
    r"^(http://www\.openlinksw\.com/|http://www\.w3\.org/ns/ldp#|http://www\.w3\.org/2002/07/owl#"
    r"|urn:activitystreams-owl:map$|http://[^/]+/(sparql|DAV/?)$)"
)


@dataclass(frozen=True)
class Engine:
    """One engine's quirks. `graph_pattern` is what a graph must hold to be listed (`{ }`: any named graph)."""

    name: str = "generic"
    graph_pattern: str = "{ }"
    graphs_query: str = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
    fix_results: bool = False
    own_graphs: re.Pattern[str] | None = None
    timeout_parameter: str | None = None
    default_graph: bool = True  # whether the Graph Store has a default graph of its own (`?default`)
    values_at_head: bool = False  # bind parameters by VALUES at the head of the WHERE group, not trailing

    def is_own_graph(self, graph: str) -> bool:
        """Whether a graph is the engine's own bookkeeping, not data filmgraph or its users put there."""
        return bool(self.own_graphs and self.own_graphs.match(graph))

    def timeout_params(self, seconds: float) -> dict[str, str]:
        """The engine's own per-request time limit, so that it stops working when filmgraph stops waiting."""
        return {self.timeout_parameter: str(max(1, int(seconds * 1000)))} if self.timeout_parameter else {}

    def check(self, response: httpx.Response) -> None:
        """Refuse an answer the engine marks as cut short."""
        if response.headers.get("x-sql-state") == "S1TAT":
            message = response.headers.get("x-sql-message", "").split("Activity:")[0].strip()
            raise QueryTimeout(f"the remote engine stopped the query at its time limit ({message})")

    def results(self, content: bytes, media_type: str) -> bytes:
        """SPARQL results as the standard has them (only JSON is rewritten: filmgraph asks this engine for it)."""
        if not self.fix_results or media_type != JSON_RESULTS:
            return content
        return json.dumps(standard_json_results(json.loads(content))).encode()


GENERIC = Engine()
VIRTUOSO = Engine(
    name="virtuoso", graph_pattern="{ ?s ?p ?o }", fix_results=True,
    graphs_query="SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", own_graphs=_VIRTUOSO_OWN_GRAPHS,
    timeout_parameter="timeout", default_graph=False, values_at_head=True,
)  # fmt: skip


def engine_of(response: httpx.Response) -> Engine:
    """The engine that sent this answer, from its `Server` header."""
    return VIRTUOSO if response.headers.get("server", "").lower().startswith("virtuoso") else GENERIC


def standard_json_results(document: dict) -> dict:
    """Virtuoso's JSON results made standard: `nodeID://` blank nodes relabelled, ASK tables made booleans."""
    variables = document.get("head", {}).get("vars", [])
    bindings = document.get("results", {}).get("bindings", [])
    if variables == [_ASK_COLUMN]:
        return {"head": {}, "boolean": bool(bindings) and bindings[0].get(_ASK_COLUMN, {}).get("value") != "0"}
    for row in bindings:
        for term in row.values():
            if term.get("type") == "bnode" and term.get("value", "").startswith(_VIRTUOSO_BNODE):
                term["value"] = term["value"][len(_VIRTUOSO_BNODE) :]
            elif term.get("datatype") == _BOOLEAN and term.get("value") in _BOOLEAN_DIGITS:
                term["value"] = _BOOLEAN_DIGITS[term["value"]]
    return {"head": {"vars": variables}, "results": {"bindings": bindings}}

"""The remote store: any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever) over HTTP.

Queries and updates follow the SPARQL 1.1 Protocol, graph reads and writes the Graph Store HTTP Protocol.
Bindings become a trailing `VALUES` clause whose terms pyoxigraph writes (`str(term)` is N-Triples syntax), so
user text never reaches the query as text. Caveat of that standard form: VALUES joins the solutions at the end,
so a bound variable does not constrain the inside of a sub-select or an aggregate the way pyoxigraph's
substitution does in the embedded store; shared queries bind variables of the main pattern only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import httpx
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Triple,
    Variable,
    parse,
    parse_query_results,
    serialize,
)

from ..errors import (
    BackendUnavailable,
    BadRequest,
    InvalidParameter,
    NotAcceptable,
    QuerySyntaxError,
    QueryTimeout,
    UnsupportedFormat,
)
from ..settings import Settings
from .refusals import remote_refusal
from .base import Dataset, QueryResult, SerializedResult, Store, Term
from .evaluation import pick_format

TERMS_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
N_TRIPLES = "application/n-triples"


def with_values(sparql: str, bindings: Mapping[str, Term] | None) -> str:
    """The query with a trailing VALUES row binding each variable to its term (serialised by pyoxigraph)."""
    if not bindings:
        return sparql
    for name, term in bindings.items():
        if isinstance(term, BlankNode):
            raise InvalidParameter(f"?{name}: a blank node cannot be sent to a remote endpoint")
    variables = " ".join(str(Variable(name)) for name in bindings)
    row = " ".join(str(term) for term in bindings.values())
    return f"{sparql}\nVALUES ({variables}) {{ ({row}) }}\n"


def _dataset_params(dataset: Dataset | None) -> dict[str, list[str]]:
    if dataset is None:
        return {}
    return {"default-graph-uri": list(dataset.default_graphs), "named-graph-uri": list(dataset.named_graphs)}


def _graph_params(graph: str | None) -> dict[str, str]:
    return {"default": ""} if graph is None else {"graph": NamedNode(graph).value}


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _terms(response: httpx.Response) -> QueryResult:
    media_type = _media_type(response)
    rdf_format = RdfFormat.from_media_type(media_type)
    if rdf_format is not None:
        return QueryResult("construct", triples=[q.triple for q in parse(response.content, format=rdf_format)])
    results_format = QueryResultsFormat.from_media_type(media_type) or QueryResultsFormat.JSON
    parsed = parse_query_results(response.content, format=results_format)
    if not hasattr(parsed, "variables"):
        return QueryResult("ask", boolean=bool(parsed))
    variables = [v.value for v in parsed.variables]
    rows = [{name: row[name] for name in variables if row[name] is not None} for row in parsed]
    return QueryResult("select", variables=variables, rows=rows)


@dataclass(frozen=True)
class Endpoints:
    query: str
    update: str | None = None
    graph_store: str | None = None


class RemoteStore(Store):
    """A `Store` over HTTP. `generation` counts this client's own writes (an external writer is not seen)."""

    def __init__(self, endpoints: Endpoints, auth: tuple[str, str] | None = None, timeout: float = 30.0) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self._client = httpx.Client(auth=httpx.BasicAuth(*auth) if auth else None, timeout=timeout)
        self._generation = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        if not settings.remote_query_url:
            raise ValueError("the remote backend needs FILMGRAPH_REMOTE_QUERY_URL")
        endpoints = Endpoints(settings.remote_query_url, settings.remote_update_url, settings.remote_graph_store_url)
        auth = (settings.remote_user, settings.remote_password or "") if settings.remote_user else None
        return cls(endpoints, auth, settings.query_timeout)

    # --- HTTP ------------------------------------------------------------------------------------------
    def _send(
        self, method: str, url: str | None, what: str, timeout: float | None = None, sparql: str | None = None, **kwargs
    ) -> httpx.Response:
        """One request; `sparql`: the query or update it carries, whose refusal is then told apart (refusals.py)."""
        if url is None:
            raise BackendUnavailable(f"no {what} URL is configured for the remote backend")
        try:
            response = self._client.request(method, url, timeout=timeout or self.timeout, **kwargs)
        except httpx.TimeoutException as error:
            raise QueryTimeout(f"the remote endpoint did not answer within {timeout or self.timeout:g} s") from error
        except httpx.HTTPError as error:
            raise BackendUnavailable(f"the remote endpoint is unreachable: {error}") from error
        if sparql is not None and response.status_code >= 400 and response.status_code not in (406, 415):
            refused = remote_refusal(sparql, update=what == "update", status=response.status_code, message=response.text)
            if refused is not None:
                raise refused
        if response.status_code == 400:
            raise QuerySyntaxError(response.text.strip() or "the remote endpoint refused the request")
        if response.status_code == 406:
            raise NotAcceptable(response.text.strip())
        if response.status_code == 415:
            raise UnsupportedFormat(response.text.strip())
        if response.status_code >= 400 and response.status_code != 404:
            raise BackendUnavailable(f"the remote endpoint answered {response.status_code}: {response.text[:500]}")
        return response

    def _graph_store(self, method: str, graph: str | None, **kwargs) -> httpx.Response:
        return self._send(method, self.endpoints.graph_store, "graph store", params=_graph_params(graph), **kwargs)

    def _query(self, sparql, accept, bindings, dataset, timeout) -> httpx.Response:
        form = {"query": with_values(sparql, bindings), **_dataset_params(dataset)}
        return self._send(
            "POST", self.endpoints.query, "query", timeout, sparql=form["query"], data=form, headers={"Accept": accept}
        )

    # --- reads -----------------------------------------------------------------------------------------
    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        response = self._query(sparql, TERMS_ACCEPT, bindings, dataset, timeout)
        try:
            return _terms(response)
        except (SyntaxError, ValueError) as error:
            # A streaming server (Oxigraph) has sent 200 before an error or its timeout cut the body off.
            raise BackendUnavailable(f"the remote endpoint's answer broke off: {error}") from error

    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        response = self._query(sparql, media_type, bindings, dataset, timeout)
        answered = response.headers.get("content-type", media_type)
        kind = "construct" if RdfFormat.from_media_type(_media_type(response)) else "select"
        if kind == "select":
            pick_format(kind, media_type)  # the same rule as the embedded engine: text/plain never means CSV
        return SerializedResult(kind, answered, [response.content])

    def _select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[dict[str, Term]]:
        return self.query(sparql, bindings).rows

    def quads(self, graph=None) -> Iterator[Quad]:
        if graph:
            name = NamedNode(graph)
            return (Quad(t.subject, t.predicate, t.object, name) for t in self._graph_triples(graph))
        named = self._select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        default = (Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in self._graph_triples(None))
        return iter([*(Quad(r["s"], r["p"], r["o"], r["g"]) for r in named), *default])

    def _graph_triples(self, graph: str | None) -> list[Triple]:
        response = self._graph_store("GET", graph, headers={"Accept": N_TRIPLES})
        if response.status_code == 404:
            return []
        return [q.triple for q in parse(response.content, format=RdfFormat.N_TRIPLES)]

    def named_graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return sorted(row["g"].value for row in rows if isinstance(row.get("g"), NamedNode))

    def has_graph(self, graph: str | None) -> bool:
        # Not HEAD: Oxigraph server 0.5 sends a body with a HEAD 404, which breaks the kept-alive connection.
        return graph is None or bool(self._select("SELECT ?g WHERE { GRAPH ?g { } }", {"g": NamedNode(graph)}))

    def count(self, graph=None) -> int:
        if graph:  # the graph goes in the protocol's dataset: a trailing VALUES would bind after the COUNT
            one_graph = Dataset(default_graphs=(NamedNode(graph).value,))
            rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dataset=one_graph).rows
            return int(rows[0]["n"].value)
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(rows[0]["n"].value) + len(self._graph_triples(None))

    def dump_graph(self, graph: str | None, media_type: str) -> SerializedResult:
        response = self._graph_store("GET", graph, headers={"Accept": media_type})
        if response.status_code == 404:
            return SerializedResult("construct", media_type, [b""])
        return SerializedResult("construct", response.headers.get("content-type", media_type), [response.content])

    @property
    def generation(self) -> int:
        return self._generation

    # --- writes ----------------------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        headers = {"Content-Type": "application/sparql-update"}
        self._send("POST", self.endpoints.update, "update", sparql=sparql, content=sparql.encode(), headers=headers)
        self._generation += 1

    def _upload(self, method: str, graph: str | None, items: Iterable[Quad | Triple]) -> None:
        triples = [Triple(i.subject, i.predicate, i.object) for i in items]
        body = serialize(triples, format=RdfFormat.N_TRIPLES)
        headers = {"Content-Type": N_TRIPLES}
        response = self._graph_store(method, graph, content=body, headers=headers)
        if response.status_code == 404:
            raise BadRequest(f"the remote graph store refused {method} on {graph}")
        self._generation += 1

    def replace_graph(self, graph, quads_or_triples) -> None:
        self._upload("PUT", graph, quads_or_triples)

    def add_to_graph(self, graph, quads_or_triples) -> None:
        self._upload("POST", graph, quads_or_triples)

    def drop_graph(self, graph) -> bool:
        response = self._graph_store("DELETE", graph)
        self._generation += 1
        return response.status_code != 404

    def close(self) -> None:
        self._client.close()

"""The remote store: any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever) over HTTP.

Queries and updates follow the SPARQL 1.1 Protocol, graph reads and writes the Graph Store HTTP Protocol.
Bindings become a trailing `VALUES` clause whose terms pyoxigraph writes (`str(term)` is N-Triples syntax), so
user text never reaches the query as text. Caveat of that standard form: VALUES joins the solutions at the end,
so a bound variable does not constrain the inside of a sub-select or an aggregate the way pyoxigraph's
substitution does in the embedded store; shared queries bind variables of the main pattern only.

Which graphs a query reads is `remote_dataset.GraphScope`'s business, what differs between engines (Virtuoso's
blank-node labels, ASK tables, partial answers, own graphs) `remote_engines.Engine`'s; both are settled at the
first request.
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
from ..formats import N_TRIPLES as N_TRIPLES_FORMAT
from ..settings import Settings
from ..sparql_text import query_form, where_group_start
from .refusals import remote_refusal
from .base import Dataset, QueryResult, SerializedResult, Store, Term, result_kind
from .evaluation import pick_format
from .remote_dataset import NO_GRAPH, GraphScope, Params
from .remote_engines import JSON_RESULTS, Engine, engine_of
from .unsendable import releasing_frames

N_TRIPLES = N_TRIPLES_FORMAT.media_type
TERMS_ACCEPT = f"{JSON_RESULTS}, {N_TRIPLES};q=0.9"


def with_values(sparql: str, bindings: Mapping[str, Term] | None, at_head: bool = False) -> str:
    """The query with a VALUES row binding each variable to its term (serialised by pyoxigraph): trailing, or
    `at_head` of the WHERE group (for an engine whose trailing VALUES is broken: Virtuoso)."""
    if not bindings:
        return sparql
    for name, term in bindings.items():
        if isinstance(term, BlankNode):
            raise InvalidParameter(f"?{name}: a blank node cannot be sent to a remote endpoint")
    variables = " ".join(str(Variable(name)) for name in bindings)
    row = " ".join(str(term) for term in bindings.values())
    values = f"VALUES ({variables}) {{ ({row}) }}"
    at = where_group_start(sparql) if at_head else None
    return f"{sparql}\n{values}\n" if at is None else f"{sparql[:at]}\n  {values}\n{sparql[at:]}"


def _graph_params(graph: str | None) -> dict[str, str]:
    return {"default": ""} if graph is None else {"graph": NamedNode(graph).value}


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _solutions(response: httpx.Response, engine: Engine):
    """The SELECT or ASK answer parsed (pyoxigraph's QuerySolutions or QueryBoolean), the engine's quirks fixed."""
    media_type = _media_type(response)
    results_format = QueryResultsFormat.from_media_type(media_type) or QueryResultsFormat.JSON
    return parse_query_results(engine.results(response.content, media_type), format=results_format)


def _terms(response: httpx.Response, engine: Engine) -> QueryResult:
    rdf_format = RdfFormat.from_media_type(_media_type(response))
    if rdf_format is not None:
        return QueryResult.of(parse(response.content, format=rdf_format))
    return QueryResult.of(_solutions(response, engine))


def _rewritten_accept(sparql: str, media_types: str) -> str:
    """What to ask an engine whose results filmgraph rewrites (Virtuoso): JSON for solutions, only graph types
    for a graph (it writes a CONSTRUCT as a JSON or CSV table when offered those first)."""
    if query_form(sparql) not in ("construct", "describe"):
        return JSON_RESULTS
    graphs = [t.strip() for t in media_types.split(",") if RdfFormat.from_media_type(t.split(";")[0].strip())]
    return ", ".join(graphs or [N_TRIPLES])


def _auth(settings: Settings) -> httpx.Auth | None:
    """HTTP Basic or Digest (Virtuoso's `/sparql-auth` and `/sparql-graph-crud-auth`) from the settings."""
    if not settings.remote_user:
        return None
    scheme = httpx.DigestAuth if settings.remote_auth == "digest" else httpx.BasicAuth
    return scheme(settings.remote_user, settings.remote_password or "")


@dataclass(frozen=True)
class Endpoints:
    query: str | None
    update: str | None = None
    graph_store: str | None = None


class RemoteStore(Store):
    """A `Store` over HTTP. `generation` counts this client's own writes (an external writer is not seen)."""

    def __init__(
        self,
        endpoints: Endpoints,
        auth: tuple[str, str] | httpx.Auth | None = None,
        timeout: float = 30.0,
        union_default_graph: bool | None = None,
    ) -> None:
        """`union_default_graph`: whether the engine's default graph is the union of its named graphs (None: find
        out at the first query; see remote_dataset)."""
        self.endpoints = endpoints
        self.timeout = timeout
        self._client = httpx.Client(auth=httpx.BasicAuth(*auth) if isinstance(auth, tuple) else auth, timeout=timeout)
        self._generation = 0
        self._engine: Engine | None = None
        self._scope = GraphScope(
            union_default_graph, self.named_graphs, self._detect_union, lambda: self.engine.own_graphs is not None
        )

    @classmethod
    def from_settings(cls, settings: Settings, endpoints: Endpoints | None = None) -> RemoteStore:
        """The remote backend the settings describe (or at these `endpoints`, with the settings' credentials)."""
        if endpoints is None:
            if not settings.remote_query_url:
                raise ValueError("the remote backend needs FILMGRAPH_REMOTE_QUERY_URL")
            endpoints = Endpoints(settings.remote_query_url, settings.remote_update_url, settings.remote_graph_store_url)
        store = cls(endpoints, _auth(settings), settings.query_timeout, settings.remote_union_default_graph)
        if settings.remote_token:
            store._client.headers["Authorization"] = f"Bearer {settings.remote_token}"
        return store

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
        if self._engine is None:
            self._engine = engine_of(response)
        self._engine.check(response)
        return response

    @property
    def engine(self) -> Engine:
        """The engine's quirks, known from its first answer (a cheap ASK if nothing was asked yet)."""
        if self._engine is None and self.endpoints.query:
            self._send("POST", self.endpoints.query, "query", data={"query": "ASK {}"})
        elif self._engine is None:  # a push needs only the Graph Store: ask it for a graph nobody has
            self._graph_store("GET", NO_GRAPH, headers={"Accept": N_TRIPLES})
        assert self._engine is not None
        return self._engine

    def _dataset(self, sparql: str, dataset: Dataset | None) -> Params:
        """The protocol dataset for a query: what the caller asked for, or filmgraph's own (remote_dataset)."""
        return self._scope.params(sparql, dataset, self._generation)

    def _detect_union(self) -> bool | None:
        """Whether a triple of a named graph is in the default graph (None while the store has no such triple)."""
        sample = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(!isBlank(?s) && !isBlank(?o)) } LIMIT 1"
        rows = self._rows(sample, None, {})
        if not rows:
            return None
        return bool(self._rows("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", rows[0], {}))

    def _graph_store(self, method: str, graph: str | None, **kwargs) -> httpx.Response:
        return self._send(method, self.endpoints.graph_store, "graph store", params=_graph_params(graph), **kwargs)

    def _query(self, sparql, accept, bindings, params: Params, timeout) -> httpx.Response:
        form = {"query": with_values(sparql, bindings, self.engine.values_at_head), **params, **self.engine.timeout_params(timeout or self.timeout)}
        return self._send(
            "POST", self.endpoints.query, "query", timeout, sparql=form["query"], data=form, headers={"Accept": accept}
        )

    def _parsed(self, response: httpx.Response, parse_answer):
        try:
            return parse_answer(response, self.engine)
        except (SyntaxError, ValueError) as error:
            # A streaming server (Oxigraph) has sent 200 before an error or its timeout cut the body off.
            raise BackendUnavailable(f"the remote endpoint's answer broke off: {error}") from error

    # --- reads -----------------------------------------------------------------------------------------
    @releasing_frames  # an error leaves with the engine's parsed solutions dropped here, whichever thread it reaches
    def query(self, sparql, bindings=None, dataset=None, timeout=None) -> QueryResult:
        accept = _rewritten_accept(sparql, N_TRIPLES) if self.engine.fix_results else TERMS_ACCEPT
        response = self._query(sparql, accept, bindings, self._dataset(sparql, dataset), timeout)
        return self._parsed(response, _terms)

    @releasing_frames
    def query_serialized(self, sparql, media_type, bindings=None, dataset=None, timeout=None) -> SerializedResult:
        accept = _rewritten_accept(sparql, media_type) if self.engine.fix_results else media_type
        response = self._query(sparql, accept, bindings, self._dataset(sparql, dataset), timeout)
        answered = response.headers.get("content-type", media_type)
        if RdfFormat.from_media_type(_media_type(response)):
            pick_format("construct", media_type)  # a type not asked for was our fallback: 406 as embedded
            return SerializedResult("construct", answered, response.content)
        if not self.engine.fix_results:
            pick_format("select", media_type)  # the same rule as the embedded engine: text/plain never means CSV
            return SerializedResult("select", answered, response.content)
        solutions = self._parsed(response, _solutions)  # written again by pyoxigraph, as the embedded store does
        kind = result_kind(solutions)
        chosen = pick_format(kind, media_type)
        return SerializedResult(kind, chosen.media_type, solutions.serialize(format=chosen))

    def _rows(self, sparql: str, bindings: Mapping[str, Term] | None, params: Params) -> list[dict[str, Term]]:
        """Rows of a query sent with exactly these dataset parameters (the scope's own listing and probes)."""
        return self._parsed(self._query(sparql, TERMS_ACCEPT, bindings, params, None), _terms).rows

    def _select(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> list[dict[str, Term]]:
        return self.query(sparql, bindings).rows

    def quads(self, graph=None) -> Iterator[Quad]:
        if graph:
            name = NamedNode(graph)
            return (Quad(t.subject, t.predicate, t.object, name) for t in self._graph_triples(graph))
        named = self._select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        default = (Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in self._graph_triples(None))
        ours = (Quad(r["s"], r["p"], r["o"], r["g"]) for r in named if not self.engine.is_own_graph(r["g"].value))
        return iter([*ours, *default])

    def _graph_triples(self, graph: str | None) -> list[Triple]:
        if graph is None and not self.engine.default_graph:
            return []
        response = self._graph_store("GET", graph, headers={"Accept": N_TRIPLES})
        if response.status_code == 404:
            return []
        return [q.triple for q in parse(response.content, format=RdfFormat.N_TRIPLES)]

    def graph_size(self, graph: str | None) -> int:
        """Triples of one graph as the Graph Store gives it back (independent of any SPARQL dataset rule)."""
        return len(self._graph_triples(graph))

    def named_graphs(self) -> list[str]:
        """The named graphs, the engine's own left out (always listed afresh: this is what the scope reuses)."""
        engine = self.engine
        rows = self._rows(engine.graphs_query, None, {})
        graphs = (row["g"].value for row in rows if isinstance(row.get("g"), NamedNode))
        return sorted(g for g in graphs if not engine.is_own_graph(g))

    def has_graph(self, graph: str | None) -> bool:
        # Not HEAD: Oxigraph server 0.5 sends a body with a HEAD 404, which breaks the kept-alive connection.
        if graph is None:
            return True
        if self.engine.is_own_graph(graph):
            return False
        query = f"SELECT ?g WHERE {{ GRAPH ?g {self.engine.graph_pattern} }} LIMIT 1"
        return bool(self._rows(query, {"g": NamedNode(graph)}, {}))

    def count(self, graph=None) -> int:
        if graph:  # the graph goes in the protocol's dataset: a trailing VALUES would bind after the COUNT
            one_graph = Dataset(default_graphs=(NamedNode(graph).value,))
            rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", dataset=one_graph).rows
            return int(rows[0]["n"].value)
        if self.engine.own_graphs is None:
            rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
            return int(rows[0]["n"].value) + len(self._graph_triples(None))
        rows = self._select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return sum(int(row["n"].value) for row in rows if not self.engine.is_own_graph(row["g"].value))

    def dump_graph(self, graph: str | None, media_type: str) -> SerializedResult:
        if graph is None and not self.engine.default_graph:
            return SerializedResult("construct", media_type, b"")
        response = self._graph_store("GET", graph, headers={"Accept": media_type})
        if response.status_code == 404:
            return SerializedResult("construct", media_type, b"")
        return SerializedResult("construct", response.headers.get("content-type", media_type), response.content)

    @property
    def generation(self) -> int:
        return self._generation

    # --- writes ----------------------------------------------------------------------------------------
    def update(self, sparql: str) -> None:
        headers = {"Content-Type": "application/sparql-update"}
        self._send("POST", self.endpoints.update, "update", sparql=sparql, content=sparql.encode(), headers=headers)
        self._generation += 1

    def _upload(self, method: str, graph: str | None, items: Iterable[Quad | Triple]) -> None:
        self._refuse_default_graph(graph)
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

    def _refuse_default_graph(self, graph: str | None) -> None:
        if graph is None and not self.engine.default_graph:
            raise BadRequest(f"the remote engine ({self.engine.name}) keeps no default graph of its own: "
                             "write to a named graph")  # fmt: skip

    def drop_graph(self, graph) -> bool:
        self._refuse_default_graph(graph)
        response = self._graph_store("DELETE", graph)
        self._generation += 1
        return response.status_code != 404

    def close(self) -> None:
        self._client.close()

"""The SPARQL 1.1 Protocol at `/sparql`: query (GET, POST form, POST sparql-query), update (POST form,
POST sparql-update), and the Service Description when GET carries no query.

The route only reads the request and negotiates; evaluation, limits and serialisation belong to the store, so
the same code serves the embedded and the remote backend. GET and POST on `/sparql` are answered straight from
ASGI, before FastAPI's routing and dependency layers, which cost more than a cheap query itself: by `SparqlEntry`
ahead of the whole middleware stack when none of its layers would change the answer, else by
`SparqlProtocolMiddleware` inside it; the FastAPI routes below document the endpoint in OpenAPI and answer what
both pass on.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from pyoxigraph import NamedNode

from ..errors import (
    BadRequest,
    FilmgraphError,
    Forbidden,
    MethodNotAllowed,
    OwnedGraphWrite,
    PayloadTooLarge,
    UnsupportedMediaType,
    UploadTooLarge,
)
from ..formats import GRAPH_FORMATS, N_QUADS, N_TRIPLES, RESULTS_FORMATS, TRIG, TURTLE, by_media_type, media_types
from ..ownership import refuse_owned_update
from ..settings import Settings
from ..sparql_text import check_depth, is_small_data_update, longest_string, may_contain_keyword
from ..store import Dataset, Store
from ..store.refusals import update_syntax_error
from ..store.base import DEFAULT_GRAPH_IRI, UNION_GRAPH_IRI, SerializedResult
from .auth import check_write_token
from .deps import request_base_url
from .federation import ServicePolicy, check_service
from .negotiation import choose, format_choice, negotiate, prefers_html
from .pages import templates
from .problems import filmgraph_problem
from .request_body import decode_utf8, read_body
from .service_description import describe_service

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
DESCRIPTION_TYPES = media_types(GRAPH_FORMATS)  # the service description, written by rdflib
ALLOWED_METHODS = ("GET", "HEAD", "POST")
# The description is a graph, so the dataset formats carry it in their default graph: rdflib writes a plain graph's
# N-Quads not at all (it was a 500) and its TriG inside a graph named by a fresh blank node; a graph's N-Triples
# lines are its N-Quads, and its Turtle is its TriG, in the default graph.
IN_THE_DEFAULT_GRAPH = {N_QUADS: N_TRIPLES, TRIG: TURTLE}


@dataclass
class Operation:
    """What one protocol request asks for: a query or an update, with its dataset."""

    query: str | None = None
    update: str | None = None
    dataset: Dataset | None = None
    format: str | None = None
    checked: bool = False  # an update whose checks `answer_now` ran already, left for the ASGI path to commit


def _graph_iris(values: list[str], parameter: str) -> list[str]:
    for value in values:
        try:
            NamedNode(value)
        except ValueError as error:
            raise BadRequest(f"{parameter} {value!r} is not an IRI: {error}") from None
    return values


def _dataset(params: dict[str, list[str]], settings: Settings) -> Dataset | None:
    """The protocol's dataset, with the endpoint's query default graph for queries that name none (None: the
    union, every Store's own default)."""
    default = _graph_iris(params.get("default-graph-uri", []), "default-graph-uri")
    named = _graph_iris(params.get("named-graph-uri", []), "named-graph-uri")
    if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
        raise BadRequest("using-graph-uri / using-named-graph-uri are not supported; use USING in the update")
    mode = UNION_GRAPH_IRI if settings.union_default_graph else DEFAULT_GRAPH_IRI
    return Dataset(tuple(default), tuple(named), mode) if default or named or mode != UNION_GRAPH_IRI else None


FORMAT_PARAMETERS = ("format", "output", "results")


def _format(params: dict[str, list[str]]) -> str | None:
    """The `format=` asked for. Clients such as SPARQLWrapper send a name and a media type, under several parameter
    names at once: take the first value we understand, else the first value (which negotiation refuses)."""
    values = [value for name in FORMAT_PARAMETERS for value in params.get(name, [])]
    understood = [value for value in values if format_choice(value) is not None]
    return (understood or values or [None])[0]


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadRequest(f"give the {name} parameter once, not {len(values)} times")
    return values[0] if values else None


OPERATION_KEY = "filmgraph.operation"  # in the scope: the operation `answer_now` read but could not answer at once


async def read_operation(request: Request, settings: Settings) -> Operation:
    """The operation of a GET or POST request, per the SPARQL 1.1 Protocol's three POST encodings."""
    operation = request.scope.pop(OPERATION_KEY, None)
    if operation is not None:
        return operation
    body = await read_body(request, settings.max_query_length * 4) if request.method == "POST" else b""
    return operation_of(request, body, settings)


def operation_of(request: Request, body: bytes, settings: Settings) -> Operation:
    """The operation of a request whose body has been read."""
    query_string = request.scope["query_string"]  # empty for nearly every POST: parse_qs costs ~2 µs even so
    params = parse_qs(query_string.decode("latin-1"), keep_blank_values=True) if query_string else {}
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        text = decode_utf8(body)
        if media_type == FORM:
            for name, values in parse_qs(text, keep_blank_values=True).items():
                params.setdefault(name, []).extend(values)
        elif media_type == SPARQL_QUERY:
            params["query"] = [text]
        elif media_type == SPARQL_UPDATE:
            params["update"] = [text]
        else:
            raise UnsupportedMediaType(
                f"POST /sparql takes {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}, not {media_type or 'no type'}"
            )
    operation = Operation(
        _single(params, "query"), _single(params, "update"), _dataset(params, settings), _format(params)
    )
    if operation.query is not None and operation.update is not None:
        raise BadRequest("a request carries either a query or an update, not both")
    if request.method == "GET" and operation.update is not None:
        raise BadRequest("updates are sent with POST, not GET")
    text = operation.query if operation.query is not None else operation.update
    if text is not None and len(text) > settings.max_query_length:
        raise PayloadTooLarge(f"the query has {len(text)} characters; the limit is {settings.max_query_length}")
    if text is not None:  # before any parser: both recurse per level, and pyoxigraph's dies of it
        check_depth(text, settings.max_query_depth)
    return operation


def answer_now(request: Request, body: bytes, store: Store, settings: Settings) -> Response | None:
    """The answer to a request whose body is all there, when it can be given at once, on the event loop, with no
    ASGI task (`connections.GuardedHttpToolsProtocol`): a query the store answers now (a cached result, a shape
    the inline lane knows), a small INSERT/DELETE DATA it commits now. The checks and answers are those of the
    routes below, in the same order. None when the request needs more (a worker, a thread, the disk's sync): the
    operation read is left in the scope for the ASGI path, which then answers it."""
    if len(body) > settings.max_query_length * 4:
        return None  # `read_body`'s 413
    operation = operation_of(request, body, settings)
    policy = ServicePolicy.from_settings(settings)
    response = None
    if policy.allowed:
        pass  # a query that may use SERVICE is parsed by rdflib, in a thread
    elif operation.query is not None:
        response = _query_now(request, store, policy, operation)
    elif operation.update is not None and is_small_data_update(operation.update):
        response = _update_now(request, store, settings, policy, operation)
    if response is None:
        request.scope[OPERATION_KEY] = operation
    return response


def _query_now(request: Request, store: Store, policy: ServicePolicy, operation: Operation) -> Response | None:
    check_service(operation.query, policy, update=False)
    chosen = negotiate(request.headers.get("accept"), operation.format)
    result = store.query_serialized_now(operation.query, chosen.preference(), None, operation.dataset)
    return None if result is None else _query_response(result)


def _update_now(request, store: Store, settings: Settings, policy: ServicePolicy, operation) -> Response | None:
    _check_update_request(request, settings, operation)
    check_service(operation.update, policy, update=True)
    _refuse_owned_update(operation.update, store)
    _check_update_data(operation.update, settings)
    operation.checked = True
    return Response(status_code=204) if store.update_now(operation.update) else None


async def _check_service(text: str, settings: Settings, *, update: bool) -> None:
    """The SERVICE policy; off the event loop, since a query that may use SERVICE is parsed by rdflib."""
    policy = ServicePolicy.from_settings(settings)
    if policy.allowed:
        await run_in_threadpool(check_service, text, policy, update=update)
    else:
        check_service(text, policy, update=update)  # no parser: the lexer's answer (microseconds) decides


async def _answer_query(request: Request, store: Store, settings: Settings, operation: Operation) -> Response:
    await _check_service(operation.query, settings, update=False)
    chosen = negotiate(request.headers.get("accept"), operation.format)
    result = await store.query_serialized_async(operation.query, chosen.preference(), None, operation.dataset)
    return _query_response(result)


def _query_response(result: SerializedResult) -> Response:
    if result.spooled is None:  # small: one piece
        return Response(result.body, media_type=result.media_type, headers={"Vary": "Accept"})
    return StreamingResponse(result.chunks(), media_type=result.media_type, headers={"Vary": "Accept"})


def _check_update_request(request: Request, settings: Settings, operation: Operation) -> None:
    check_write_token(request.headers.get("authorization"), settings.token)
    if operation.dataset is not None and (operation.dataset.default_graphs or operation.dataset.named_graphs):
        raise BadRequest("default-graph-uri / named-graph-uri apply to queries, not updates")


async def _apply_update(request: Request, store: Store, settings: Settings, operation: Operation) -> Response:
    if not operation.checked:  # with durability=sync, `answer_now` checked it and left the commit and its sync
        await _check_update(request, store, settings, operation)
    await store.update_async(operation.update)
    return Response(status_code=204)


async def _check_update(request: Request, store: Store, settings: Settings, operation: Operation) -> None:
    _check_update_request(request, settings, operation)
    await _check_service(operation.update, settings, update=True)
    if is_small_data_update(operation.update):
        _refuse_owned_update(operation.update, store)  # microseconds: a thread hop costs more
    else:
        await run_in_threadpool(_refuse_owned_update, operation.update, store)  # 409 names the graph
    _check_update_data(operation.update, settings)


def _refuse_owned_update(update: str, store: Store) -> None:
    """The ownership check (409), unless the update is malformed: that is a 400 first, as from the engine."""
    try:
        refuse_owned_update(update, store.named_graphs)
    except OwnedGraphWrite as refused:
        malformed = update_syntax_error(update)
        if malformed is None:
            raise
        raise malformed from refused


def _check_update_data(update: str, settings: Settings) -> None:
    """An update's own data under the upload caps, and no LOAD: the engine would fetch the URL itself, past the
    XML screen and the caps (send files through the Graph Store protocol)."""
    if may_contain_keyword(update, "load"):
        raise Forbidden("LOAD is refused on this endpoint; PUT or POST the data to /graph-store instead")
    if len(update) * 4 <= settings.max_literal_bytes:
        return  # no literal can be longer than the whole text's UTF-8 (at most 4 bytes a character)
    longest = longest_string(update)
    if longest > settings.max_literal_bytes:
        raise UploadTooLarge(
            f"the update holds a literal of {longest} bytes; the limit is {settings.max_literal_bytes} "
            "(FILMGRAPH_MAX_LITERAL_BYTES); nothing was written"
        )


def service_description_response(request: Request, store: Store, settings: Settings) -> Response:
    endpoint = request_base_url(request, settings) + "/sparql"
    graph = describe_service(
        endpoint,
        store.named_graphs(),
        writable=bool(settings.token),
        federated=settings.allow_service,
        union_default=settings.union_default_graph,
    )
    accept = request.headers.get("accept")
    if prefers_html(accept):
        page = templates.get_template("sparql.html").render(
            endpoint=endpoint, description=graph.serialize(format="turtle")
        )
        return HTMLResponse(page, headers={"Vary": "Accept"})
    media_type = choose(accept, DESCRIPTION_TYPES, "the service description is served as HTML or one of {offered}")
    chosen = by_media_type(media_type, GRAPH_FORMATS)
    body = graph.serialize(format=IN_THE_DEFAULT_GRAPH.get(chosen, chosen).rdflib, encoding="utf-8")
    return Response(body, media_type=media_type, headers={"Vary": "Accept"})


async def _protocol(request: Request, store: Store, settings: Settings) -> Response:
    operation = await read_operation(request, settings)
    if operation.query is not None:
        return await _answer_query(request, store, settings, operation)
    if operation.update is not None:
        return await _apply_update(request, store, settings, operation)
    if request.method == "GET":
        return await run_in_threadpool(service_description_response, request, store, settings)
    raise BadRequest("the request carries neither a query nor an update")


# The protocol's parameters, documented for OpenAPI but read from the request by `read_operation`: FastAPI's
# per-parameter validation and dependency solving cost more than the query itself on an entity lookup.
PARAMETERS = [
    {"name": "query", "in": "query", "schema": {"type": "string"},
     "description": "SPARQL 1.1 query; without one, GET returns the Service Description"},
    {"name": "default-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "named-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "format", "in": "query", "schema": {"type": "string"},
     "description": ", ".join(f.name for f in (*RESULTS_FORMATS, *GRAPH_FORMATS)) + " (instead of Accept)"},
]  # fmt: skip


@router.get(
    "/sparql", name="sparql", summary="SPARQL query or Service Description", openapi_extra={"parameters": PARAMETERS}
)
async def sparql_get(request: Request) -> Response:
    return await _protocol(request, request.app.state.store, request.app.state.settings)


@router.post("/sparql", summary="SPARQL query or update (form, sparql-query or sparql-update body)")
async def sparql_post(request: Request) -> Response:
    return await _protocol(request, request.app.state.store, request.app.state.settings)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH", "OPTIONS"], include_in_schema=False)
async def sparql_other_methods(request: Request) -> Response:
    """405 naming every method the endpoint answers (the router would name only the first route's)."""
    raise MethodNotAllowed(f"{request.method} is not allowed on /sparql", ALLOWED_METHODS)


def answers_protocol(scope: Scope) -> bool:
    """Whether the protocol code answers this request: POST to /sparql, or a GET that carries a query or an update.
    A GET without a query (the Service Description) and other methods go on to the FastAPI routes."""
    if scope["type"] != "http" or scope["path"] != "/sparql":
        return False
    if scope["method"] == "POST":
        return True
    parameters = scope["query_string"].split(b"&")
    return scope["method"] == "GET" and any(p.startswith((b"query=", b"update=")) for p in parameters)


async def answer_protocol(scope: Scope, receive: Receive, send: Send, state) -> None:
    """Answer a protocol request straight from ASGI, errors as the same problem JSON as elsewhere."""
    request = Request(scope, receive)
    try:
        response = await _protocol(request, state.store, state.settings)
    except FilmgraphError as error:
        response = filmgraph_problem(error)
    await response(scope, receive, send)


class SparqlProtocolMiddleware:
    """The protocol behind the HEAD and CORS middlewares, for the requests `SparqlEntry` leaves to the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if answers_protocol(scope):
            await answer_protocol(scope, receive, send, scope["app"].state)
        else:
            await self.app(scope, receive, send)


class SparqlEntry:
    """The protocol ahead of the whole middleware stack, for the requests none of its layers would change: not
    HEAD (`answers_protocol` takes GET and POST only), no `Origin` header while CORS is configured, telemetry off.
    The stack's layers (Starlette's error middleware, FastAPI's telemetry and body-limit layers, HEAD, CORS, the
    Reconciliation API's CORS) cost as much as a small write's own checks (py-spy on the server).

    What the stack's outermost layer, Starlette's `ServerErrorMiddleware`, gives is kept: an unexpected exception is
    answered with the same plain-text 500 if nothing was sent yet, and raised on for the server's log."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.enabled = not settings.telemetry
        self.cors = bool(settings.cors_origins)

    def takes(self, scope: Scope) -> bool:
        if not (self.enabled and answers_protocol(scope)):
            return False
        return not self.cors or all(name != b"origin" for name, _ in scope["headers"])

    def answer_now(self, scope: Scope, body: bytes) -> Response | None:
        """`answer_now` of a request this entry takes, errors as problem JSON; None: it needs the ASGI path."""
        if not self.takes(scope):
            return None
        scope["app"] = self.app
        state = self.app.state
        try:
            return answer_now(Request(scope), body, state.store, state.settings)
        except FilmgraphError as error:
            return filmgraph_problem(error)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self.app  # as Starlette sets it, for what reads `request.app`
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await answer_protocol(scope, receive, sending, self.app.state)
        except Exception:
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise

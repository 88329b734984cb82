"""The W3C Reconciliation Service API v0.2 at `/reconcile`, for OpenRefine and other reconciliation clients.

Thin over `filmgraph.reconciliation`. What OpenRefine 3.x sends, and this answers: GET without parameters (or with
`callback`, as its older "add service" dialog and its suggest widget use JSONP) is the manifest; POST form
`queries=` (or GET `?queries=`) a query batch; POST form `extend=` (or GET) a data extension; the suggest, preview
and propose-properties endpoints the manifest names. Every answer allows any origin (CORS, as the spec requires;
reads are anonymous). Bad input is a 4xx problem: malformed JSON 400, a wrong field 422, a batch too large 413.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..entities import entity_card
from ..errors import BadRequest, NotFound, UnsupportedMediaType
from ..reconciliation import (
    BATCH_SIZE, DEFAULT_TYPES, PROPERTIES, extend, parse_batch, parse_extension, propose_properties, property_values,
    reconcile, suggest_entities, suggest_properties, suggest_types, type_objects,
)
from ..search import MAX_QUERY_LENGTH
from ..store import Store
from ..vocab import FG, ID
from .deps import get_store, request_base_url
from .pages import templates
from .request_body import decode_utf8, read_body

PREFIX = "/reconcile"
MAX_BODY = 1_000_000
PREVIEW_SIZE = {"width": 420, "height": 240}
JAVASCRIPT = "application/javascript"
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*")
_FORM = {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
    "queries": {"type": "string", "description": "A reconciliation query batch (JSON)."},
    "extend": {"type": "string", "description": "A data extension query (JSON)."}}}}}

router = APIRouter(prefix=PREFIX, tags=["reconciliation"])

Callback = Annotated[str | None, Query(max_length=200, description="JSONP: wrap the JSON in a call of this name.")]
Prefix = Annotated[str, Query(max_length=MAX_QUERY_LENGTH, description="What the user typed so far.")]
Cursor = Annotated[int, Query(ge=0, le=10_000, description="Suggestions to skip.")]


def _answer(body: Any, callback: str | None) -> Response:
    """JSON, or JSONP when a `callback` is given (a dotted JavaScript name only: nothing else reaches the script)."""
    if callback is None:
        return JSONResponse(body)
    if not _CALLBACK.fullmatch(callback):
        raise BadRequest("callback must be a JavaScript function name")
    return Response(f"/**/{callback}({json.dumps(body)});", media_type=JAVASCRIPT)


def _json(name: str, value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{name} is not JSON: {error}") from None


def manifest(request: Request) -> dict[str, Any]:
    base = request_base_url(request, request.app.state.settings)
    store = request.app.state.store

    def service(path: str) -> dict[str, str]:
        return {"service_url": base + PREFIX, "service_path": path}

    return {
        "versions": ["0.1", "0.2"],
        "name": "filmgraph: film diplomacy",
        "identifierSpace": ID,
        "schemaSpace": FG,
        "defaultTypes": type_objects(store, DEFAULT_TYPES),
        "documentation": base + "/docs#/reconciliation",
        "serviceVersion": __version__,
        "view": {"url": base + "/id/{{id}}"},
        "preview": {"url": base + PREFIX + "/preview?id={{id}}", **PREVIEW_SIZE},
        "suggest": {"entity": service("/suggest/entity"), "type": service("/suggest/type"),
                    "property": service("/suggest/property")},
        "extend": {"propose_properties": service("/propose_properties"), "property_settings": []},
        "batchSize": BATCH_SIZE,
    }


def _dispatch(request: Request, store: Store, queries: str | None, extension: str | None, callback: str | None):
    if queries is not None and extension is not None:
        raise BadRequest("send either queries or extend, not both")
    if queries is not None:
        return _answer(reconcile(store, parse_batch(_json("queries", queries))), callback)
    if extension is not None:
        return _answer(extend(store, *parse_extension(_json("extend", extension))), callback)
    return _answer(manifest(request), callback)


@router.get("", summary="Reconciliation service: manifest, or a query batch / data extension by GET")
def service_get(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    queries: Annotated[str | None, Query(description="A reconciliation query batch (JSON).")] = None,
    extension: Annotated[str | None, Query(alias="extend", description="A data extension query (JSON).")] = None,
    callback: Callback = None,
) -> Response:
    """Without parameters, the service manifest (what to paste into OpenRefine is this URL)."""
    return _dispatch(request, store, queries, extension, callback)


@router.post("", summary="Reconciliation service: a query batch or a data extension", openapi_extra={
    "requestBody": {"required": True, "content": _FORM}})
async def service_post(request: Request, store: Annotated[Store, Depends(get_store)]) -> Response:
    """Form field `queries` (a query batch) or `extend` (a data extension query), as OpenRefine posts them."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("send the batch as an application/x-www-form-urlencoded form (queries= or extend=)")
    form = parse_qs(decode_utf8(await read_body(request, MAX_BODY)), keep_blank_values=True)
    queries, extension = form.get("queries"), form.get("extend")
    if queries is None and extension is None:
        raise BadRequest("the form has neither a queries nor an extend field")
    return _dispatch(request, store, queries and queries[0], extension and extension[0], None)


@router.get("/suggest/entity", summary="Suggest entities (autocomplete)")
def suggest_entity(
    store: Annotated[Store, Depends(get_store)], prefix: Prefix = "", cursor: Cursor = 0,
    type_: Annotated[str | None, Query(alias="type", max_length=500)] = None, callback: Callback = None,
) -> Response:
    return _answer(suggest_entities(store, prefix, cursor, type_), callback)


@router.get("/suggest/type", summary="Suggest types (autocomplete)")
def suggest_type(
    store: Annotated[Store, Depends(get_store)], prefix: Prefix = "", cursor: Cursor = 0, callback: Callback = None
) -> Response:
    return _answer(suggest_types(store, prefix, cursor), callback)


@router.get("/suggest/property", summary="Suggest properties (autocomplete)")
def suggest_property(prefix: Prefix = "", cursor: Cursor = 0, callback: Callback = None) -> Response:
    return _answer(suggest_properties(prefix, cursor), callback)


@router.get("/propose_properties", summary="Properties to extend entities of a type with")
def propose(
    store: Annotated[Store, Depends(get_store)],
    type_: Annotated[str | None, Query(alias="type", max_length=500)] = None,
    limit: Annotated[int | None, Query(ge=1, le=len(PROPERTIES) * 10)] = None,
    callback: Callback = None,
) -> Response:
    return _answer(propose_properties(store, type_, limit), callback)


@router.get("/preview", summary="A small HTML card of an entity (OpenRefine's preview)", response_class=HTMLResponse)
def preview(request: Request, store: Annotated[Store, Depends(get_store)],
            id: Annotated[str, Query(max_length=500)]) -> HTMLResponse:
    entity = id.removeprefix(ID)
    if "/" in entity or "#" in entity or not entity:
        raise NotFound(f"no entity {id!r}")
    card = entity_card(store, entity)
    values = property_values(store, [card.iri]).get(card.iri, {})
    page = request_base_url(request, request.app.state.settings) + "/id/" + entity
    rows = [(PROPERTIES[prop], values[prop]) for prop in PROPERTIES if values.get(prop)]
    return HTMLResponse(templates.get_template("reconcile_preview.html").render(card=card, values=rows, page=page))


class AnyOrigin:
    """CORS for every /reconcile answer, errors included (pure ASGI: the spec asks it of every endpoint, and
    OpenRefine's suggest widget calls them from the browser)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"access-control-allow-origin", b"*")]
            await send(message)

        await self.app(scope, receive, send_with_origin)

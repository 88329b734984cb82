"""`POST /api/sources`: add or replace one source in the running store (thin over `filmgraph.ingest`).

The curation file and its text come as multipart fields `curation` and `text` (files or plain fields), or as a JSON
body `{"curation": "<yaml>", "text": "<text>"}`. The answer is the ingest report: 201 with the source's Location when
the store changed, 200 for a dry run or a source the store already holds as given, 422 naming the claim and the
problem (the same messages as `filmgraph ingest`) when the source is refused, which changes nothing.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from ..build import BuildPaths
from ..errors import BadRequest, InvalidParameter, UnsupportedMediaType
from ..formats import PLAIN_JSON
from ..ingest import IngestReport, ingest_texts
from ..settings import Settings
from ..store import Store
from .auth import require_writer
from .deps import get_settings, get_store
from .request_body import decode_utf8, read_body

router = APIRouter(tags=["Sources"])

JSON = PLAIN_JSON.media_type
MULTIPART = "multipart/form-data"
FIELDS = ("curation", "text")
_TEXT_FIELD = {"type": "string", "description": "UTF-8 text"}
_FILE_FIELD = {"type": "string", "format": "binary"}
REQUEST_BODY = {
    "required": True,
    "content": {
        MULTIPART: {"schema": {"type": "object", "required": list(FIELDS), "properties": {
            "curation": {**_FILE_FIELD, "description": "the curation file (YAML, docs/model.md)"},
            "text": {**_FILE_FIELD, "description": "the source text, exactly as received (UTF-8)"},
        }}},
        JSON: {"schema": {"type": "object", "required": list(FIELDS), "additionalProperties": False, "properties": {
            "curation": {**_TEXT_FIELD, "description": "the curation file's YAML"},
            "text": {**_TEXT_FIELD, "description": "the source text"},
        }}},
    },
}  # fmt: skip


async def _fields_of_json(body: bytes) -> dict[str, str]:
    try:
        document = json.loads(decode_utf8(body))
    except json.JSONDecodeError as error:
        raise BadRequest(f"the JSON body does not parse: {error}") from None
    if not isinstance(document, dict):
        raise InvalidParameter('the JSON body is an object {"curation": "<yaml>", "text": "<text>"}')
    extra = sorted(set(document) - set(FIELDS))
    if extra:
        raise InvalidParameter(f"unknown field(s) {', '.join(extra)}: the body has `curation` and `text`")
    return document


async def _fields_of_form(request: Request, body: bytes, limit: int) -> dict[str, str]:
    async def replay() -> dict:  # the body was read under the size limit already; the form parser reads it again
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(max_files=len(FIELDS), max_fields=len(FIELDS), max_part_size=limit)
    fields: dict[str, str] = {}
    try:
        for name in FIELDS:
            value = form.get(name)
            if isinstance(value, UploadFile):
                value = decode_utf8(await value.read())
            if value is not None:
                fields[name] = value
    finally:
        await form.close()  # its files: Starlette closes only the form of the route's own request
    return fields


async def read_source_upload(request: Request, settings: Settings) -> tuple[str, str]:
    """The curation YAML and the text of the request, whichever of the two encodings it uses."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (JSON, MULTIPART):
        raise UnsupportedMediaType(f"POST /api/sources takes {MULTIPART} or {JSON}, not {media_type or 'no type'}")
    body = await read_body(request, settings.max_upload_bytes)
    if media_type == JSON:
        fields = await _fields_of_json(body)
    else:
        fields = await _fields_of_form(request, body, settings.max_upload_bytes)
    missing = [name for name in FIELDS if not isinstance(fields.get(name), str)]
    if missing:
        raise InvalidParameter(f"the request needs `curation` and `text` as text; missing or not text: {', '.join(missing)}")
    return fields["curation"], fields["text"]


# An ingest reads the store, computes the difference, then writes it: two at once would each write a difference
# computed from a store the other has changed.
_ONE_INGEST = threading.Lock()


def _ingest_one_at_a_time(store: Store, settings: Settings, curation: str, text: str, dry_run: bool) -> IngestReport:
    with _ONE_INGEST:
        return ingest_texts(store, curation, text, paths=BuildPaths.from_settings(settings), dry_run=dry_run)


@router.post(
    "/api/sources",
    summary="Add or replace a source (curation file + text)",
    dependencies=[Depends(require_writer)],
    status_code=201,
    responses={200: {"description": "a dry run, or the store already holds this source as given"},
               422: {"description": "the source is refused; the detail names the claim and the problem"}},
    openapi_extra={"requestBody": REQUEST_BODY},
)  # fmt: skip
async def add_source(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    dry_run: Annotated[bool, Query(description="check and report what would change; write nothing")] = False,
) -> Response:
    curation, text = await read_source_upload(request, settings)
    report = await run_in_threadpool(_ingest_one_at_a_time, store, settings, curation, text, dry_run)
    if dry_run or not report.changed:
        return JSONResponse(report.as_dict(), status_code=200)
    location = f"/api/sources/{report.source_id}"  # a source id is kebab-case (filmgraph.claims)
    return JSONResponse(report.as_dict(), status_code=201, headers={"Location": location})

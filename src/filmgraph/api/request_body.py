"""Reading request bodies under a size limit (413 before the whole body is in memory), shared by the protocols."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from ..errors import BadRequest, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, read from the ASGI messages themselves: Starlette's `stream()` is an async generator, whose
    set-up cost more than the rest of reading a small SPARQL update (cProfile, in process)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the request body is not UTF-8: {error}") from None

"""FastAPI dependencies: the store and the settings live on `app.state`, set by the app factory."""

from __future__ import annotations

from fastapi import Request

from ..public_url import public_base_url
from ..settings import Settings
from ..store import Store


# `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, a costly hop per request
# for what is an attribute lookup.
async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def request_base_url(request: Request, settings: Settings) -> str:
    """The public base URL for links in the answer to this request (see `filmgraph.public_url`)."""
    return public_base_url(settings, request.headers.get("host"), request.url.scheme)

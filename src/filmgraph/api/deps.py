"""FastAPI dependencies: the store and the settings live on `app.state`, set by the app factory."""

from __future__ import annotations

from fastapi import Request

from ..settings import Settings
from ..store import Store


# `async def` on purpose: FastAPI runs a plain `def` dependency in its thread pool, a costly hop per request
# for what is an attribute lookup.
async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings

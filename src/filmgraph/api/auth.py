"""Write access: a bearer token from configuration. Reads are public; with no token configured, writes are off."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request

from ..errors import Forbidden, Unauthorized
from ..settings import Settings
from .deps import get_settings


def check_write_token(authorization: str | None, configured: str | None) -> None:
    """Raise 403 when writes are disabled, 401 when the bearer token is missing or wrong (constant-time compare)."""
    if not configured:
        raise Forbidden("this endpoint is read-only: no write token is configured (FILMGRAPH_TOKEN)")
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), configured.encode()):
        raise Unauthorized("writes need 'Authorization: Bearer <token>' with the configured token")


def require_writer(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """FastAPI dependency for every route that changes the store."""
    check_write_token(request.headers.get("authorization"), settings.token)

"""Write access: a token from configuration, sent as a bearer token or as the password of HTTP Basic (any user
name: SPARQLWrapper's `setCredentials` and rdflib's `SPARQLUpdateStore(auth=...)` speak only Basic). Reads are
public; with no token configured, writes are off."""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import Depends, Request

from ..errors import Forbidden, Unauthorized
from ..settings import Settings
from .deps import get_settings


def check_write_token(authorization: str | None, configured: str | None) -> None:
    """Raise 403 when writes are disabled, 401 when the token is missing or wrong (constant-time compare)."""
    if not configured:
        raise Forbidden("this endpoint is read-only: no write token is configured (FILMGRAPH_TOKEN)")
    presented = presented_token(authorization)
    if presented is None or not hmac.compare_digest(presented, configured.encode()):
        raise Unauthorized(
            "writes need the configured token: 'Authorization: Bearer <token>', or HTTP Basic with the token as "
            "the password (any user name)"
        )


def presented_token(authorization: str | None) -> bytes | None:
    """The token an Authorization header carries: a bearer token, or a Basic password; None for anything else."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip().encode()
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return password if colon else None


def require_writer(request: Request, settings: Settings = Depends(get_settings)) -> None:
    """FastAPI dependency for every route that changes the store."""
    check_write_token(request.headers.get("authorization"), settings.token)

"""Conditional GET for read endpoints: ETag and Last-Modified from the store's generation, 304 when unchanged.

A response depends only on the store's content and the request (path, query string, Accept), so its ETag is a
hash of those; the dependency answers 304 before any query runs. Last-Modified is when this process first saw
the current generation: never earlier than the content's real change, so caches stay correct.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from uuid import uuid4

from fastapi import Depends, HTTPException, Request, Response

from ..store import Store
from ..store.derived import PerVersion
from .deps import get_store


@dataclass(frozen=True)
class _Version:
    """One generation of one store object as this process saw it: when, and a token no other version shares."""

    since: datetime
    token: str


_VERSIONS: PerVersion[_Version] = PerVersion()  # per store object, a new one when its generation moves on


@dataclass(frozen=True)
class Validators:
    etag: str
    last_modified: datetime

    @property
    def headers(self) -> dict[str, str]:
        """The validators, with `Vary: Accept` because the ETag depends on Accept: a 304 must name what it varies
        on as the 200 does (RFC 9110 §15.4.5), or a shared cache could revalidate the wrong representation."""
        return {
            "ETag": self.etag,
            "Last-Modified": format_datetime(self.last_modified, usegmt=True),
            "Vary": "Accept",
        }


def _version(store: Store) -> _Version:
    def first_seen() -> _Version:
        now = datetime.now(UTC).replace(microsecond=0)
        previous = _VERSIONS.kept(store)
        if previous is not None and now <= previous.since:  # a change within the same second must still be newer
            now = previous.since + timedelta(seconds=1)
        return _Version(now, uuid4().hex)

    return _VERSIONS.get(store, first_seen)


def validators_for(request: Request, store: Store) -> Validators:
    """The ETag and Last-Modified of the response this request will get from this store.

    The ETag changes with the store's content and across restarts (the token is per process), never otherwise.
    """
    version = _version(store)
    key = "\n".join((version.token, request.url.path, request.url.query, request.headers.get("accept", "")))
    return Validators(f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"', version.since)


def _etag_matches(header: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored (RFC 9110 §13.1.3)
    return since.tzinfo is not None and last_modified <= since


def is_fresh(request: Request, validators: Validators) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, validators.etag)
    if_modified_since = request.headers.get("if-modified-since")
    return if_modified_since is not None and _not_modified_since(if_modified_since, validators.last_modified)


def conditional_get(request: Request, response: Response, store: Store = Depends(get_store)) -> Validators:
    """Dependency for reads: 304 if the client's copy is current, else sets ETag/Last-Modified on the response.

    Endpoints that build their own `Response` pass `validators.headers` to it (FastAPI does not merge them).
    """
    found = validators_for(request, store)
    if request.method in ("GET", "HEAD") and is_fresh(request, found):
        raise HTTPException(status_code=304, headers=found.headers)
    response.headers.update(found.headers)
    return found

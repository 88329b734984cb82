"""HEAD is answered wherever GET is: same status and headers, no body."""

from __future__ import annotations

import httpx
import pytest

PATHS = ["/id/russia", "/api/entities?q=russia", "/api/entities/russian-state-fund", "/api/queries",
         "/sparql?query=ASK%7B%7D", "/export?format=turtle&subset=ontology", "/healthz", "/"]


@pytest.mark.parametrize("path", PATHS)
def test_head_mirrors_get(live_server, path: str) -> None:
    get = httpx.get(f"{live_server}{path}", timeout=30)
    head = httpx.head(f"{live_server}{path}", timeout=30)
    assert get.status_code == 200, get.text
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers.get("content-type") == get.headers.get("content-type")


def test_head_of_an_unknown_entity_is_404(live_server) -> None:
    assert httpx.head(f"{live_server}/id/no-such-entity", timeout=30).status_code == 404

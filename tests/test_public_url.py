"""The public base URL of links in answers (`next`, VoID, the service description): FILMGRAPH_BASE_URL when set,
else the request's host only when it is an allowed one; a foreign Host header never appears in an answer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from filmgraph.api import create_app
from filmgraph.public_url import public_base_url
from filmgraph.settings import Settings
from filmgraph.store import Store

FOREIGN = "evil.example"
LINKING = [
    ("/api/entities?limit=2", "application/json"),
    ("/.well-known/void", "text/turtle"),
    ("/sparql", "text/turtle"),
]


def _client(store: Store, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(**settings), store))


@pytest.mark.parametrize(("path", "accept"), LINKING)
def test_a_foreign_host_header_never_appears_in_an_answer(built_store: Store, path: str, accept: str) -> None:
    for client in (_client(built_store), _client(built_store, base_url="https://graph.example.org/fg/")):
        response = client.get(path, headers={"Host": FOREIGN, "Accept": accept})
        assert response.status_code == 200, response.text
        assert FOREIGN not in response.text


def test_next_links_use_the_configured_base_url(built_store: Store) -> None:
    client = _client(built_store, base_url="https://graph.example.org/fg/")
    page = client.get("/api/entities", params={"limit": 2}, headers={"Host": FOREIGN}).json()
    assert page["next"] == "https://graph.example.org/fg/api/entities?offset=2&limit=2"


def test_without_a_base_url_an_allowed_host_is_kept(built_store: Store) -> None:
    client = _client(built_store, allowed_hosts=["fg.lab.example"])
    page = client.get("/api/entities", params={"limit": 2}, headers={"Host": "fg.lab.example:8443"}).json()
    assert page["next"] == "http://fg.lab.example:8443/api/entities?offset=2&limit=2"
    foreign = client.get("/api/entities", params={"limit": 2}, headers={"Host": FOREIGN}).json()
    assert foreign["next"] == "http://127.0.0.1:8000/api/entities?offset=2&limit=2"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (None, "http://127.0.0.1:8000"),
        ("localhost:9000", "http://localhost:9000"),
        ("LOCALHOST", "http://localhost"),
        ("127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("[::1]:9000", "http://127.0.0.1:8000"),  # not in the list
        ("evil.example", "http://127.0.0.1:8000"),
        ("localhost.evil.example", "http://127.0.0.1:8000"),
        ("localhost:80@evil.example", "http://127.0.0.1:8000"),
        ("localhost/evil", "http://127.0.0.1:8000"),
    ],
)
def test_the_public_base_url_of_a_request_host(host: str | None, expected: str) -> None:
    assert public_base_url(Settings(), host) == expected


def test_the_bind_host_is_allowed_and_the_base_url_wins() -> None:
    assert public_base_url(Settings(host="10.0.0.5", port=8080), "10.0.0.5:8080") == "http://10.0.0.5:8080"
    assert public_base_url(Settings(base_url="https://a.example/x/"), "localhost") == "https://a.example/x"

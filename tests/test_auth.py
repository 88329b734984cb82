"""Writes need the configured bearer token; without one the endpoint is read-only. Refused writes change nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from service_support import TOKEN

from filmgraph.api import create_app
from filmgraph.api.auth import check_write_token
from filmgraph.errors import Forbidden, Unauthorized
from filmgraph.settings import Settings

UPDATE = "INSERT DATA { GRAPH <urn:test:auth> { <urn:a> <urn:p> 'written' } }"
FORM = "application/x-www-form-urlencoded"
ASK = "ASK { <urn:a> <urn:p> 'written' }"


def written(client: TestClient) -> bool:
    return client.get("/sparql", params={"query": ASK}).json()["boolean"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}],
)
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(writable_service, headers):
    client, store = writable_service
    before = (store.generation, store.count())
    for body, content_type in ((f"update={quote(UPDATE)}", FORM), (UPDATE, "application/sparql-update")):
        response = client.post("/sparql", content=body, headers={"Content-Type": content_type, **headers})
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
    response = client.put(
        "/graph-store", params={"graph": "urn:test:auth"}, content="<urn:a> <urn:p> 'written' .",
        headers={"Content-Type": "text/turtle", **headers},
    )  # fmt: skip
    assert response.status_code == 401
    assert client.delete("/graph-store", params={"default": ""}, headers=headers).status_code == 401
    assert (store.generation, store.count()) == before
    assert not written(client)


def test_the_right_token_writes_and_the_next_read_sees_it(writable_service):
    client, store = writable_service
    response = client.post("/sparql", data={"update": UPDATE}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text
    assert written(client)
    assert "urn:test:auth" in store.named_graphs()


def test_a_malformed_update_with_the_token_is_400_and_changes_nothing(writable_service):
    client, store = writable_service
    before = store.count()
    response = client.post(
        "/sparql", data={"update": UPDATE + " ; INSERT DATA { broken"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 400
    assert store.count() == before and not written(client)


def test_without_a_configured_token_writes_are_403(embedded_store):
    client = TestClient(create_app(Settings(store=embedded_store.path, token=None), embedded_store))
    before = embedded_store.count()
    for headers in ({}, {"Authorization": "Bearer anything"}):
        assert client.post("/sparql", data={"update": UPDATE}, headers=headers).status_code == 403
        assert client.delete("/graph-store", params={"default": ""}, headers=headers).status_code == 403
    assert embedded_store.count() == before
    assert client.get("/sparql", params={"query": ASK}).status_code == 200  # reads stay public


def test_token_check_in_isolation():
    check_write_token(f"Bearer {TOKEN}", TOKEN)
    check_write_token(f"bearer   {TOKEN} ", TOKEN)
    with pytest.raises(Forbidden):
        check_write_token(f"Bearer {TOKEN}", None)
    with pytest.raises(Forbidden):
        check_write_token(f"Bearer {TOKEN}", "")
    with pytest.raises(Unauthorized):
        check_write_token(None, TOKEN)
    with pytest.raises(Unauthorized):
        check_write_token("Bearer \u00e9t\u00e9", TOKEN)  # non-ASCII must not crash compare_digest


def test_an_update_the_engine_refuses_is_404_not_400_nor_500(writable_service):
    """A well-formed update that cannot run is not "Malformed" (issue 14): a missing graph is a 404 saying so."""
    client, store = writable_service
    before = store.count()
    response = client.post("/sparql", data={"update": "CLEAR GRAPH <urn:test:not-there>"},
                           headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 404, response.text
    assert response.json()["title"] == "Graph not found"
    assert "nothing changed" in response.json()["detail"] and "does not exist" in response.json()["detail"]
    # LOAD never reaches the engine now (it would fetch the URL past the upload screen): refused before
    response = client.post("/sparql", data={"update": "LOAD <http://127.0.0.1:1/nothing.ttl>"},
                           headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 403 and "LOAD" in response.json()["detail"]
    assert store.count() == before

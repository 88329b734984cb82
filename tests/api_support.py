"""Helpers shared by the REST API tests."""

from __future__ import annotations

SOURCE_ID = "screendaily-2010-russia-european-coproduction"


def relations_of(client, entity_id: str, **params: str) -> list[dict]:
    response = client.get(f"/api/entities/{entity_id}/relations", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["relations"])
    return body["relations"]


def assert_span_in_source(evidence: dict, source_text: str) -> None:
    """The quoted text is exactly the source text at the span's code-point offsets."""
    assert source_text[evidence["begin"] : evidence["end"]] == evidence["quote"]
    if evidence.get("sentence_text"):
        assert evidence["quote"] in evidence["sentence_text"]

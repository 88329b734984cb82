"""Every JSON answer lists its items in one documented order, whatever the build and the process: two stores
built independently, each served by its own `filmgraph serve` (its own hash seed, one from copies in memory,
one from the disk), give byte-identical JSON
(issue 13: the order inside entity cards differed between instances)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from service_support import filmgraph_server

from filmgraph.build import build_store
from filmgraph.settings import Settings

def _answers(base: str) -> dict[str, str]:
    """Every JSON answer the REST API gives, found by walking from the search listing to each entity, relation
    list, source, agreement and parameterless named query: {path: body}."""
    answers: dict[str, str] = {}

    def get(path: str) -> dict:
        response = httpx.get(base + path, timeout=60)
        assert response.status_code == 200, (path, response.text)
        answers[path] = response.text
        return response.json()

    ids, page = [], "/api/entities?limit=100"
    while page:
        body = get(page)
        ids += [hit["entity"]["id"] for hit in body["items"] if hit["entity"]["id"]]
        page = body["next"] and body["next"].removeprefix(base)
    for entity in ids:
        get(f"/api/entities/{entity}")
        get(f"/api/entities/{entity}/relations")
    for q in ("russia", "film", "fund", "a"):
        get(f"/api/entities?q={q}&limit=100")
    get("/api/paths?from=russia&to=italy&max_hops=4")
    get("/api/agreements")
    get("/api/timeline")
    for source in get("/api/sources")["sources"]:
        get(f"/api/sources/{source['id']}")
    for query in get("/api/queries")["queries"]:
        if not query.get("parameters"):
            get(f"/api/queries/{query['name']}?format=json")
    return answers


@pytest.fixture(scope="module")
def second_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("second-build") / "store"
    build_store(path, Settings())
    return path


def test_two_independent_builds_answer_byte_identical_json(built_store_path: Path, second_build: Path,
                                                           tmp_path: Path) -> None:  # fmt: skip
    """Two real servers (each its own hash seed), one reading copies in memory, the other the disk."""
    first_copy = tmp_path / "first"
    shutil.copytree(built_store_path, first_copy)  # the session's build is read by other tests: use a copy
    with filmgraph_server(first_copy, "--worker-store", "memory") as base:
        first = _answers(base)
    with filmgraph_server(second_build, "--worker-store", "disk", "--workers", "1") as base:
        second = _answers(base)
    assert first.keys() == second.keys()
    assert len(first) > 50  # the walk reached every entity
    differing = [path for path in first if first[path] != second[path]]
    assert differing == []

"""`POST /api/sources` on a serving store: a new source is answered 201 with its report and is visible at once
(the source page, SPARQL); a repeat or a dry run is 200 and changes nothing; a refused source is a 422 whose detail
names the claim and the problem, and leaves the store byte for byte and the data directory as they were; the same
refusals through `filmgraph ingest`."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingest_support import SECOND, SECOND_ID, nquads
from service_support import TOKEN

from filmgraph.api import create_app
from filmgraph.settings import PROJECT_ROOT, Settings
from filmgraph.store import EmbeddedStore
from filmgraph.serving.serving_store import ServingStore

FILMGRAPH = Path(sys.executable).with_name("filmgraph")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CURATION = SECOND.read_text(encoding="utf-8")
TEXT = SECOND.with_suffix(".txt").read_text(encoding="utf-8")
CLAIM = "signing-russia-germany-2011"


class Service:
    """The real app over a writable copy of the built store (one query worker) and of the data directory."""

    def __init__(self, client: TestClient, store: EmbeddedStore, data_dir: Path) -> None:
        self.client, self.store, self.data_dir = client, store, data_dir

    def post_json(self, curation: str = CURATION, text: str = TEXT, **params: str):
        return self.client.post("/api/sources", json={"curation": curation, "text": text}, params=params, headers=AUTH)

    def snapshot(self) -> tuple[bytes, dict[str, bytes]]:
        return snapshot(self.store, self.data_dir)


def snapshot(store: EmbeddedStore, data_dir: Path) -> tuple[bytes, dict[str, bytes]]:
    """The store as sorted N-Quads and every file of the data directory: equal means nothing changed."""
    files = {str(p.relative_to(data_dir)): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}
    return nquads(store), files


@pytest.fixture
def copies(built_store_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the built store and of the data directory it was built from: (store, data)."""
    shutil.copytree(built_store_path, tmp_path / "store")
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data")
    return tmp_path / "store", tmp_path / "data"


@pytest.fixture
def service(copies: tuple[Path, Path], tmp_path: Path) -> Iterator[Service]:
    store = ServingStore(copies[0], workers=1, query_timeout=10)
    settings = Settings(store=store.path, token=TOKEN, data_dir=tmp_path / "data")
    with TestClient(create_app(settings, store)) as client:
        yield Service(client, store, tmp_path / "data")
    store.close()


def test_a_new_source_is_201_and_visible_at_once_then_a_repeat_is_200(service: Service):
    assert service.client.get(f"/api/sources/{SECOND_ID}").status_code == 404  # (and cached as such)
    notes = {"graph": "urn:test:my-notes"}
    turtle = {**AUTH, "Content-Type": "text/turtle"}
    assert service.client.put("/graph-store", params=notes, content="<urn:a> <urn:b> 'mine' .", headers=turtle).status_code == 201
    response = service.post_json()
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/sources/{SECOND_ID}"
    report = response.json()
    assert report["source_id"] == SECOND_ID and report["changed"] and report["claims_added"] == [CLAIM]
    page = service.client.get(response.headers["location"])
    assert page.status_code == 200 and page.json()["id"] == SECOND_ID
    ask = f"ASK {{ <https://w3id.org/filmgraph/id/{CLAIM}> ?p ?o }}"
    assert service.client.get("/sparql", params={"query": ask}).json()["boolean"] is True
    assert (service.data_dir / "claims" / f"{SECOND_ID}.yaml").read_text(encoding="utf-8") == CURATION
    mine = service.client.get("/graph-store", params=notes, headers={"Accept": "application/n-triples"})
    assert mine.text.strip() == '<urn:a> <urn:b> "mine" .'  # a user's graph survives the ingest
    before = service.snapshot()
    again = service.post_json()
    assert again.status_code == 200 and again.json()["changed"] is False
    assert service.snapshot() == before


def test_multipart_with_a_dry_run_first(service: Service):
    files = {"curation": ("second.yaml", CURATION.encode(), "application/yaml"), "text": ("second.txt", TEXT.encode())}
    before = service.snapshot()
    dry = service.client.post("/api/sources", files=files, params={"dry_run": "true"}, headers=AUTH)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] and dry.json()["claims_added"] == [CLAIM]
    assert service.snapshot() == before
    done = service.client.post("/api/sources", files=files, headers=AUTH)
    assert done.status_code == 201, done.text
    assert service.client.get(f"/api/sources/{SECOND_ID}").status_code == 200


REFUSED = [
    ("fg:signatory: [russia, germany]", "fg:signatory: [russia, germny]",
     ["unknown entity 'germny' in links.fg:signatory", "did you mean `germany`?"]),
    ("entities:\n", "entities:\n  - id: deutschland\n    type: fg:State\n    label: Germany\n",
     ["'deutschland' ('Germany') is declared as new but matches existing germany", "same_as: germany"]),
    ('- "The signing came in the spring"', '- "The signing came in the autumn"',
     [f"claim '{CLAIM}'", "'The signing came in the autumn'", "not in the source"]),
    ("  - id: film-letter\n", "  - id: spain\n",
     ["id 'spain' is already declared by source screendaily-2010-russia-european-coproduction"]),
    ("claims:\n", "claims: [\n", ["YAML syntax error"]),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "says"), REFUSED, ids=["unknown-id", "same-name", "quote", "redeclared", "yaml"])
def test_a_refused_source_is_422_naming_the_problem_and_changes_nothing(service: Service, old, new, says):
    assert old in CURATION
    before = service.snapshot()
    response = service.post_json(CURATION.replace(old, new, 1))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    for phrase in says:
        assert phrase in detail, (phrase, detail)
    assert "filmgraph-ingest-" not in detail and detail.startswith("curation.yaml"), detail  # no server temp path
    assert service.snapshot() == before


@pytest.mark.parametrize(("old", "new", "says"), REFUSED[:4], ids=["unknown-id", "same-name", "quote", "redeclared"])
def test_the_command_line_refuses_the_same_files_with_the_same_messages(copies, tmp_path, old, new, says):
    store_dir, data_dir = copies
    curation = tmp_path / "upload" / SECOND.name
    curation.parent.mkdir()
    curation.write_text(CURATION.replace(old, new, 1), encoding="utf-8")
    curation.with_suffix(".txt").write_text(TEXT, encoding="utf-8")
    before = _closed_snapshot(store_dir, data_dir)
    env = {**os.environ, "FILMGRAPH_DATA_DIR": str(data_dir)}
    command = [str(FILMGRAPH), "ingest", str(curation), "--store", str(store_dir)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    for phrase in says:
        assert phrase in result.stderr, (phrase, result.stderr)
    assert _closed_snapshot(store_dir, data_dir) == before


def _closed_snapshot(store_dir: Path, data_dir: Path) -> tuple[bytes, dict[str, bytes]]:
    store = EmbeddedStore(store_dir)
    try:
        return snapshot(store, data_dir)
    finally:
        store.close()
        del store
        gc.collect()  # the last reference goes, and the store's lock with it


def test_writes_need_the_token(service: Service, built_store_path: Path):
    before = service.snapshot()
    body = {"curation": CURATION, "text": TEXT}
    assert service.client.post("/api/sources", json=body).status_code == 401
    assert service.client.post("/api/sources", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    read_only = TestClient(create_app(Settings(store=service.store.path, token=None), service.store))
    assert read_only.post("/api/sources", json=body, headers=AUTH).status_code == 403
    assert service.snapshot() == before


@pytest.mark.parametrize(
    ("kwargs", "status", "says"),
    [
        ({"content": CURATION, "headers": {"Content-Type": "application/yaml"}}, 415, "multipart/form-data"),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "does not parse"),
        ({"json": {"curation": CURATION}}, 422, "missing or not text: text"),
        ({"json": {"curation": CURATION, "text": 3}}, 422, "missing or not text: text"),
        ({"json": {"curation": CURATION, "text": TEXT, "extra": 1}}, 422, "unknown field(s) extra"),
        ({"json": [CURATION, TEXT]}, 422, "is an object"),
        ({"files": {"curation": ("c.yaml", CURATION.encode())}}, 422, "missing or not text: text"),
    ],
)
def test_malformed_requests_are_4xx(service: Service, kwargs, status, says):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = service.client.post("/api/sources", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]

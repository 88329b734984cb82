"""A full disk under a real `filmgraph serve` (issue 13, item 2): every failed write says truly whether it was
written (507 problem JSON), what was acknowledged survives a restart, `/readyz` fails while the store cannot write,
and writes come back once space is freed, without a restart.

The store lives on a 20 MB tmpfs mounted for the test (root only; otherwise the test is skipped, saying why).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Triple
from service_support import SAMPLE, TOKEN, filmgraph_server, store_directory

from filmgraph.errors import GraphNotFound, StorageError, StorageFull
from filmgraph.store import EmbeddedStore
from filmgraph.store.storage_health import is_storage_failure

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
PROBLEM = "application/problem+json"
TRIPLES_PER_WRITE = 2_000  # ~200 kB of Turtle: the 20 MB disk fills within some tens of writes
ENGINE_FAILURES = {"FILMGRAPH_MIN_FREE_BYTES": "0"}  # no headroom: let the engine itself meet the full disk


def _mount_small_tmpfs(where: Path) -> str | None:
    """Mount a 20 MB tmpfs at `where`; the reason it cannot be done, or None."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root (run the reliability tests as root to test a full disk)"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(where)], capture_output=True)
    return None if done.returncode == 0 else f"cannot mount a tmpfs here: {done.stderr.decode().strip()}"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    reason = _mount_small_tmpfs(disk)
    if reason is not None:
        print(reason)
        pytest.skip(reason)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _graph_body(index: int) -> bytes:
    padding = "x" * 60
    return "\n".join(
        f'<urn:full:{index}:{n}> <urn:full:p> "{padding} {index} {n}" .' for n in range(TRIPLES_PER_WRITE)
    ).encode()


def _graph(index: int) -> str:
    return f"urn:full:graph:{index}"


def _fill(disk: Path, leave_bytes: int) -> Path:
    """A filler file taking all but `leave_bytes` of the disk."""
    stats = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave_bytes))
    return filler


def _assert_told_truly(response: httpx.Response) -> bool | None:
    """A failed write is a 507 problem that says whether it was written; returns what it says."""
    assert response.status_code == 507, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    assert problem["status"] == 507 and problem["title"] == "Insufficient storage"
    assert "written" in problem and problem["written"] in (True, False, None), problem
    assert "full" in problem["detail"] or "free" in problem["detail"], problem["detail"]
    return problem["written"]


def _post(base: str, index: int) -> httpx.Response:
    return httpx.post(f"{base}/graph-store", params={"graph": _graph(index)}, content=_graph_body(index),
                      headers=TURTLE, timeout=60)  # fmt: skip


def _count(base: str, index: int) -> int | None:
    """Triples in graph `index` as the server reads them, None when it has no such graph."""
    response = httpx.get(f"{base}/graph-store", params={"graph": _graph(index)},
                         headers={"Accept": "application/n-triples"}, timeout=60)  # fmt: skip
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return len([line for line in response.text.splitlines() if line.strip()])


def test_a_full_disk_is_told_truly_and_writes_resume_once_space_is_freed(small_disk: Path) -> None:
    store = store_directory(SAMPLE, small_disk / "store")
    with filmgraph_server(store, settings=ENGINE_FAILURES) as base:
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        filler = _fill(small_disk, leave_bytes=4 * 2**20)
        acknowledged, committed, not_written, failures = [], [], [], 0
        for index in range(200):
            response = _post(base, index)
            if response.status_code in (201, 204):
                acknowledged.append(index)
                continue
            written = _assert_told_truly(response)
            failures += 1
            if written is not None:
                (committed if written else not_written).append(index)
            if failures >= 5:
                break
        assert failures >= 5, "the disk never filled up"
        assert acknowledged, "no write fitted before the disk was full"

        update = httpx.post(f"{base}/sparql", data={"update": 'INSERT DATA { <urn:full:u> <urn:full:p> "u" }'},
                            headers=AUTH, timeout=60)  # fmt: skip
        assert _assert_told_truly(update) is False, "a full disk is not the client's fault (no 400)"
        ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503 and "cannot write" in ready.json()["detail"], ready.text

        filler.unlink()  # space returns: no restart
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        after = _post(base, 1000)
        assert after.status_code == 201, after.text
        acknowledged.append(1000)
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        for index in acknowledged + committed:  # read back at once: a 2xx (or written: true) is published
            assert _count(base, index) == TRIPLES_PER_WRITE, index

    with filmgraph_server(store) as base:  # after a restart
        for index in acknowledged + committed:
            assert _count(base, index) == TRIPLES_PER_WRITE, f"acknowledged graph {index} lost"
        for index in not_written:
            assert _count(base, index) is None, f"graph {index} was said not to be written, yet it is there"


# --- the same rules on an in-process store, no mount needed ------------------------------------------------------
class _SyncFailsOnce:
    """The store's write-ahead log sync, except that the next one (what makes a commit durable) meets a full disk."""

    def __init__(self, inner) -> None:
        self._inner, self.failed = inner, False

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def sync(self, ticket: int | None = None) -> None:
        if not self.failed:
            self.failed = True
            raise OSError(errno.ENOSPC, "No space left on device")
        self._inner.sync(ticket)


def _triples(subject: str) -> list[Triple]:
    return [Triple(NamedNode(subject), NamedNode("urn:p"), Literal("o"))]


def test_a_write_without_room_on_the_disk_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store", min_free_bytes=2**62)
    with pytest.raises(StorageFull) as refused:
        store.add_to_graph("urn:g", _triples("urn:a"))
    assert refused.value.written is False and refused.value.status_code == 507
    assert not store.has_graph("urn:g") and store.generation == 0
    assert "free" in store.storage_problem()
    store.close()


def test_a_committed_write_that_could_not_be_published_says_so_and_is_published_later(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "store")
    store._wal = _SyncFailsOnce(store._wal)
    monkeypatch.setattr(store._health, "free_bytes", lambda: 0)  # the disk as it was when the flush failed
    with pytest.raises(StorageFull) as failed:
        store.add_to_graph("urn:g", _triples("urn:a"))
    assert failed.value.written is True, "the commit succeeded: the client must not be told 'not written'"
    assert store.storage_problem() is not None
    generation = store.generation  # readers see the commit (group commit publishes before it syncs)
    with pytest.raises(StorageFull) as refused:
        store.add_to_graph("urn:h", _triples("urn:b"))
    assert refused.value.written is False and not store.has_graph("urn:h")
    monkeypatch.setattr(store._health, "free_bytes", lambda: 2**30)  # space is freed
    del failed, refused  # their tracebacks hold the old engine, which must be let go to be reopened
    assert store.storage_problem() is None, "the probe reopens the engine and publishes the committed write"
    assert store.generation == generation + 1 and store.has_graph("urn:g"), "flushed, and published again"
    store.close()


def test_the_clients_mistakes_stay_4xx_and_the_disks_are_not(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    with pytest.raises(GraphNotFound) as missing:  # a 404 since issue 14 (it was a 400): never a storage error
        store.update("CLEAR GRAPH <urn:missing>")
    assert not isinstance(missing.value, StorageError) and missing.value.status_code == 404
    assert is_storage_failure(OSError("IO error: No space left on device: While appending to file: 000008.log"))
    assert is_storage_failure(RuntimeError("Corruption: block checksum mismatch"))
    assert not is_storage_failure(RuntimeError("The graph <urn:missing> does not exist"))
    assert not is_storage_failure(OSError("The port 9 is not allowed for HTTP(S)"))
    assert not is_storage_failure(ConnectionRefusedError(111, "Connection refused"))  # a LOAD's, not the disk's
    assert is_storage_failure(OSError(28, "No space left on device"))
    store.close()


def test_small_writes_measure_the_free_space_now_and_then_and_every_time_near_the_limit(tmp_path, monkeypatch):
    store = EmbeddedStore(tmp_path / "store", min_free_bytes=2**20)
    free, measured = [2**40], []

    def free_bytes() -> int:
        measured.append(free[0])
        return free[0]

    monkeypatch.setattr(store._health, "free_bytes", free_bytes)
    small = "INSERT DATA {{ GRAPH <urn:g> {{ <urn:s{}> <urn:p> 'o' }} }}"
    for n in range(50):
        store.update(small.format(n))
    assert 1 <= len(measured) < 10, "far from the limit, small writes trust a recent measurement"
    measured.clear()
    store.add_to_graph("urn:h", _triples("urn:a"))
    assert len(measured) == 1, "a write that is not a small INSERT/DELETE DATA always measures"
    free[0] = 2**21  # 1 MiB above the limit: close
    store.add_to_graph("urn:h", _triples("urn:b"))
    measured.clear()
    for n in range(5):
        store.update(small.format(100 + n))
    assert len(measured) == 5, "near the limit every write measures"
    free[0] = 2**19
    generation = store.generation
    with pytest.raises(StorageFull) as refused:
        store.update(small.format(200))
    assert refused.value.written is False and store.generation == generation
    assert not store.query("ASK { GRAPH <urn:g> { <urn:s200> <urn:p> 'o' } }").boolean
    store.close()

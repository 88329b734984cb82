"""A build refuses to replace a store that another process (a running server) holds open, and leaves it as it was."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest

from filmgraph import build
from filmgraph.build import build_store
from filmgraph.errors import BuildError, StoreInUse, is_held_elsewhere

HOLD = "import sys, time, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); print('open', flush=True); time.sleep(60)"


def quad_count(path: Path) -> int:
    return sum(1 for _ in pyoxigraph.Store.read_only(str(path)).quads_for_pattern(None, None, None))


def test_build_refuses_a_store_held_by_another_process(built_store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    before = quad_count(store)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BuildError, match="in use by another process"):
            build_store(store)
    finally:
        holder.kill()
        holder.communicate()  # waits, and closes its stdout
    assert quad_count(store) == before
    assert not list(tmp_path.glob(".store.*")), "no half-built or retired directory is left behind"


def test_build_replaces_a_store_nobody_holds(built_store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    report = build_store(store)
    assert quad_count(store) == report.total


def test_the_one_lock_check_tells_a_held_store_from_other_failures() -> None:
    """errors.is_held_elsewhere is the one "is the store locked?" test (store, build, CLI) (issue 16 item 2)."""
    held = OSError("IO error: While lock file: /tmp/s/LOCK: Resource temporarily unavailable")  # RocksDB's words
    assert is_held_elsewhere(held)
    assert is_held_elsewhere(StoreInUse("the store /tmp/s is already open"))
    assert not is_held_elsewhere(OSError("IO error: No space left on device"))


def test_build_says_cannot_open_for_a_failure_that_is_no_lock(
    built_store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)

    engine = build.OxStore

    def refuse_the_old_store(path: str, *args, **kwargs):  # the new store is opened as usual
        if path == str(store):
            raise OSError(f"IO error: Permission denied: {path}/CURRENT")
        return engine(path, *args, **kwargs)

    monkeypatch.setattr(build, "OxStore", refuse_the_old_store)
    with pytest.raises(BuildError, match="cannot open the store at .* to replace it") as caught:
        build_store(store)
    assert "in use" not in str(caught.value)

"""A build refuses to replace a store that another process (a running server) holds open, and leaves it as it was."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest

from filmgraph.build import build_store
from filmgraph.errors import BuildError

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

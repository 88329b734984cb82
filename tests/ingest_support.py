"""A writable copy of the real build and its data directory, for tests that ingest sources into it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, serialize

from filmgraph.build import BuildPaths, build_store
from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import EmbeddedStore

EXAMPLES = Path(__file__).parent / "data" / "ingest"
SECOND = EXAMPLES / "filmletter-2011-russia-germany-signing.yaml"
SECOND_ID = "filmletter-2011-russia-germany-signing"


@dataclass
class World:
    """A store and the data directory it was built from (both copies, free to change)."""

    store: EmbeddedStore
    paths: BuildPaths
    data_dir: Path

    def nquads(self) -> bytes:
        return nquads(self.store)

    def data_files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.data_dir)): p.read_bytes() for p in sorted(self.data_dir.rglob("*")) if p.is_file()}


def nquads(store: EmbeddedStore) -> bytes:
    """The whole store as sorted N-Quads lines: equal bytes mean equal stores."""
    return b"\n".join(sorted(serialize(store.quads(), format=RdfFormat.N_QUADS).splitlines()))


def data_copy(target: Path) -> BuildPaths:
    shutil.copytree(PROJECT_ROOT / "data", target)
    return BuildPaths.from_dirs(target, PROJECT_ROOT / "ontology")


def built_world(root: Path) -> tuple[Path, BuildPaths]:
    """Build the real data into `root/store` from a copy in `root/data`; the store directory, closed."""
    paths = data_copy(root / "data")
    build_store(root / "store", paths)
    return root / "store", paths


def open_world(template: Path, root: Path) -> World:
    """A fresh copy of a built world (`template` holds `store` and `data`)."""
    shutil.copytree(template / "store", root / "store")
    shutil.copytree(template / "data", root / "data")
    data_dir = root / "data"
    return World(EmbeddedStore(root / "store"), BuildPaths.from_dirs(data_dir, PROJECT_ROOT / "ontology"), data_dir)


def build_again(paths: BuildPaths, root: Path) -> bytes:
    """A full build of the data directory into a new store: its N-Quads."""
    build_store(root / "rebuilt", paths)
    store = EmbeddedStore(root / "rebuilt")
    try:
        return nquads(store)
    finally:
        store.close()


def world_fixtures(name: str, prepare: Callable[[Path], None] = lambda root: None) -> tuple[Callable, Callable]:
    """The `template` fixture (the real data built once per module into a temporary `name` directory, then
    `prepare`d) and the `world` fixture (a fresh writable copy of it per test, closed after). A test module
    takes both: `template, world = world_fixtures("ingest-template")`."""

    @pytest.fixture(scope="module")
    def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
        root = tmp_path_factory.mktemp(name)
        built_world(root)
        prepare(root)
        return root

    @pytest.fixture
    def world(template: Path, tmp_path: Path) -> Iterator[World]:
        opened = open_world(template, tmp_path / "world")
        yield opened
        opened.store.close()

    return template, world

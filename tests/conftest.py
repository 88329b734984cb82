"""Session fixtures shared by the test modules. Each part adds its own section; expensive things are built once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from pyoxigraph import RdfFormat
from service_support import (
    SAMPLE, TOKEN, ServerURL, filmgraph_server, oxigraph_process, remote_store_at, store_directory,
)  # fmt: skip
from virtuoso_support import virtuoso_process, virtuoso_store_at

from api_support import SOURCE_ID as API_SOURCE_ID
from fastapi.testclient import TestClient

from filmgraph.api import create_app
from filmgraph.settings import Settings, get_settings
from filmgraph.store import EmbeddedStore, Store
from filmgraph.serving.serving_store import ServingStore
from filmgraph.store.remote import RemoteStore


# --- SPARQL service (issue 5): the same data behind every backend and a live server ---------------------------
@pytest.fixture(scope="session")
def service_data(built_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph the service tests serve, as one N-Quads file: the real build."""
    built = built_store
    target = tmp_path_factory.mktemp("service-data") / "graph.nq"
    pyoxigraph.serialize(built.quads(), target, format=RdfFormat.N_QUADS)
    return target


@pytest.fixture(scope="session")
def embedded_store(service_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingStore]:
    """The serving configuration of the embedded store (2 query workers); read-only use, please."""
    directory = store_directory(service_data, tmp_path_factory.mktemp("embedded") / "store")
    store = ServingStore(directory, workers=2, query_timeout=10)
    yield store
    store.close()


@pytest.fixture(scope="session")
def oxigraph_server(service_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `oxigraph serve` (union default graph, 5 s timeout) loaded with the same data; its base URL."""
    with oxigraph_process(service_data, tmp_path_factory.mktemp("oxigraph") / "store") as base:
        yield base


# --- remote engines (issue 19): the same data on Oxigraph server and on Virtuoso, each started once ----------------
REMOTE_ENGINES = ["oxigraph", "virtuoso"]


@pytest.fixture(scope="session")
def virtuoso_server(embedded_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private Virtuoso (installed from Debian when missing) holding the same graphs, pushed by `filmgraph push`'s
    code; its base URL."""
    from filmgraph.push import push

    with virtuoso_process(tmp_path_factory.mktemp("virtuoso")) as base:
        loader = virtuoso_store_at(base)
        push(embedded_store, loader)
        loader.close()
        yield base


@pytest.fixture(scope="session")
def oxigraph_remote_store(oxigraph_server: str) -> Iterator[RemoteStore]:
    store = remote_store_at(oxigraph_server)
    yield store
    store.close()


@pytest.fixture(scope="session")
def virtuoso_remote_store(virtuoso_server: str) -> Iterator[RemoteStore]:
    store = virtuoso_store_at(virtuoso_server)
    yield store
    store.close()


@pytest.fixture(scope="session", params=REMOTE_ENGINES)
def remote_store(request: pytest.FixtureRequest) -> RemoteStore:
    """The remote backend over each engine in turn (test ids name it: `-k virtuoso`); read-only use, please."""
    return request.getfixturevalue(f"{request.param}_remote_store")


@pytest.fixture(scope="session", params=["embedded", *REMOTE_ENGINES])
def any_store(request: pytest.FixtureRequest) -> Store:
    """Each backend in turn, same data: run a test on all to prove they agree."""
    name = "embedded_store" if request.param == "embedded" else f"{request.param}_remote_store"
    return request.getfixturevalue(name)


@pytest.fixture(scope="session")
def live_server(service_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    """A real `filmgraph serve` on a free port (2 workers, 2 s query timeout, write token
    `service_support.TOKEN`) over its own copy of the data; its base URL (with `.pid`)."""
    directory = store_directory(service_data, tmp_path_factory.mktemp("live") / "store")
    with filmgraph_server(directory, "--query-timeout", "2", "--workers", "2") as base:
        yield base


# --- exports and releases (issue 7) ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def export_store(built_store: Store) -> Store:
    """What the export tests export (read-only): the real build."""
    return built_store


@pytest.fixture(scope="session")
def export_store_dir(export_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same content in a closed on-disk store directory, for `filmgraph export/release --store`."""
    data = tmp_path_factory.mktemp("export-data") / "graph.nq"
    pyoxigraph.serialize(export_store.quads(), data, format=RdfFormat.N_QUADS)
    return store_directory(data, tmp_path_factory.mktemp("export") / "store")


# --- the knowledge core (issue 4): the real graph, built once -----------------------------------------------------
@pytest.fixture(scope="session")
def built_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store directory holding the real build (ontology, claims, inferences). Treat it as read-only:
    open a copy (or use `built_store`) so that several tests and subprocesses can read it."""
    from filmgraph.build import build_store
    from filmgraph.settings import Settings

    path = tmp_path_factory.mktemp("built") / "store"
    build_store(path, Settings())
    return path


@pytest.fixture(scope="session")
def built_store(built_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """An in-process `EmbeddedStore` over a copy of the built store (read-only use, please)."""
    import shutil

    copy = tmp_path_factory.mktemp("built-copy") / "store"
    shutil.copytree(built_store_path, copy)
    store = EmbeddedStore(copy)
    yield store
    store.close()


# --- REST API and entity pages (issue 6) -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rest(any_store: Store) -> Iterator[TestClient]:
    """The real app in-process over each backend in turn (the same data): REST tests run on both."""
    with TestClient(create_app(store=any_store)) as client:
        yield client


@pytest.fixture(scope="session")
def source_text() -> str:
    """The article's text, exactly as the build read it: evidence offsets count code points in it."""
    return (get_settings().data_dir / "sources" / f"{API_SOURCE_ID}.txt").read_text(encoding="utf-8")


@pytest.fixture
def writable_service(tmp_path: Path) -> Iterator[tuple[TestClient, ServingStore]]:
    """The real app over its own serving store (one worker, the sample loaded) with write token
    `service_support.TOKEN`: for tests that write. Yields (client, store)."""
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=10)
    store.load_file(SAMPLE, None)
    settings = Settings(store=store.path, token=TOKEN)
    with TestClient(create_app(settings, store)) as client:
        yield client, store
    store.close()

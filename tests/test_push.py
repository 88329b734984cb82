"""`filmgraph push`: the built graphs published to a remote engine graph by graph, the counts checked, and a push
killed half-way run again to completion; a graph only the remote holds is left alone."""

from __future__ import annotations

import http.server
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from export_support import BIN, run_cli
from service_support import SAMPLE, free_port, oxigraph_process, remote_store_at, wait_for
from virtuoso_support import virtuoso_process, virtuoso_store_at

from filmgraph.push import PushMismatch, check, local_graphs
from filmgraph.store import EmbeddedStore

SAMPLE_ONLY = "https://w3id.org/filmgraph/graph/source/article"  # in the SPARQL sample, not in the build


@pytest.fixture
def stale_oxigraph(tmp_path: Path) -> Iterator[str]:
    """An Oxigraph server holding an older, smaller graph set (the SPARQL sample): what a push replaces."""
    with oxigraph_process(SAMPLE, tmp_path / "oxigraph") as base:
        yield base


@pytest.fixture(scope="module")
def built_graphs(export_store_dir: Path) -> dict:
    store = EmbeddedStore(export_store_dir)
    try:
        return local_graphs(store)
    finally:
        store.close()


def _push(store_dir: Path, graph_store: str, *more: str, check_ok: bool = True):
    return run_cli("push", "--to", graph_store, "--store", str(store_dir), *more, check=check_ok)


def test_push_replaces_every_graph_checks_the_counts_and_leaves_the_rest(export_store_dir, built_graphs, stale_oxigraph):
    done = _push(export_store_dir, f"{stale_oxigraph}/store", "--query-url", f"{stale_oxigraph}/query")
    said = done.stderr.decode()
    assert f"pushed {sum(built_graphs.values())} triples in {len(built_graphs)} graphs" in said
    assert f"left alone: <{SAMPLE_ONLY}>" in said
    remote = remote_store_at(stale_oxigraph)
    try:
        assert {g: remote.graph_size(g) for g in built_graphs} == built_graphs
        assert remote.graph_size(SAMPLE_ONLY) > 0  # a graph the build does not have is never dropped
    finally:
        remote.close()


def test_push_to_virtuoso_through_its_graph_store(export_store_dir, built_graphs, tmp_path):
    with virtuoso_process(tmp_path / "virtuoso") as base:
        _push(export_store_dir, f"{base}/sparql-graph-crud", "--query-url", f"{base}/sparql")
        remote = virtuoso_store_at(base)
        try:
            assert remote.named_graphs() == sorted(built_graphs)  # Virtuoso's own graphs are not filmgraph's
            assert remote.count() == sum(built_graphs.values())
        finally:
            remote.close()


class _Interrupting(http.server.ThreadingHTTPServer):
    """A loopback proxy to a Graph Store that holds the `stop_at`-th PUT until the test has killed the client."""

    def __init__(self, target: str, stop_at: int) -> None:
        self.target, self.stop_at, self.puts = target, stop_at, 0
        self.holding, self.release = threading.Event(), threading.Event()
        super().__init__(("127.0.0.1", free_port()), _Forward)


class _Forward(http.server.BaseHTTPRequestHandler):
    server: _Interrupting

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "PUT":
            self.server.puts += 1
            if self.server.puts == self.server.stop_at:
                self.server.holding.set()
                self.server.release.wait(30)
                self.close_connection = True
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
        answer = httpx.request(self.command, self.server.target + self.path, content=body, headers=headers, timeout=30)
        self.send_response(answer.status_code)
        for name in ("content-type", "server"):
            if name in answer.headers:
                self.send_header(name, answer.headers[name])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_PUT = do_POST = do_DELETE = _forward

    def log_message(self, *args) -> None:
        pass


def test_a_push_killed_half_way_is_run_again_to_completion(export_store_dir, built_graphs, stale_oxigraph):
    proxy = _Interrupting(stale_oxigraph, stop_at=3)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{proxy.server_address[1]}/store"
    process = subprocess.Popen([str(BIN / "filmgraph"), "push", "--to", url, "--store", str(export_store_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(proxy.holding.is_set, 60)
        assert proxy.holding.is_set(), "the push never reached its third graph"
        process.send_signal(signal.SIGKILL)  # as a crash or a lost machine would
        process.wait(timeout=30)
    finally:
        proxy.release.set()
        proxy.shutdown()
        proxy.server_close()
    remote = remote_store_at(stale_oxigraph)
    try:
        with pytest.raises(PushMismatch):  # half pushed: the check says which graphs differ
            check(remote, built_graphs)
        _push(export_store_dir, f"{stale_oxigraph}/store")
        check(remote, built_graphs)
        assert {g: remote.graph_size(g) for g in built_graphs} == built_graphs
    finally:
        remote.close()

"""Processes for the SPARQL service tests: free ports, a real `filmgraph serve`, a real `oxigraph serve`, and
what /proc says about a server's worker processes (to prove a timed-out query's CPU work stopped)."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx
import pyoxigraph

from filmgraph.serving.checkpoints import Checkpoints
from filmgraph.store.remote import Endpoints, RemoteStore

BIN = Path(sys.executable).parent
SAMPLE = Path(__file__).parent / "data" / "sparql-sample.trig"
TOKEN = "test-write-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def store_directory(data: Path, directory: Path) -> Path:
    """A closed on-disk pyoxigraph store holding `data`, for a server process to open."""
    disk = pyoxigraph.Store(str(directory))
    disk.bulk_load(path=str(data))
    disk.flush()
    del disk
    gc.collect()
    return directory


def checkpointed(store: pyoxigraph.Store, root: Path, generation: Callable[[], int]) -> Checkpoints:
    """Checkpoints under `root` of an on-disk `store` whose generation `generation()` tells, as the serving store's
    are: what a `ServerCopy` copies."""
    return Checkpoints(root, lambda: nullcontext((store, generation())), generation)


def wait_for(condition, seconds: float = 10.0) -> None:
    """Poll `condition` until it holds or `seconds` pass (the caller asserts what it needs)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServerURL(str):
    """A server's base URL that also knows the server's process id."""

    def __new__(cls, url: str, pid: int) -> ServerURL:
        made = super().__new__(cls, url)
        made.pid = pid
        return made


@contextmanager
def filmgraph_server(
    store_dir: Path, *args: str, token: str | None = TOKEN, settings: dict[str, str] | None = None
) -> Iterator[ServerURL]:
    """`filmgraph serve` on a free 127.0.0.1 port; yields its base URL and stops it at the end. `settings` are
    FILMGRAPH_* environment variables for it."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FILMGRAPH_")}
    env.update(settings or {})
    if token:
        env["FILMGRAPH_TOKEN"] = token
    command = [str(BIN / "filmgraph"), "serve", "--store", str(store_dir), "--port", str(port), *args]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = ServerURL(f"http://127.0.0.1:{port}", process.pid)
    try:
        wait_until_up(base + "/healthz", process)
        yield base
    finally:
        stop(process)


@contextmanager
def oxigraph_process(data: Path, location: Path, timeout_s: int = 5, union: bool = True) -> Iterator[str]:
    """`oxigraph serve` (union default graph unless `union` is false, query timeout) loaded with `data`; yields
    its base URL."""
    subprocess.run(
        [str(BIN / "oxigraph"), "load", "--location", str(location), "--file", str(data)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    port = free_port()
    command = [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
               *(["--union-default-graph"] if union else []), "--timeout-s", str(timeout_s)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/query?query=ASK%7B%7D", process)
        yield base
    finally:
        stop(process)


def remote_store_at(base: str, **options) -> RemoteStore:
    """filmgraph's remote backend on an Oxigraph server at `base`."""
    return RemoteStore(Endpoints(f"{base}/query", f"{base}/update", f"{base}/store"), timeout=10, **options)


# --- /proc: the worker processes of a server ---------------------------------------------------------------------
def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    direct = children(pid)
    return direct + [grandchild for child in direct for grandchild in descendants(child)]


def cpu_ticks(pid: int) -> int | None:
    """User + system CPU ticks of a process, None once it is gone (or a zombie)."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else int(fields[11]) + int(fields[12])

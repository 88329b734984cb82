"""Benchmark filmgraph's remote backend in front of Oxigraph server and Virtuoso, against the same engines queried
directly, in the same run.

    python benchmarks/remote.py [--size 1000000] [--clients 1 4] [--requests 300] [--seconds 3] [--report FILE]

For each engine: load the generated graph (Oxigraph: `oxigraph load`; Virtuoso, a private instance as in the tests:
its bulk loader), start `filmgraph serve` on the remote backend in front of it, check that every SPARQL workload
query (benchmarks/workload.py) gives the same number of results both ways, then measure throughput with 1 and N
clients, filmgraph's `/sparql` against the engine's own endpoint. The REST workload (entity cards, label search)
has no one query to compare with: each REST request is run once in-process to record the engine requests it
makes, and those requests, replayed straight to the engine one after another, are its "engine directly" figure.
Ratios are filmgraph / engine throughput (1.0: filmgraph adds nothing).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent / "tests"))  # the tests' private Virtuoso (its ini, grants, ports)
from generate import agreement_iri, institution_iri  # noqa: E402
from run import BIN, OUT, Server, free_port, geometric_mean, measure, result_count, running  # noqa: E402
from virtuoso_support import grant, write_ini  # noqa: E402
from workload import BenchQuery, workload  # noqa: E402

from filmgraph.store.remote import Endpoints, RemoteStore  # noqa: E402

VIRTUOSO_LOAD = ["ld_dir('{dir}', '{file}', 'urn:x-filmgraph:bench-default');", "rdf_loader_run();", "checkpoint;"]


# --- engines -----------------------------------------------------------------------------------------------------
@contextmanager
def oxigraph_engine(data: Path, size: int) -> Iterator[tuple[Server, Endpoints]]:
    location = OUT / f"remote-oxigraph-{size}"
    if not location.exists():
        for command in (["load", "--file", str(data)], ["optimize"]):
            subprocess.run([str(BIN / "oxigraph"), *command, "--location", str(location)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    port = free_port()
    command = [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
               "--union-default-graph"]  # fmt: skip
    with running("Oxigraph server", command, "/query?query=ASK%7B%7D", "/query", port) as server:
        base = f"http://127.0.0.1:{port}"
        yield server, Endpoints(f"{base}/query", f"{base}/update", f"{base}/store")


@contextmanager
def virtuoso_engine(data: Path, size: int) -> Iterator[tuple[Server, Endpoints]]:
    directory = OUT / f"remote-virtuoso-{size}"
    fresh = not (directory / "virtuoso.db").exists()
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = write_ini(directory, sql_port, http_port, buffers=340_000, dirs_allowed=[data.parent])  # ~2.7 GB cache
    command = ["virtuoso-t", "+foreground", "+configfile", str(ini)]
    with running("Virtuoso", command, "/sparql?query=ASK%7B%7D", "/sparql", http_port) as server:
        if fresh:
            grant(sql_port)
            print(f"loading {data.name} into Virtuoso …", file=sys.stderr)
            script = [s.format(dir=data.parent, file=data.name) for s in VIRTUOSO_LOAD]
            grant(sql_port, script)
        sparql = f"http://127.0.0.1:{http_port}/sparql"
        yield server, Endpoints(sparql, sparql, f"http://127.0.0.1:{http_port}/sparql-graph-crud")


def filmgraph_in_front(endpoints: Endpoints, name: str):
    port = free_port()
    env = {"FILMGRAPH_BACKEND": "remote", "FILMGRAPH_REMOTE_QUERY_URL": endpoints.query,
           "FILMGRAPH_REMOTE_UPDATE_URL": endpoints.update or "",
           "FILMGRAPH_REMOTE_GRAPH_STORE_URL": endpoints.graph_store or "", "FILMGRAPH_RESULT_CACHE_SIZE": "0"}  # fmt: skip
    command = [str(BIN / "filmgraph"), "serve", "--port", str(port)]
    return running(name, command, "/readyz", "/sparql", port, env)


# --- the REST workload -------------------------------------------------------------------------------------------
def rest_paths(size: int, count: int) -> dict[str, list[str]]:
    from generate import SYLLABLES, Shape  # noqa: PLC0415

    units = Shape.for_size(size).units
    step = max(1, units // count)
    words = [a + b for a in SYLLABLES for b in SYLLABLES][:count]
    return {
        "entity card (institution)": [f"/api/entities/{institution_iri(i * step).value.rsplit('/', 1)[1]}"
                                      for i in range(count)],  # fmt: skip
        "entity card (agreement)": [f"/api/entities/{agreement_iri(i * step).value.rsplit('/', 1)[1]}" for i in range(count)],
        "label search": [f"/api/entities?q={word}&limit=10" for word in words],
    }


class Recording(RemoteStore):
    """The remote backend, keeping every engine request it sends (to replay them straight to the engine)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, str, dict]] = []

    def _send(self, method, url, what, timeout=None, **kwargs):
        self.sent.append((method, url, kwargs))
        return super()._send(method, url, what, timeout, **kwargs)


def engine_requests(endpoints: Endpoints, paths: list[str]) -> list[list[tuple[str, str, dict]]]:
    """For each REST path, the engine requests filmgraph makes to answer it (recorded in-process)."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from filmgraph.api import create_app  # noqa: PLC0415
    from filmgraph.settings import Settings  # noqa: PLC0415

    store = Recording(endpoints, timeout=120)
    recorded = []
    with TestClient(create_app(Settings(backend="remote", result_cache_size=0), store)) as client:
        client.get(paths[0])  # the engine's quirks and the graph list are found once, not per request
        for path in paths:
            store.sent.clear()
            assert client.get(path).status_code == 200, path
            recorded.append(list(store.sent))
    store.close()
    return recorded


def rest_figures(server: Server, endpoints: Endpoints, paths: list[str]) -> tuple[float, float | None]:
    """Requests/s through filmgraph, and of the same engine work sent directly (1 client each; None when the
    requests need no engine work)."""
    replays = engine_requests(endpoints, paths)
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120) as client:
        started = time.perf_counter()
        for path in paths:
            client.get(path).raise_for_status()
        through = len(paths) / (time.perf_counter() - started)
    if not any(replays):  # answered from filmgraph's own index (search), built from the engine once
        return through, None
    with httpx.Client(timeout=120) as client:
        started = time.perf_counter()
        for requests in replays:
            for method, url, kwargs in requests:
                client.request(method, url, **kwargs).raise_for_status()
        direct = len(paths) / (time.perf_counter() - started)
    return through, direct


# --- the run -----------------------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict:
    from generate import write_nquads  # noqa: PLC0415

    data = OUT / f"graph-{args.size}.nq"
    if not data.exists():
        write_nquads(args.size, data)
    queries, results = workload(args.size), {}
    for engine in (oxigraph_engine, virtuoso_engine):
        with engine(data, args.size) as (direct, endpoints), filmgraph_in_front(endpoints, "filmgraph") as through:
            print(f"measuring {direct.name} …", file=sys.stderr)
            figures = {"sparql": {}, "rest": {}}
            for query in queries:
                if result_count(direct, query) != result_count(through, query):
                    raise SystemExit(f"{query.name}: filmgraph and {direct.name} disagree")
                figures["sparql"][query.name] = {c: _ratio(through, direct, query, c, args) for c in args.clients}
            for name, paths in rest_paths(args.size, args.rest_requests).items():
                figures["rest"][name] = rest_figures(through, endpoints, paths)
            results[direct.name] = figures
    return results


def _ratio(through: Server, direct: Server, query: BenchQuery, clients: int, args) -> tuple[float, float]:
    """(engine directly, through filmgraph) requests/s; each warmed up first with the end of the cycle."""
    figures = []
    for server in (direct, through):
        measure(server, query, clients, 100, 1.0, first=len(query.texts()) - 100)
        figures.append(measure(server, query, clients, args.requests, args.seconds).throughput)
    return figures[0], figures[1]


def report(results: dict, args: argparse.Namespace) -> str:
    top = max(args.clients)
    lines = [
        "## The remote backend: filmgraph in front of Oxigraph server and Virtuoso",
        "",
        f"`make bench` runs this too (`benchmarks/remote.py --size {args.size}`), in the same run for both engines; "
        f"date {datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"{_virtuoso_version()}. The machine was shared with other work while it ran: compare the ratios, measured "
        "side by side, rather than the absolute figures. filmgraph's result cache is off (it would answer repeats).",
        "",
        f"### SPARQL workload: requests/s with {top} clients, engine directly / through filmgraph (ratio)",
        "",
        "| query | " + " | ".join(f"{engine} | via filmgraph | ratio" for engine in results) + " |",
        "|---|" + "---:|---:|---:|" * len(results),
    ]
    ratios: dict[str, list[float]] = {engine: [] for engine in results}
    for query in next(iter(results.values()))["sparql"]:
        cells = []
        for engine, figures in results.items():
            direct, through = figures["sparql"][query][top]
            ratios[engine].append(through / direct)
            cells.append(f"{direct:,.1f} | {through:,.1f} | {through / direct:.2f}×")
        lines.append(f"| {query} | " + " | ".join(cells) + " |")
    lines.append("| **geometric mean of ratios** | " + " | ".join(
        f"| | **{geometric_mean(ratios[e]):.2f}×**" for e in results) + " |")  # fmt: skip
    lines += ["", "### REST workload: requests/s with 1 client, the engine requests sent directly / through filmgraph",
              "", "| request | " + " | ".join(f"{engine} directly | via filmgraph | ratio" for engine in results) + " |",
              "|---|" + "---:|---:|---:|" * len(results)]  # fmt: skip
    for name in next(iter(results.values()))["rest"]:
        cells = []
        for figures in results.values():
            through, direct = figures["rest"][name]
            ratio = "n/a (filmgraph's own index)" if direct is None else f"{through / direct:.2f}×"
            cells.append(f"{'—' if direct is None else f'{direct:,.1f}'} | {through:,.1f} | {ratio}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _virtuoso_version() -> str:
    done = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True)
    found = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Version")]
    return f"Virtuoso {found[0].split()[1]}" if found else "Virtuoso ?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--requests", type=int, default=300, help="requests per query and client count")
    parser.add_argument("--seconds", type=float, default=3.0, help="time bound per query and client count")
    parser.add_argument("--rest-requests", type=int, default=50, help="requests per REST request kind")
    parser.add_argument("--report", type=Path, default=None, help="append the Markdown section to this file")
    args = parser.parse_args()
    text = report(run(args), args)
    print(text)
    if args.report:
        with args.report.open("a", encoding="utf-8") as out:
            out.write("\n" + text)


if __name__ == "__main__":
    main()

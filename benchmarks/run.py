"""Benchmark filmgraph's SPARQL endpoint against Oxigraph server on the same data, in the same run.

    python benchmarks/run.py [--size 100000] [--clients 1 4] [--requests 200] [--seconds 5] [--report BENCHMARKS.md]
                             [--writes 1000] [--mixed-iterations 250] [--only fixed|generated|writes]

Steps: generate the graph (cached under benchmarks/out/), load it into two on-disk stores (one per server), start
`oxigraph serve --union-default-graph` and `filmgraph serve` (default settings; then result cache off; also inline lane off; also workers reading only the disk) on
127.0.0.1, check that every query gives the same number of results on both, then measure latency (p50/p95) and
throughput with 1 and N concurrent clients (keep-alive HTTP connections, the same client code for both), plus the
engine in-process (pyoxigraph, on disk and in memory) for scale. Ratios are filmgraph / Oxigraph server throughput.

Then the write workload (benchmarks/writes.py), with Oxigraph server and filmgraph in both durability modes running
side by side on fresh copies of the stores: sequential INSERT DATA, and 4 clients mixing writes with reads.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import write_nquads  # noqa: E402
from workload import BenchQuery, workload  # noqa: E402
from writes import Endpoint, Timed, mixed, sequential  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent
WARM_UP_REQUESTS = 400  # per query and server, at most 1 s
WRITE_TOKEN = "benchmark-write-token"
ACCEPT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
          "construct": "application/n-triples"}


# --- servers ---------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    query_path: str
    process: subprocess.Popen = field(repr=False)


def _wait_ready(port: int, path: str, process: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=5)) as connection:
                connection.request("GET", path)
                if connection.getresponse().status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready after {seconds} s")


@contextmanager
def running(name: str, command: list[str], ready_path: str, query_path: str, port: int, env: dict | None = None):
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(port, ready_path, process)
        yield Server(name, port, query_path, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def oxigraph_server(location: Path):
    port = free_port()
    command = [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
               "--union-default-graph"]
    return running("Oxigraph server", command, "/query?query=ASK%7B%7D", "/query", port)


def filmgraph_server(location: Path, name: str, env: dict[str, str]):
    port = free_port()
    command = [str(BIN / "filmgraph"), "serve", "--store", str(location), "--port", str(port)]
    return running(name, command, "/readyz", "/sparql", port, env)


# --- measuring -------------------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tree(root: int) -> dict[int, list[str]]:
    """`/proc/PID/stat` fields of `root` and its live descendants (query workers, forkserver); empty without /proc."""
    if not Path("/proc/self/stat").exists():
        return {}
    stats = {int(e.name): f for e in Path("/proc").iterdir() if e.name.isdigit() and (f := _stat_fields(int(e.name)))}
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, fields in stats.items() if int(fields[1]) == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return {pid: stats[pid] for pid in tree if pid in stats}


def process_tree_cpu(root: int) -> float | None:
    """CPU seconds (user + system) used so far by `root` and its live descendants; None where /proc is not
    available."""
    tree = process_tree(root)
    if not tree:
        return None
    return sum(int(fields[11]) + int(fields[12]) for fields in tree.values()) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measurement:
    latencies: list[float]
    elapsed: float
    server_cpu: float | None = None  # CPU seconds the server's processes used during the measurement

    @property
    def cpu_per_request_us(self) -> float | None:
        if self.server_cpu is None or not self.latencies:
            return None
        return self.server_cpu / len(self.latencies) * 1e6

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def ask(connection: http.client.HTTPConnection, server: Server, text: str, kind: str) -> bytes:
    body = urllib.parse.urlencode({"query": text})
    connection.request("POST", server.query_path, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT[kind]})
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"{server.name} answered {response.status}: {payload[:300]!r}")
    return payload


def measure(server: Server, query: BenchQuery, clients: int, requests: int, seconds: float, first: int = 0) -> Measurement:
    """`requests` requests (fewer if `seconds` run out) spread over `clients` threads, each with one connection,
    taking the query's parameters from position `first` of its cycle."""
    texts, latencies, lock = query.texts(), [], threading.Lock()
    counter = iter(range(first, first + requests))
    deadline = time.monotonic() + seconds

    def client() -> None:
        with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)) as connection:
            for index in counter:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                ask(connection, server, texts[index % len(texts)], query.kind)
                with lock:
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu_before = process_tree_cpu(server.process.pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu_after = process_tree_cpu(server.process.pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Measurement(latencies, elapsed, cpu)


def results_in(payload: bytes, kind: str) -> int:
    """How many results an answer holds: rows, 0/1 for ASK, triples for CONSTRUCT (N-Triples)."""
    if kind == "construct":
        return len([line for line in payload.splitlines() if line.strip()])
    document = json.loads(payload)
    return int(document["boolean"]) if "boolean" in document else len(document["results"]["bindings"])


def result_count(server: Server, query: BenchQuery) -> list[int]:
    """Number of results per parameter value (rows, 0/1 for ASK, triples for CONSTRUCT)."""
    with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)) as connection:
        # the end of the cycle: measurements start at its beginning
        return [results_in(ask(connection, server, text, query.kind), query.kind) for text in query.texts()[-5:]]


def export_seconds(server: Server) -> float:
    """Time to fetch the whole dataset as N-Quads (filmgraph: /export; Oxigraph: its Graph Store /store)."""
    path = "/export?format=nquads&subset=all" if "filmgraph" in server.name else "/store"
    started = time.perf_counter()
    with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)) as connection:
        connection.request("GET", path, headers={"Accept": "application/n-quads"})
        response = connection.getresponse()
        size = 0
        while chunk := response.read(1 << 20):
            size += len(chunk)
    if response.status != 200 or size == 0:
        raise RuntimeError(f"{server.name} export answered {response.status}")
    return time.perf_counter() - started


def in_process(location: Path, queries: list[BenchQuery], memory: bool, repeats: int = 20) -> dict[str, float]:
    """p50 in ms of the engine alone (query + JSON/N-Triples serialisation), for scale."""
    store = pyoxigraph.Store.read_only(str(location))
    if memory:
        in_memory = pyoxigraph.Store()
        in_memory.bulk_extend(store.quads_for_pattern(None, None, None))
        store = in_memory
    medians = {}
    for query in queries:
        timings = []
        for text in query.texts()[:repeats]:
            started = time.perf_counter()
            result = store.query(text, use_default_graph_as_union=True)
            if query.kind == "construct":
                result.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES)
            else:
                result.serialize(format=pyoxigraph.QueryResultsFormat.JSON)
            timings.append(time.perf_counter() - started)
        medians[query.name] = statistics.median(timings) * 1000
    return medians


# --- the run ---------------------------------------------------------------------------------------------------
def prepare(size: int) -> tuple[Path, Path, Path]:
    data = OUT / f"graph-{size}.nq"
    if not data.exists():
        print(f"generating {size} triples …", file=sys.stderr)
        write_nquads(size, data)
    ox_store, fg_store = OUT / f"oxigraph-{size}", OUT / f"filmgraph-{size}"
    for store in (ox_store, fg_store):
        shutil.rmtree(store, ignore_errors=True)
        shutil.rmtree(store.parent / f".{store.name}-checkpoints", ignore_errors=True)
    # Both stores are compacted after loading (`oxigraph optimize`; `filmgraph load` does the same): a freshly
    # bulk-loaded store answers cheap queries at about half speed until RocksDB has compacted it.
    for command in (["load", "--file", str(data)], ["optimize"]):
        subprocess.run([str(BIN / "oxigraph"), *command, "--location", str(ox_store)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    disk = pyoxigraph.Store(str(fg_store))
    disk.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS)
    disk.flush()
    disk.optimize()
    del disk
    return data, ox_store, fg_store


def _quads(store: Path) -> int:
    return sum(1 for _ in pyoxigraph.Store.read_only(str(store)).quads_for_pattern(None, None, None))


# The servers of the write workload: filmgraph in its default durability (the write-ahead log synced before each
# acknowledgement: survives a power loss) and in `process` (as Oxigraph server: survives a crash or kill -9).
WRITE_CONFIGURATIONS = [("filmgraph (default: durability=sync)", {}),
                        ("filmgraph (durability=process)", {"FILMGRAPH_DURABILITY": "process"})]


def run_writes(args: argparse.Namespace, ox_store: Path, fg_store: Path) -> dict:
    """Sequential and mixed writes, every server up at once on its own copy of the store, taking turns."""
    copies = [_fresh_copy(ox_store, "writes-oxigraph")]
    copies += [_fresh_copy(fg_store, f"writes-filmgraph-{n}") for n in range(len(WRITE_CONFIGURATIONS))]
    reads = [q for q in workload(args.size) if q.name in ("entity lookup", "2-hop: official → post → institution → state")]
    with ExitStack() as servers:
        endpoints = [_endpoint(servers.enter_context(oxigraph_server(copies[0])), "/update", None)]
        for (name, env), copy in zip(WRITE_CONFIGURATIONS, copies[1:]):
            server = servers.enter_context(filmgraph_server(copy, name, {"FILMGRAPH_TOKEN": WRITE_TOKEN, **env}))
            endpoints.append(_endpoint(server, "/sparql", WRITE_TOKEN))
        print(f"measuring {args.writes} sequential writes …", file=sys.stderr)
        figures = {"sequential": sequential(endpoints, args.writes)}
        print(f"measuring mixed reads and writes, {MIXED_CLIENTS} clients …", file=sys.stderr)
        figures["mixed"] = mixed(endpoints, MIXED_CLIENTS, args.mixed_iterations, reads)
        figures["reads"] = [q.name for q in reads]
    for copy in copies:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(copy.parent / f".{copy.name}-checkpoints", ignore_errors=True)
    return figures


MIXED_CLIENTS = 4


def _fresh_copy(store: Path, name: str) -> Path:
    target = store.parent / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(store, target)
    return target


def _endpoint(server: Server, update_path: str, token: str | None) -> Endpoint:
    return Endpoint(server.name, server.port, server.query_path, update_path, token,
                    cpu=lambda: process_tree_cpu(server.process.pid))


def run(args: argparse.Namespace, data: Path, ox_store: Path, fg_store: Path) -> dict:
    quads = sum(1 for _ in pyoxigraph.Store.read_only(str(ox_store)).quads_for_pattern(None, None, None))
    queries = workload(args.size)
    configurations = [("filmgraph (default: result cache on)", {}),
                      ("filmgraph (result cache off)", {"FILMGRAPH_RESULT_CACHE_SIZE": "0"}),
                      ("filmgraph (cache off, inline lane off)",
                       {"FILMGRAPH_RESULT_CACHE_SIZE": "0", "FILMGRAPH_INLINE_QUERIES": "false"}),
                      ("filmgraph (cache off, workers on disk)",
                       {"FILMGRAPH_RESULT_CACHE_SIZE": "0", "FILMGRAPH_WORKER_STORE": "disk"})]
    results: dict = {"size": quads, "clients": args.clients, "servers": {}, "counts": {},
                     "distinct": {q.name: len(set(q.parameters)) for q in queries}}
    with oxigraph_server(ox_store) as reference:
        results["counts"] = {q.name: result_count(reference, q) for q in queries}
        results["servers"][reference.name] = _measure_all(reference, queries, args)
    for name, env in configurations:
        with filmgraph_server(fg_store, name, env) as server:
            counts = {q.name: result_count(server, q) for q in queries}
            if counts != results["counts"]:
                raise SystemExit(f"{name} and Oxigraph server disagree: {counts} != {results['counts']}")
            results["servers"][name] = _measure_all(server, queries, args)
    results["in-process"] = {"pyoxigraph on disk": in_process(ox_store, queries, memory=False),
                             "pyoxigraph in memory": in_process(ox_store, queries, memory=True)}
    return results


def _measure_all(server: Server, queries: list[BenchQuery], args: argparse.Namespace) -> dict:
    print(f"measuring {server.name} …", file=sys.stderr)
    figures: dict = {}
    for query in queries:
        # Warm-up, the same for every server: caches filled by the query's shape, not its answers (the parameters
        # come from the end of the cycle, which the measurements below do not reach with the default --requests).
        warm_up_from = len(query.texts()) - WARM_UP_REQUESTS
        measure(server, query, max(args.clients), WARM_UP_REQUESTS, 1.0, first=warm_up_from)
        figures[query.name], first = {}, 0
        for clients in args.clients:  # each client count continues the cycle: no request repeats an earlier one
            figures[query.name][clients] = measure(server, query, clients, args.requests, args.seconds, first)
            first += args.requests
    figures["full export (N-Quads)"] = export_seconds(server)
    return figures


# --- the report ------------------------------------------------------------------------------------------------
def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def report(results: dict, args: argparse.Namespace) -> str:
    servers = results["servers"]
    reference = servers["Oxigraph server"]
    names = [n for n in servers if n != "Oxigraph server"]
    queries = [q for q in reference if q != "full export (N-Quads)"]
    top = max(args.clients)
    lines = [
        "# Benchmarks",
        "",
        f"Run `make bench ARGS=\"--size {args.size} --clients {' '.join(map(str, args.clients))} --report BENCHMARKS.md\"` "
        "(script: `benchmarks/run.py`). Every figure below was measured in the same run, on the same data, "
        "against servers on 127.0.0.1.",
        "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {_memory()} memory, {_cpu_model()}",
        f"- Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__ if hasattr(pyoxigraph, '__version__') else '?'}, "
        f"oxigraph server {_oxigraph_version()}",
        f"- data: {results['size']:,} quads of the synthetic film-diplomacy graph (`benchmarks/generate.py`), "
        "each source in its own named graph; both servers query the union of all graphs",
        f"- every server is warmed up before each query is measured: up to {WARM_UP_REQUESTS} requests or 1 s with "
        f"{top} clients, with parameters from the end of each query's cycle",
        f"- each query: up to {args.requests} requests or {args.seconds:g} s per client count; distinct parameter "
        f"values per query: {_distinct(results['distinct'])} (a result cache can answer only repeats)",
        f"- result counts agree between Oxigraph server and filmgraph for every query (checked before measuring)",
        "",
        f"## Throughput with {top} concurrent clients (requests/s) and ratio to Oxigraph server",
        "",
        "| query | Oxigraph server | " + " | ".join(f"{n} | ratio" for n in names) + " |",
        "|---|---:|" + "---:|---:|" * len(names),
    ]
    ratios: dict[str, list[float]] = {n: [] for n in names}
    for query in queries:
        base = reference[query][top].throughput
        cells = []
        for name in names:
            value = servers[name][query][top].throughput
            ratios[name].append(value / base)
            cells.append(f"{value:,.1f} | {value / base:.2f}×")
        lines.append(f"| {query} | {base:,.1f} | " + " | ".join(cells) + " |")
    lines.append("| **geometric mean of ratios** | | " + " | ".join(
        f"| **{geometric_mean(ratios[n]):.2f}×**" for n in names) + " |")
    lines += ["", f"## Server CPU per request with {top} clients (µs, all of the server's processes)", "",
              "Where a throughput ratio comes from on a machine whose cores the clients share: the CPU time each "
              "server spends on one request (HTTP, evaluation, and for filmgraph the hand-off to a worker process).",
              "", "| query | Oxigraph server | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for query in queries:
        cells = [_cpu_cell(servers[n][query][top]) for n in ["Oxigraph server", *names]]
        lines.append(f"| {query} | " + " | ".join(cells) + " |")
    lines += ["", "## Latency with 1 client (ms, p50 / p95)", "",
              "| query | Oxigraph server | " + " | ".join(names) + " | pyoxigraph in-process, disk / memory (p50) |",
              "|---|---:|" + "---:|" * len(names) + "---:|"]
    engine = results["in-process"]
    for query in queries:
        cells = [f"{servers[n][query][1].percentile(0.5):.2f} / {servers[n][query][1].percentile(0.95):.2f}"
                 for n in ["Oxigraph server", *names]]
        lines.append(f"| {query} | " + " | ".join(cells) +
                     f" | {engine['pyoxigraph on disk'][query]:.2f} / {engine['pyoxigraph in memory'][query]:.2f} |")
    lines += ["", "## Full export of the dataset as N-Quads (seconds, 1 client)", "",
              "| Oxigraph server (`GET /store`) | " + " | ".join(f"{n} (`GET /export`)" for n in names) + " |",
              "|---:|" + "---:|" * len(names),
              f"| {reference['full export (N-Quads)']:.2f} | " + " | ".join(
                  f"{servers[n]['full export (N-Quads)']:.2f}" for n in names) + " |", ""]
    return "\n".join(lines)


def _report_header(results: dict, args: argparse.Namespace) -> list[str]:
    return ["# Benchmarks", "", f"Run `make bench ARGS=\"--size {args.size} --only writes --writes {args.writes} "
            f"--mixed-iterations {args.mixed_iterations}\"` (script: `benchmarks/run.py`).", "",
            f"- date: {datetime.date.today().isoformat()}",
            f"- machine: {platform.machine()}, {os.cpu_count()} cores, {_memory()} memory, {_cpu_model()}",
            f"- data: {results['size']:,} quads of the synthetic film-diplomacy graph", ""]


def report_writes(figures: dict, args: argparse.Namespace) -> list[str]:
    """The write section: sequential and mixed, each server's time and its ratio to Oxigraph server's."""
    sequential, mixed = figures["sequential"], figures["mixed"]
    reference = "Oxigraph server"
    lines = ["## Writes", "",
             f"Every server up at once on its own copy of the same store, taking turns in rounds of a fifth of the "
             f"work (benchmarks/writes.py). Each update is one `INSERT DATA` of one triple into a named graph, sent "
             f"as `application/sparql-update` on a keep-alive connection; filmgraph with its write token. Ratio: "
             f"the server's time over Oxigraph server's (lower is better, 1.00× = as fast).", "",
             f"### {args.writes:,} sequential INSERT DATA (1 client)", "",
             "| server | total (s) | per write (ms) | ratio to Oxigraph server | server CPU per write (µs) |",
             "|---|---:|---:|---:|---:|"]
    base = sequential[reference].seconds
    for name, timed in sequential.items():
        lines.append(f"| {name} | {timed.seconds:.3f} | {timed.seconds / timed.operations * 1000:.3f} | "
                     f"{timed.seconds / base:.2f}× | {_cpu_text(timed)} |")
    per_client = 2 + len(figures["reads"])
    lines += ["", f"### Mixed: {MIXED_CLIENTS} clients, each {args.mixed_iterations} × (a write, an ASK that must see "
              f"it, {', '.join(figures['reads'])})", "",
              f"{per_client} requests per iteration; every ASK after a write found it (checked).", "",
              "| server | total (s) | requests/s | ratio of time to Oxigraph server | write p50 (ms) | read p50 (ms) "
              "| server CPU per request (µs) |", "|---|---:|---:|---:|---:|---:|---:|"]
    base = mixed[reference].seconds
    for name, timed in mixed.items():
        lines.append(f"| {name} | {timed.seconds:.3f} | {timed.throughput:,.0f} | {timed.seconds / base:.2f}× | "
                     f"{Timed.p50_ms(timed.write_latencies):.2f} | {Timed.p50_ms(timed.read_latencies):.2f} | "
                     f"{_cpu_text(timed)} |")
    return lines + [""]


def _cpu_text(timed: Timed) -> str:
    value = timed.cpu_per_operation_us()
    return "n/a" if value is None else f"{value:,.0f}"


def _distinct(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {'none' if count == 1 else f'{count:,}'}" for name, count in counts.items())


def _cpu_cell(measured: Measurement) -> str:
    value = measured.cpu_per_request_us
    return "n/a" if value is None else f"{value:,.0f}"


def _memory() -> str:
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _oxigraph_version() -> str:
    done = subprocess.run([str(BIN / "oxigraph"), "--version"], capture_output=True, text=True)
    return done.stdout.strip().split()[-1] if done.returncode == 0 and done.stdout.strip() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="triples to generate (100000, 1000000, …)")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--requests", type=int, default=1000, help="requests per query and client count")
    parser.add_argument("--seconds", type=float, default=5.0, help="time bound per query and client count")
    parser.add_argument("--only", choices=("fixed", "generated", "writes"), default=None,
                        help="run only the nine fixed queries, the generated shapes or the write workload (default: all)")
    parser.add_argument("--generated", type=int, default=40, help="random query shapes (benchmarks/queryset.py)")
    parser.add_argument("--seed", type=int, default=21, help="the seed the shapes and their constants come from")
    parser.add_argument("--report", type=Path, default=None, help="write the Markdown report here")
    parser.add_argument("--writes", type=int, default=1000, help="sequential INSERT DATA per server")
    parser.add_argument("--mixed-iterations", type=int, default=250,
                        help="iterations per client of the mixed workload (a write and its reads)")
    args = parser.parse_args()
    if 1 not in args.clients:
        args.clients = [1, *args.clients]
    from generated_run import report_generated, run_generated  # noqa: PLC0415 - it imports this module

    prepared = prepare(args.size)
    sections = []
    if args.only in (None, "fixed"):
        sections.append(report(run(args, *prepared), args))
    if args.only in (None, "generated"):
        sections.append("\n".join(report_generated(run_generated(args, *prepared), args)))
    if args.only in (None, "writes"):
        header = _report_header({"size": _quads(prepared[1])}, args) if args.only == "writes" else []
        sections.append("\n".join(header + report_writes(run_writes(args, *prepared[1:]), args)))
    text = "\n\n".join(sections)
    print(text)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

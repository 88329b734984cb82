"""The generated read benchmark: random query shapes (queryset.py) against Oxigraph server on disk and in memory and
filmgraph with its result cache off, in the same run, on the same data.

    python benchmarks/run.py --only generated [--size 100000] [--generated 40] [--seed 21] [--report FILE]

Per shape: the first request each server ever sees of it (cold), p50 latency with 1 client, throughput with N
clients; the ratios to both Oxigraph servers as a distribution (worst, percentiles, geometric mean), not only a
mean. Also: the engine alone (pyoxigraph in memory, in this process) for each shape, so that the overhead of a
request over the engine is visible; load → ready and memory (RSS and PSS of each server's process tree) beside
Oxigraph's in-memory server. Every request of a shape takes the next of its variants (other constants).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from queryset import GeneratedQuery, generated_queries
from run import (
    BIN,
    Measurement,
    Server,
    ask,
    filmgraph_server,
    free_port,
    geometric_mean,
    in_process,
    measure,
    oxigraph_server,
    process_tree,
    results_in,
    running,
)

REFERENCES = ("Oxigraph server, on disk", "Oxigraph server, in memory")
FILMGRAPH = "filmgraph (result cache off)"
WARM_UP = 2  # requests per client before a shape's measurements, the same for every server


@dataclass
class Figures:
    """One server's figures: per shape, and for the whole server."""

    cold: dict[str, float] = field(default_factory=dict)  # the first request of each shape (ms)
    latency: dict[str, Measurement] = field(default_factory=dict)  # 1 client
    load: dict[str, Measurement] = field(default_factory=dict)  # N clients
    ready_seconds: float = 0.0
    memory: dict[str, float] = field(default_factory=dict)  # MiB: rss / pss, after ready and at the end


def tree_memory(root: int) -> dict[str, float]:
    """RSS and PSS (shared pages divided among their sharers) of a process tree, in MiB."""
    rss = pss = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                name, _, rest = line.partition(":")
                if name in ("Rss", "Pss"):
                    kib = int(rest.split()[0])
                    rss, pss = (rss + kib, pss) if name == "Rss" else (rss, pss + kib)
        except (OSError, ValueError):
            continue
    return {"rss": rss / 1024, "pss": pss / 1024}


def oxigraph_in_memory(data: Path):
    """`oxigraph serve` without a location, then the data file POSTed to its Graph Store (/store)."""
    port = free_port()
    command = [str(BIN / "oxigraph"), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    return running(REFERENCES[1], command, "/query?query=ASK%7B%7D", "/query", port), port


def post_data(port: int, data: Path) -> None:
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=600)) as connection, data.open("rb") as body:
        connection.request("POST", "/store", body=body, headers={
            "Content-Type": "application/n-quads", "Content-Length": str(data.stat().st_size)})
        response = connection.getresponse()
        response.read()
    if response.status >= 300:
        raise RuntimeError(f"loading into Oxigraph's in-memory server answered {response.status}")


def counts(server: Server, query: GeneratedQuery) -> list[int] | None:
    """Results of the first variants (rows, 0/1, triples); None for a graph cut by LIMIT, whose triples depend on
    which rows the engine picked."""
    if query.kind == "construct" and "LIMIT" in query.variants[0].rsplit("}", 1)[-1]:
        return None
    with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)) as connection:
        return [results_in(ask(connection, server, text, query.kind), query.kind) for text in query.texts()[:3]]


def measure_server(server: Server, queries: list[GeneratedQuery], args: argparse.Namespace, figures: Figures) -> None:
    top = max(args.clients)
    for query in queries:
        with closing(http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)) as connection:
            started = time.perf_counter()
            ask(connection, server, query.texts()[-1], query.kind)  # the first time this server sees the shape
            figures.cold[query.name] = (time.perf_counter() - started) * 1000
        measure(server, query, top, WARM_UP * top, 1.0, first=1)
        figures.latency[query.name] = measure(server, query, 1, args.requests, args.seconds / 2, first=WARM_UP * top)
        figures.load[query.name] = measure(server, query, top, args.requests, args.seconds, first=0)


def run_generated(args: argparse.Namespace, data: Path, ox_store: Path, fg_store: Path) -> dict:
    queries = generated_queries(args.size, args.seed, args.generated)
    servers: dict[str, Figures] = {name: Figures() for name in (*REFERENCES, FILMGRAPH)}
    expected: dict[str, list[int] | None] = {}

    def check(server: Server) -> None:
        for query in queries:
            found = counts(server, query)
            if expected.setdefault(query.name, found) != found:
                raise SystemExit(f"{server.name} disagrees on {query.name}: {found} != {expected[query.name]}")

    def one(name: str, context, load=None) -> None:
        print(f"measuring {name} …", file=sys.stderr)
        started = time.perf_counter()
        with context as server:
            if load is not None:
                load()
            figures = servers[name]
            figures.ready_seconds = time.perf_counter() - started
            figures.memory["ready"] = tree_memory(server.process.pid)
            server.name = name
            measure_server(server, queries, args, figures)
            check(server)
            figures.memory["end"] = tree_memory(server.process.pid)

    one(REFERENCES[0], oxigraph_server(ox_store))
    context, port = oxigraph_in_memory(data)
    one(REFERENCES[1], context, lambda: post_data(port, data))
    one(FILMGRAPH, filmgraph_server(fg_store, FILMGRAPH, {"FILMGRAPH_RESULT_CACHE_SIZE": "0"}))
    engine = in_process(ox_store, queries, memory=True, repeats=10)
    quads = sum(1 for _ in pyoxigraph.Store.read_only(str(ox_store)).quads_for_pattern(None, None, None))
    return {"queries": queries, "servers": servers, "engine": engine, "quads": quads}


# --- the report ------------------------------------------------------------------------------------------------
def _distribution(ratios: dict[str, float]) -> str:
    ordered = sorted(ratios.values())

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    worst = min(ratios, key=ratios.get)
    return (f"worst {ordered[0]:.2f}× ({worst.split(':')[0]}), p10 {at(0.1):.2f}×, median {statistics.median(ordered):.2f}×, "
            f"p90 {at(0.9):.2f}×, best {ordered[-1]:.2f}×, geometric mean **{geometric_mean(ordered):.2f}×**")


def report_generated(results: dict, args: argparse.Namespace) -> list[str]:
    servers: dict[str, Figures] = results["servers"]
    queries: list[GeneratedQuery] = results["queries"]
    engine: dict[str, float] = results["engine"]
    top = max(args.clients)
    disk, memory, ours = (servers[n] for n in (*REFERENCES, FILMGRAPH))
    names = [q.name for q in queries]
    ratio = {ref: {n: ours.load[n].throughput / servers[ref].load[n].throughput for n in names} for ref in REFERENCES}
    cold = {n: disk.cold[n] / ours.cold[n] for n in names}
    overhead = {n: ours.latency[n].percentile(0.5) - engine[n] for n in names}
    reference_overhead = {n: memory.latency[n].percentile(0.5) - engine[n] for n in names}
    million = results["quads"] / 1e6
    lines = [
        f"## Generated read workload ({len(queries)} random shapes, seed {args.seed}, {results['quads']:,} quads)",
        "",
        f"`make bench ARGS=\"--only generated --size {args.size} --generated {args.generated} --seed {args.seed}\"`: "
        "shapes drawn by `benchmarks/queryset.py` from a grammar of walks over the schema with property paths, "
        "OPTIONAL, UNION, FILTER, GROUP BY, ORDER BY/LIMIT, ASK, CONSTRUCT and DESCRIBE; each request of a shape "
        f"takes other constants. Per shape and server: the first request of the shape (cold), {WARM_UP} warm-up "
        f"requests per client, then up to {args.requests} requests or {args.seconds / 2:g} s with 1 client and "
        f"{args.seconds:g} s with {top} clients. filmgraph: default settings, result cache off.",
        "",
        f"Throughput with {top} clients, filmgraph / Oxigraph server on disk: {_distribution(ratio[REFERENCES[0]])}.",
        "",
        f"Throughput with {top} clients, filmgraph / Oxigraph server in memory: {_distribution(ratio[REFERENCES[1]])}.",
        "",
        f"First request of a shape never seen before, Oxigraph on disk time / filmgraph time: {_distribution(cold)}.",
        "",
        f"Overhead per request over the engine (p50 with 1 client minus pyoxigraph's in-memory p50 in process): "
        f"filmgraph median {statistics.median(overhead.values()):.2f} ms (shapes under 1 ms of engine time: "
        f"{_median([overhead[n] for n in names if engine[n] < 1.0])} ms); Oxigraph server in memory, the same "
        f"measure: median {statistics.median(reference_overhead.values()):.2f} ms. Both include the client's own "
        "HTTP work.",
        "",
        "| | load → ready (s) | RSS after ready (MiB) | RSS at the end | PSS at the end | PSS per million quads |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in (*REFERENCES, FILMGRAPH):
        figures = servers[name]
        lines.append(f"| {name} | {figures.ready_seconds:.1f} | {figures.memory['ready']['rss']:,.0f} | "
                     f"{figures.memory['end']['rss']:,.0f} | {figures.memory['end']['pss']:,.0f} | "
                     f"{figures.memory['end']['pss'] / million:,.0f} |")
    lines += ["", f"| shape | engine in memory p50 (ms) | p50 1 client (ms): Oxigraph disk / memory / filmgraph | "
              f"{top} clients (req/s): Oxigraph disk / memory / filmgraph | ratio to disk | ratio to memory | "
              "cold first request (ms): disk / filmgraph |", "|---|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        p50 = " / ".join(f"{servers[s].latency[n].percentile(0.5):.2f}" for s in (*REFERENCES, FILMGRAPH))
        rps = " / ".join(f"{servers[s].load[n].throughput:,.1f}" for s in (*REFERENCES, FILMGRAPH))
        lines.append(f"| {n} | {engine[n]:.2f} | {p50} | {rps} | {ratio[REFERENCES[0]][n]:.2f}× | "
                     f"{ratio[REFERENCES[1]][n]:.2f}× | {disk.cold[n]:.1f} / {ours.cold[n]:.1f} |")
    lines.append("")
    return lines


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}" if values else "n/a"


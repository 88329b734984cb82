"""The write workload: sequential small updates, and reads mixed with writes, against every server of one run.

- **Sequential**: `writes` INSERT DATA of one triple each, one client, one keep-alive connection, as a curator's
  script or a conformance runner sends them. The servers take turns in rounds (a fifth of the writes each), so a
  neighbour's load on a shared machine falls on all of them alike.
- **Mixed**: `clients` clients, each repeating: write a triple, ASK for it (it must be there: read-after-write is
  checked, not assumed), an entity lookup, a 2-hop path. Servers take turns in rounds here too.

Every update is `INSERT DATA { GRAPH <WRITE_GRAPH> { … } }` with terms written by pyoxigraph; the graph is a user's
graph on filmgraph (not one the build owns) and is read by its name, whatever the default graph is.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from workload import BenchQuery

WRITE_GRAPH = NamedNode("urn:filmgraph:bench:writes")
PREDICATE = NamedNode("urn:filmgraph:bench:value")
ROUNDS = 5


@dataclass(frozen=True)
class Endpoint:
    """Where one server takes updates and queries, and how it is told who writes."""

    name: str
    port: int
    query_path: str
    update_path: str
    token: str | None = None
    cpu: Callable[[], float | None] = field(default=lambda: None, compare=False)  # the server's CPU seconds so far


def _subject(run: str, client: int, n: int) -> NamedNode:
    return NamedNode(f"urn:filmgraph:bench:w:{run}:{client}:{n}")


def insert_data(subject: NamedNode, n: int) -> str:
    return f"INSERT DATA {{ GRAPH {WRITE_GRAPH} {{ {subject} {PREDICATE} {Literal(n)} }} }}"


def ask_written(subject: NamedNode, n: int) -> str:
    return f"ASK {{ GRAPH {WRITE_GRAPH} {{ {subject} {PREDICATE} {Literal(n)} }} }}"


def _post(connection: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    if response.status not in (200, 204):
        raise RuntimeError(f"POST {path} answered {response.status}: {payload[:300]!r}")
    return payload


def update(connection: http.client.HTTPConnection, endpoint: Endpoint, text: str) -> None:
    headers = {"Content-Type": "application/sparql-update"}
    if endpoint.token:
        headers["Authorization"] = f"Bearer {endpoint.token}"
    _post(connection, endpoint.update_path, text.encode(), headers)


def query(connection: http.client.HTTPConnection, endpoint: Endpoint, text: str) -> bytes:
    body = urllib.parse.urlencode({"query": text}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
    return _post(connection, endpoint.query_path, body, headers)


@dataclass
class Timed:
    """One workload on one server, summed over its rounds."""

    seconds: float = 0.0
    operations: int = 0
    cpu: float | None = 0.0
    write_latencies: list[float] = field(default_factory=list)
    read_latencies: list[float] = field(default_factory=list)

    def add_cpu(self, before: float | None, after: float | None) -> None:
        self.cpu = None if self.cpu is None or before is None or after is None else self.cpu + after - before

    @property
    def throughput(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0

    def cpu_per_operation_us(self) -> float | None:
        return None if self.cpu is None or not self.operations else self.cpu / self.operations * 1e6

    @staticmethod
    def p50_ms(latencies: list[float]) -> float:
        return statistics.median(latencies) * 1000 if latencies else float("nan")


def sequential(endpoints: list[Endpoint], writes: int, run: str = "seq") -> dict[str, Timed]:
    """`writes` INSERT DATA per server, one after the other on one connection, in ROUNDS turns."""
    timed = {endpoint.name: Timed() for endpoint in endpoints}
    per_round = max(1, writes // ROUNDS)
    for first in range(0, writes, per_round):
        count = min(per_round, writes - first)
        for endpoint in endpoints:
            texts = [insert_data(_subject(run, 0, n), n) for n in range(first, first + count)]
            # A connection per turn, opened before the clock starts: one idle while the others take their turn
            # would outlive the server's keep-alive timeout.
            connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=120)
            connection.connect()
            cpu_before, started = endpoint.cpu(), time.perf_counter()
            for text in texts:
                update(connection, endpoint, text)
            figures = timed[endpoint.name]
            figures.seconds += time.perf_counter() - started
            figures.operations += count
            figures.add_cpu(cpu_before, endpoint.cpu())
            connection.close()
    return timed


def mixed(
    endpoints: list[Endpoint], clients: int, iterations: int, reads: list[BenchQuery], run: str = "mix"
) -> dict[str, Timed]:
    """`clients` concurrent clients per server, each `iterations` times: a write, an ASK that must find it, and one
    request of each of `reads`; in ROUNDS turns. A write not seen by the next read stops the benchmark."""
    timed = {endpoint.name: Timed() for endpoint in endpoints}
    per_round = max(1, iterations // ROUNDS)
    for round_number, first in enumerate(range(0, iterations, per_round)):
        count = min(per_round, iterations - first)
        for endpoint in endpoints:
            _mixed_round(endpoint, clients, range(first, first + count), reads, f"{run}{round_number}", timed)
    return timed


def _mixed_round(
    endpoint: Endpoint, clients: int, numbers: range, reads: list[BenchQuery], run: str, timed: dict[str, Timed]
) -> None:
    figures, lock, failures = timed[endpoint.name], threading.Lock(), []
    texts = [read.texts() for read in reads]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", endpoint.port, timeout=120)
        writes, seen = [], []
        try:
            for n in numbers:
                subject = _subject(run, index, n)
                started = time.perf_counter()
                update(connection, endpoint, insert_data(subject, n))
                wrote = time.perf_counter()
                if b"true" not in query(connection, endpoint, ask_written(subject, n)):
                    failures.append(f"{endpoint.name}: a read after an acknowledged write did not see it")
                for cycle in texts:
                    query(connection, endpoint, cycle[(n * clients + index) % len(cycle)])
                writes.append(wrote - started)
                seen.append((time.perf_counter() - wrote) / (1 + len(texts)))
        except Exception as error:  # noqa: BLE001 - reported below, after every client stopped
            failures.append(f"{endpoint.name}: {type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                figures.write_latencies += writes
                figures.read_latencies += seen

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    cpu_before, started = endpoint.cpu(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures.seconds += time.perf_counter() - started
    figures.operations += clients * len(numbers) * (2 + len(texts))
    figures.add_cpu(cpu_before, endpoint.cpu())
    if failures:
        raise SystemExit("the mixed workload failed: " + "; ".join(failures[:5]))

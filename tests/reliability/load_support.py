"""A bounded mixed load against a live server: REST lookups, SPARQL reads and token-authenticated SPARQL updates.

Every request has a deadline (`answer_within`): a hang is an error like a 5xx, not a stalled test. Each update
inserts a triple naming its own number, so a caller can check afterwards that every acknowledged write is there.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

LOAD_GRAPH = "urn:filmgraph:test:load"
MARK = "urn:filmgraph:test:mark"
AUTH_HEADER = "Authorization"


def update_for(number: int) -> str:
    return f"INSERT DATA {{ GRAPH <{LOAD_GRAPH}> {{ <urn:filmgraph:test:w{number}> <{MARK}> {number} }} }}"


WRITTEN = f"SELECT ?n WHERE {{ GRAPH <{LOAD_GRAPH}> {{ ?s <{MARK}> ?n }} }}"

_READS: tuple[tuple[str, dict[str, str]], ...] = (
    ("/api/entities/russia", {}),
    ("/api/entities", {"q": "film"}),
    ("/api/entities/russia/relations", {}),
    ("/api/agreements", {}),
    ("/sparql", {"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 20"}),
    ("/sparql", {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}),
    ("/sparql", {"query": WRITTEN}),
)


@dataclass
class LoadReport:
    """What the clients saw: answers by status, failures (5xx, transport errors, hangs), acknowledged writes."""

    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    acknowledged: set[int] = field(default_factory=set)
    slowest: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int | None, seconds: float, what: str, problem: str | None = None) -> None:
        with self._lock:
            self.slowest = max(self.slowest, seconds)
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if problem is not None and len(self.failures) < 50:
                self.failures.append(f"{what}: {problem}")
            elif problem is not None:
                self.failures.append("…")

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def run_load(
    base: str,
    token: str,
    *,
    clients: int = 8,
    seconds: float = 20.0,
    write_every: int = 4,
    answer_within: float = 20.0,
    during: Callable[[float], None] | None = None,
) -> LoadReport:
    """`clients` threads for `seconds`; every `write_every`-th request of a client is an update. `during`, if given,
    runs in this thread meanwhile (it gets the load's end, a `time.monotonic()`), e.g. to kill a worker."""
    report, numbers = LoadReport(), itertools.count()
    end = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(base, token, report, numbers, end, write_every, answer_within, i))
        for i in range(clients)
    ]
    for each in threads:
        each.start()
    if during is not None:
        during(end)
    for each in threads:
        each.join(seconds + 2 * answer_within + 10)
        if each.is_alive():
            report.record(None, 0.0, "client", "a client thread never finished")
    return report


def _client(base, token, report, numbers, end, write_every, answer_within, index) -> None:
    auth = {AUTH_HEADER: f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=answer_within) as client:
        for turn in itertools.count(index):
            if time.monotonic() >= end:
                return
            if turn % write_every == write_every - 1:
                number = next(numbers)
                _send(client, report, "update", lambda: client.post("/sparql", data={"update": update_for(number)},
                                                                    headers=auth), number)  # fmt: skip
            else:
                path, params = _READS[turn % len(_READS)]
                _send(client, report, f"GET {path}", lambda: client.get(path, params=params))


def _send(client, report: LoadReport, what: str, request, number: int | None = None) -> None:
    started = time.monotonic()
    try:
        response = request()
    except httpx.TimeoutException:
        report.record(None, time.monotonic() - started, what, "no answer in time (a hang)")
        return
    except httpx.TransportError as error:
        report.record(None, time.monotonic() - started, what, f"transport error {error!r}")
        return
    seconds = time.monotonic() - started
    problem = f"{response.status_code} {response.text[:300]}" if response.status_code >= 500 else None
    report.record(response.status_code, seconds, what, problem)
    if number is not None and response.status_code in (200, 204):
        with report._lock:
            report.acknowledged.add(number)


def written_numbers(base: str, timeout: float = 30.0) -> set[int]:
    """The numbers of the updates the store holds (read through SPARQL, like any client)."""
    response = httpx.get(f"{base}/sparql", params={"query": WRITTEN},
                         headers={"Accept": "application/sparql-results+json"}, timeout=timeout)  # fmt: skip
    response.raise_for_status()
    return {int(row["n"]["value"]) for row in response.json()["results"]["bindings"]}

"""On SIGTERM, requests queued for a busy query worker are answered at once with a 503 problem, never the
plain-text 500 uvicorn writes for a request it cancels once the grace period is over (operator campaign)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
from service_support import SAMPLE, cpu_ticks, filmgraph_server, store_directory, wait_for

# Eight unconstrained patterns over the sample's 20 quads: 20^8 rows, so it runs until stopped.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { " + " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(8)) + " }"
STOPPED_WITHIN_S = 15.0  # shutdown timeout 2 s + the supervisor's margin; generous for a shared machine


def _ask(base: str, answers: list, card: bool = False) -> None:
    """A runaway query, or (`card`) an entity card, whose lookups queue for a worker in FastAPI's threads."""
    try:
        if card:
            response = httpx.get(base + "/api/entities/russia", timeout=60)
        else:
            response = httpx.post(base + "/sparql", data={"query": RUNAWAY}, timeout=60)
        answers.append((response.status_code, response.headers, response.text))
    except httpx.HTTPError as error:  # the connection closed unanswered: recorded, and fails the test
        answers.append((None, httpx.Headers(), repr(error)))


def test_sigterm_answers_queued_queries_with_503_problem(tmp_path: Path) -> None:
    flags = ("--workers", "1", "--query-timeout", "30", "--shutdown-timeout", "2")
    with filmgraph_server(store_directory(SAMPLE, tmp_path / "store"), *flags) as base:
        answers: list = []
        busy = threading.Thread(target=_ask, args=(base, answers))
        busy.start()
        time.sleep(2)  # the runaway holds the only worker
        queued = [threading.Thread(target=_ask, args=(base, answers, card)) for card in (False, False, True)]
        for thread in queued:
            thread.start()
        time.sleep(1)  # they wait for the worker
        start = time.monotonic()
        os.kill(base.pid, signal.SIGTERM)
        wait_for(lambda: cpu_ticks(base.pid) is None, seconds=30)
        assert cpu_ticks(base.pid) is None and time.monotonic() - start < STOPPED_WITHIN_S
        for thread in [busy, *queued]:
            thread.join(30)
    assert len(answers) == 4
    for status, headers, text in answers:
        assert status in (200, 404, 503), (status, text)  # answered in time, or refused as a problem: never a 500
        if status == 503:
            assert headers["content-type"] == "application/problem+json", text
            assert int(headers["retry-after"]) > 0

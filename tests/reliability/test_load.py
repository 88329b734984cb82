"""Issue 13.1: reads and token-authenticated updates together must not wedge the service.

The outage this reproduces: under mixed load with writes, workers died opening a checkpoint the server had just
deleted, were not replaced, and SPARQL and REST then hung with `/readyz` at 503 until a restart. Bounded: 8
clients for 20 s, every request answered within 20 s or counted as a hang.
"""

from __future__ import annotations

import httpx
from load_support import run_load, written_numbers
from service_support import TOKEN, filmgraph_server, store_directory, wait_for

WORKERS = 2


def readiness(base: str) -> tuple[int, dict]:
    response = httpx.get(f"{base}/readyz", timeout=30)
    return response.status_code, response.json()


def pool_check(body: dict) -> dict:
    return next(check for check in body.get("checks", []) if check["name"] == "query workers")


def pool_is_full(base: str) -> bool:
    status, body = readiness(base)
    return status == 200 and pool_check(body)["alive"] == WORKERS


def test_mixed_reads_and_writes_give_no_error_and_leave_a_full_pool(service_data, tmp_path):
    directory = store_directory(service_data, tmp_path / "store")
    with filmgraph_server(directory, "--workers", str(WORKERS), "--query-timeout", "10") as base:
        report = run_load(base, TOKEN, clients=8, seconds=20, answer_within=20)
        assert report.failures == [], report.failures
        assert report.acknowledged, "no update was acknowledged"
        assert report.statuses.keys() <= {200, 204}, report.statuses
        wait_for(lambda: pool_is_full(base), 30)
        status, body = readiness(base)
        assert status == 200, body
        assert pool_check(body) | {"alive": WORKERS, "configured": WORKERS} == pool_check(body), body
        assert report.acknowledged <= written_numbers(base)

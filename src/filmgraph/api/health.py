"""Health endpoints for process managers and load balancers: `/healthz` (alive) and `/readyz` (answers queries).

`/readyz` runs a list of checks, each a `HealthCheck` (name, ok, detail); it is 200 when all are ok, else 503, and
always lists every check, so an operator sees the pool's real state (workers alive against configured, the
in-memory copy's state, whether the store can write) and not only a yes or no. A new check is one more function in `CHECKS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..errors import FilmgraphError
from ..store import HealthCheck, Store
from .deps import get_store

router = APIRouter(tags=["health"])
READY_TIMEOUT = 5.0


async def query_answers(store: Store) -> list[HealthCheck]:
    """A trivial query comes back through the same path as every query (workers or remote)."""
    try:
        await run_in_threadpool(store.query, "ASK { }", None, None, READY_TIMEOUT)
    except FilmgraphError as error:
        return [HealthCheck("query", False, {"error": str(error)})]
    return [HealthCheck("query", True)]


async def store_parts(store: Store) -> list[HealthCheck]:
    """What the store reports of its parts (the embedded store: query workers, in-memory copy)."""
    return store.health()


async def store_writable(store: Store) -> list[HealthCheck]:
    """Not ready while the store cannot write (full disk, failed write): a balancer sends writes elsewhere."""
    problem = await run_in_threadpool(store.storage_problem)
    if problem is None:
        return [HealthCheck("store writable", True)]
    return [HealthCheck("store writable", False, {"error": f"the store cannot write: {problem}"})]


# Each check may report several parts; every one is run and listed.
CHECKS: list[Callable[[Store], Awaitable[list[HealthCheck]]]] = [query_answers, store_parts, store_writable]


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers queries; the state of its parts")
async def readyz(store: Annotated[Store, Depends(get_store)]) -> JSONResponse:
    checks = [part for check in CHECKS for part in await check(store)]
    failed = [each for each in checks if not each.ok]
    body = {
        "status": "unavailable" if failed else "ready",
        "generation": store.generation,
        "checks": [{"name": each.name, "ok": each.ok, **each.detail} for each in checks],
    }
    if failed:
        body["detail"] = "; ".join(f"{each.name}: {each.detail.get('error', 'not ok')}" for each in failed)
    return JSONResponse(body, status_code=503 if failed else 200)

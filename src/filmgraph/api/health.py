"""Health endpoints for process managers and load balancers: `/healthz` (alive) and `/readyz` (answers queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..errors import FilmgraphError
from ..store import Store
from .deps import get_store

router = APIRouter(tags=["health"])
READY_TIMEOUT = 5.0


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers a query")
async def readyz(store: Annotated[Store, Depends(get_store)]) -> JSONResponse:
    """Ready when a trivial query comes back through the same path as every query (workers or remote)."""
    try:
        await run_in_threadpool(store.query, "ASK { }", None, None, READY_TIMEOUT)
    except FilmgraphError as error:
        return JSONResponse({"status": "unavailable", "detail": str(error)}, status_code=503)
    unwritable = await run_in_threadpool(store.storage_problem)
    if unwritable is not None:
        return _storage_unready(unwritable)
    return JSONResponse({"status": "ready", "generation": store.generation})


def _storage_unready(problem: str) -> JSONResponse:
    """Not ready while the store cannot write (full disk, failed write): a balancer sends writes elsewhere."""
    return JSONResponse({"status": "unavailable", "detail": f"the store cannot write: {problem}"}, status_code=503)

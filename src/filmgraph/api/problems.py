"""One place that turns filmgraph errors into HTTP: RFC 9457 problem JSON."""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import FilmgraphError

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def filmgraph_problem(error: FilmgraphError) -> JSONResponse:
    response = problem_response(error.status_code, error.title, str(error), **getattr(error, "extensions", {}))
    response.headers.update(getattr(error, "headers", {}))  # e.g. WWW-Authenticate, Retry-After
    return response


async def _filmgraph_error(request: Request, error: FilmgraphError) -> JSONResponse:
    return filmgraph_problem(error)


def _where(error: dict) -> str:
    return " ".join(str(part) for part in error.get("loc", ()) if part not in ("query", "path", "header", "body"))


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's parameter validation (422) in the same problem shape, each error naming its parameter."""
    errors = [{"parameter": _where(e), "message": e.get("msg", ""), "input": e.get("input")} for e in error.errors()]
    detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
    return problem_response(422, "Invalid parameter", detail, errors=jsonable_encoder(errors))


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Starlette's own 404/405 (unknown path, wrong method) in the same problem shape, headers (Allow) kept;
    a non-error status raised this way (304 Not Modified) keeps FastAPI's empty answer."""
    if error.status_code < 400:
        return await http_exception_handler(request, error)
    response = problem_response(error.status_code, HTTPStatus(error.status_code).phrase, str(error.detail))
    response.headers.update(error.headers or {})
    return response


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(FilmgraphError, _filmgraph_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]

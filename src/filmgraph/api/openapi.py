"""The OpenAPI document, completed with every status and media type an operation really answers.

FastAPI infers only what a route's signature shows: a JSON 200 and a 422. The rest is known here, in one table
over the media-type tables the routers negotiate with, so that a client generated from the spec (or a
schemathesis run) is told about problem+json errors, HTML pages, RDF and CSV answers, 304s and 503s (issue 13).
`tests/test_openapi_answers.py` checks real answers against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema

from . import home
from .conditional import conditional_get
from ..formats import HTML, JSON_LD, PLAIN_JSON
from .graph_store import GRAPH_FORMATS
from .models import InvalidParameters, Problem
from .negotiation import GRAPH_MEDIA_TYPES, RESULTS_MEDIA_TYPES
from .problems import PROBLEM_MEDIA_TYPE
from .sparql import DESCRIPTION_TYPES

PROBLEMS: dict[int, str] = {
    400: "A query, update or body that does not parse, or a malformed graph address.",
    401: "A write without the right token (bearer, or the HTTP Basic password).",
    403: "Writes are off (no token configured), or a SERVICE clause is not allowed.",
    404: "No such entity, source, graph or query.",
    406: "None of the accepted media types is offered.",
    409: "A well-formed query or update that cannot be carried out (the engine's message says why: a graph that "
    "already exists, an unknown function), or a write to a graph the build owns.",
    413: "The query or body is longer than the configured limit.",
    415: "The body's media type is not one this operation reads.",
    422: "An invalid parameter, or a result larger than the configured limit; the body says which.",
    502: "The remote SPARQL backend did not answer.",
    503: "Busy (too many connections or queued queries), a query outlived the timeout, or the disk failed a write; "
    "see Retry-After.",
    507: "The disk under the store is full; the body's `written` says whether the write was made.",
}
SPARQL_ANSWERS = (*RESULTS_MEDIA_TYPES, *GRAPH_MEDIA_TYPES, HTML.media_type, *DESCRIPTION_TYPES)
JSON = PLAIN_JSON.media_type
EVERY_OPERATION = frozenset({503})
STORELESS = frozenset({"/healthz", "/context.jsonld"})  # answer without asking the store (no 502)


@dataclass(frozen=True)
class Answers:
    """What an operation answers beyond FastAPI's inference: problem statuses, and (when given) the successful
    answers that replace FastAPI's JSON 200 ({status: media types}; none = no body)."""

    problems: frozenset[int] = frozenset()
    success: dict[int, tuple[str, ...]] = field(default_factory=dict)


_SPARQL = Answers(frozenset({400, 403, 406, 409, 413, 415, 422}), {200: SPARQL_ANSWERS})
_UPLOAD = Answers(frozenset({400, 401, 403, 413, 415, 507}), {201: (), 204: ()})
_RECONCILE = Answers(frozenset({400, 413, 422}), {200: (JSON, "application/javascript")})  # JSONP
OPERATIONS: dict[tuple[str, str], Answers] = {
    ("get", "/sparql"): _SPARQL,
    ("post", "/sparql"): Answers(_SPARQL.problems | {401, 404, 507}, {200: SPARQL_ANSWERS, 204: ()}),
    ("get", "/graph-store"): Answers(frozenset({400, 404, 406}), {200: GRAPH_FORMATS}),
    ("put", "/graph-store"): _UPLOAD,
    ("post", "/graph-store"): _UPLOAD,
    ("delete", "/graph-store"): Answers(frozenset({400, 401, 403, 404, 507}), {204: ()}),
    ("get", "/readyz"): Answers(frozenset(), {200: (JSON,), 503: (JSON,)}),
    ("get", "/api/agreements"): Answers(frozenset({422})),
    ("get", "/export"): Answers(frozenset({400})),
    ("get", "/context.jsonld"): Answers(frozenset(), {200: (JSON_LD.media_type,)}),
    ("get", "/"): Answers(frozenset(), {200: home.OFFERED}),
    **{("get", "/reconcile" + path): _RECONCILE for path in ("", "/suggest/entity", "/suggest/type",
                                                             "/suggest/property", "/propose_properties")},
    ("post", "/reconcile"): Answers(frozenset({400, 413, 415, 422}), {200: (JSON,)}),
    ("get", "/reconcile/preview"): Answers(frozenset({404, 422}), {200: (HTML.media_type,)}),
}


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request, like FastAPI's own)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = complete(spec, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(spec: dict[str, Any], routes: Iterable[Any]) -> dict[str, Any]:
    _add_problem_schemas(spec)
    conditional = {(method.lower(), context.path_format) for context in iter_route_contexts(list(routes))
                   if isinstance(context.original_route, APIRoute)
                   and _depends_on(context.original_route.dependant, conditional_get)
                   for method in context.methods or ()}  # fmt: skip
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            answers = OPERATIONS.get((method, path), Answers())
            responses = operation["responses"]
            _problems_as_problem_json(responses)  # first: a route's own JSON error body (readyz's 503) is kept
            _replace_success(responses, answers.success)
            statuses = set(answers.problems) | EVERY_OPERATION | ({502} if path not in STORELESS else set())
            if "422" in responses:
                statuses.add(422)
            if _negotiates(responses):
                statuses.add(406)
            for status in sorted(statuses):
                _add_problem(responses, status)
            if (method, path) in conditional:
                responses["304"] = {"description": "Not modified: the ETag or date the client holds is current."}
            operation["responses"] = dict(sorted(responses.items()))
    return spec


def _depends_on(dependant: Dependant, call: object) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def _negotiates(responses: dict[str, Any]) -> bool:
    return any(len(responses.get(status, {}).get("content", {})) > 1 for status in ("200", "201"))


def _replace_success(responses: dict[str, Any], success: dict[int, tuple[str, ...]]) -> None:
    if not success:
        return
    json_schema = responses.get("200", {}).get("content", {}).get(JSON, {})
    for status in [s for s in responses if s.startswith("2") or int(s) in success]:
        del responses[status]
    for status, media_types in success.items():
        answer: dict[str, Any] = {"description": _SUCCESS.get(status, "Success.")}
        if media_types:
            answer["content"] = {m: (json_schema if m == JSON else {}) for m in media_types}
        responses[str(status)] = answer


_SUCCESS = {200: "The answer, in the negotiated media type.", 201: "Created: the graph is new.",
            204: "Done: nothing to return (a graph replaced or dropped, an update applied).",
            503: "Not ready: the body says why."}  # fmt: skip


def _add_problem(responses: dict[str, Any], status: int) -> None:
    entry = responses.setdefault(str(status), {"description": PROBLEMS[status]})
    entry.setdefault("content", {})[PROBLEM_MEDIA_TYPE] = {"schema": _problem_schema(status)}


def _problems_as_problem_json(responses: dict[str, Any]) -> None:
    """Errors are RFC 9457 problem+json (api/problems.py), not the application/json FastAPI assumes."""
    for status, entry in responses.items():
        content = entry.get("content", {})
        if status[0] in "45" and JSON in content:
            del content[JSON]
            content[PROBLEM_MEDIA_TYPE] = {"schema": _problem_schema(int(status))}


def _problem_schema(status: int) -> dict[str, str]:
    model = InvalidParameters if status == 422 else Problem
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _add_problem_schemas(spec: dict[str, Any]) -> None:
    _, top = models_json_schema(
        [(Problem, "validation"), (InvalidParameters, "validation")], ref_template="#/components/schemas/{model}"
    )
    spec.setdefault("components", {}).setdefault("schemas", {}).update(top["$defs"])

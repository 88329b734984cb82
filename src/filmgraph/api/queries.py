"""Research questions as endpoints: every `queries/*.rq` becomes `GET /api/queries/{name}`.

Each file's header (parsed by `filmgraph.named_queries`) becomes the route's documented, typed query parameters;
values are bound as RDF terms by `bind_parameters` and `with_parameters`, never spliced. Answers come as plain JSON
rows (the default, `Accept: application/json`, `?format=rows`), or in the SPARQL results formats serialised by the
engine, chosen by `?format=` or `Accept`. `format=` names mean what they mean everywhere (filmgraph.formats): `json`
is SPARQL results JSON here too, as on /sparql and in the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path as PathParam, Request
from fastapi.responses import Response, StreamingResponse
from pyoxigraph import Literal, NamedNode, Triple

from ..errors import InvalidParameter, NotFound
from ..formats import CSV, PLAIN_JSON, SPARQL_JSON, SPARQL_XML, TSV, Format, by_media_type, media_types, named
from ..named_queries import NamedQuery, QueryParameter, bind_parameters, load_named_queries, with_parameters
from ..store import Store
from ..store.base import QueryResult, Term
from .conditional import Validators, conditional_get
from .deps import get_store
from .models import PROBLEMS, QueryAnswer, QueryInfo, QueryList, QueryParameterInfo
from .negotiation import choose

# Plain rows are ours (the default); the rest are the SPARQL results formats. This order breaks Accept ties.
ANSWER_FORMATS = (PLAIN_JSON, CSV, TSV, SPARQL_JSON, SPARQL_XML)
OFFERED = media_types(ANSWER_FORMATS)
FORMAT_NAMES = tuple(name for f in ANSWER_FORMATS for name in f.names)
_OPENAPI_TYPES: dict[str, dict[str, str]] = {
    "iri": {"type": "string", "description": "IRI"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
}


def _info(query: NamedQuery) -> QueryInfo:
    return QueryInfo(
        name=query.name,
        title=query.title,
        description=query.description,
        url=f"/api/queries/{query.name}",
        parameters=[QueryParameterInfo(**vars(p)) for p in query.parameters],
    )


def _openapi_parameter(parameter: QueryParameter) -> dict[str, Any]:
    schema = {key: value for key, value in _OPENAPI_TYPES[parameter.type].items() if key != "description"}
    if parameter.default is not None:
        schema["default"] = int(parameter.default) if parameter.type == "integer" else parameter.default
    return {
        "name": parameter.name,
        "in": "query",
        "required": parameter.required and parameter.default is None,
        "description": " ".join(filter(None, (parameter.description, f"({parameter.type})"))),
        "schema": schema,
    }


FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "rows (plain JSON rows, the default), csv, tsv, json or srj (SPARQL results JSON), xml or srx "
    "(SPARQL results XML); overrides Accept.",
    "schema": {"type": "string", "enum": list(FORMAT_NAMES)},
}


def _answer_format(request: Request) -> Format:
    """`?format=` wins over Accept; without either, plain rows."""
    name = request.query_params.get("format")
    if name is not None:
        chosen = named(name, among=ANSWER_FORMATS)
        if chosen is None:
            raise InvalidParameter(f"format must be one of {', '.join(FORMAT_NAMES)}, not {name!r}")
        return chosen
    return by_media_type(choose(request.headers.get("accept"), OFFERED, "offered: {offered}"), ANSWER_FORMATS)


def _parameters(request: Request) -> dict[str, str]:
    given: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name == "format":
            continue
        if name in given:
            raise InvalidParameter(f"parameter {name!r} is given more than once")
        given[name] = value
    return given


def _text(term: Term) -> str:
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    return str(term)


def _answer(query: NamedQuery, result: QueryResult) -> QueryAnswer:
    if result.kind == "ask":
        return QueryAnswer(query=query.name, title=query.title, variables=[], total=0, rows=[], boolean=result.boolean)
    if result.kind == "construct":
        rows = [_triple_row(triple) for triple in result.triples]
        return QueryAnswer(query=query.name, title=query.title, variables=["subject", "predicate", "object"],
                           total=len(rows), rows=rows)
    rows = [{name: _text(term) for name, term in row.items()} for row in result.rows]
    return QueryAnswer(query=query.name, title=query.title, variables=result.variables, total=len(rows), rows=rows)


def _triple_row(triple: Triple) -> dict[str, str]:
    return {"subject": _text(triple.subject), "predicate": _text(triple.predicate), "object": _text(triple.object)}


def _endpoint(query: NamedQuery):
    def answer(
        request: Request,
        store: Annotated[Store, Depends(get_store)],
        validators: Annotated[Validators, Depends(conditional_get)],
    ) -> Response:
        sparql = with_parameters(query, bind_parameters(query, _parameters(request), store))
        answer_format = _answer_format(request)
        headers = {**validators.headers, "Vary": "Accept"}  # the format follows Accept: caches must key on it
        if answer_format == PLAIN_JSON:
            body = _answer(query, store.query(sparql)).model_dump_json()
            return Response(body, media_type=PLAIN_JSON.media_type, headers=headers)
        result = store.query_serialized(sparql, answer_format.media_type)
        return StreamingResponse(result.chunks(), media_type=result.media_type, headers=headers)

    answer.__name__ = "query_" + query.name.replace("-", "_")
    answer.__doc__ = query.description
    return answer


def build_router(queries_dir: Path) -> APIRouter:
    """One documented route per named query in `queries_dir`, plus the list and a 404 for unknown names."""
    queries = load_named_queries(queries_dir) if Path(queries_dir).is_dir() else {}
    router = APIRouter(prefix="/api/queries", tags=["research questions"], responses=PROBLEMS)

    @router.get("", response_model=QueryList, summary="The research questions", dependencies=[Depends(conditional_get)])
    def list_queries() -> QueryList:
        return QueryList(total=len(queries), queries=[_info(q) for q in queries.values()])

    for query in queries.values():
        router.add_api_route(
            f"/{query.name}",
            _endpoint(query),
            methods=["GET"],
            summary=query.title,
            response_class=Response,
            openapi_extra={"parameters": [_openapi_parameter(p) for p in query.parameters] + [FORMAT_PARAMETER]},
            responses={200: {"model": QueryAnswer, "content": {m: {} for m in OFFERED[1:]}}},
        )

    @router.get("/{name}", include_in_schema=False)
    def unknown(name: Annotated[str, PathParam(max_length=200)]) -> None:
        raise NotFound(f"no query named {name!r}; known: {', '.join(queries) or 'none'}")

    return router

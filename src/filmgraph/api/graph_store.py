"""The SPARQL 1.1 Graph Store HTTP Protocol at `/graph-store` (`?default` or `?graph=IRI`).

GET/HEAD read a graph, PUT replaces it, POST adds to it, DELETE drops it. Writes need the bearer token and are
refused (409) for the graphs the build owns (filmgraph.ownership); an upload is parsed completely before the store
is touched, so a bad body changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pyoxigraph import NamedNode, Triple

from ..errors import BadRequest, NotFound, UnsupportedMediaType
from ..formats import TRIPLE_FORMATS, media_types
from ..ownership import refuse_owned
from ..settings import Settings
from ..store import Store
from ..store.rdf_files import UploadLimits, graph_format, parse_upload
from .auth import require_writer
from .deps import get_settings, get_store
from .negotiation import choose
from .request_body import read_body

router = APIRouter(tags=["Graph Store"])

# One graph at a time: the formats that carry triples, in the server's order of preference.
GRAPH_FORMATS = media_types(TRIPLE_FORMATS)
GraphParam = Annotated[str | None, Query(description="IRI of the named graph")]
DefaultParam = Annotated[str | None, Query(description="present (no value) to address the default graph")]


def target_graph(graph: str | None, default: str | None) -> str | None:
    """The addressed graph (None = default graph); exactly one of ?graph / ?default must be given."""
    if (graph is None) == (default is None):
        raise BadRequest("address exactly one graph: ?default or ?graph=IRI")
    if graph is None:
        return None
    try:
        return NamedNode(graph).value
    except ValueError as error:
        raise BadRequest(f"graph {graph!r} is not an IRI: {error}") from None


def _existing(store: Store, graph: str | None) -> None:
    if not store.has_graph(graph):
        raise NotFound(f"there is no graph {graph}")


async def _triples(request: Request, settings: Settings, graph: str | None) -> list[Triple]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    rdf_format = graph_format(media_type) if media_type else None
    if rdf_format is None:
        raise UnsupportedMediaType(f"send a graph as one of {', '.join(GRAPH_FORMATS)}, not {media_type or 'no type'}")
    body = await read_body(request, settings.max_upload_bytes)
    return await run_in_threadpool(parse_upload, body, rdf_format, graph, UploadLimits.from_settings(settings))


@router.get("/graph-store", summary="Read a graph")
@router.head("/graph-store", include_in_schema=False)
async def read_graph(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    graph: GraphParam = None,
    default: DefaultParam = None,
) -> Response:
    name = target_graph(graph, default)
    media_type = choose(request.headers.get("accept"), GRAPH_FORMATS, "a graph is served as one of {offered}")
    await run_in_threadpool(_existing, store, name)
    result = await run_in_threadpool(store.dump_graph, name, media_type)
    return Response(result.body, media_type=result.media_type, headers={"Vary": "Accept"})


async def _upload(request: Request, store: Store, settings: Settings, name: str | None, replace: bool) -> Response:
    """PUT and POST: parse the whole body, then one atomic write; 201 when the graph is new."""
    refuse_owned([name], f"{request.method} /graph-store")
    triples = await _triples(request, settings, name)
    existed = await run_in_threadpool(store.has_graph, name)
    await run_in_threadpool(store.replace_graph if replace else store.add_to_graph, name, triples)
    return Response(status_code=204 if existed else 201)


# One route per method: a shared multi-method route would give both the same OpenAPI operationId.
@router.put("/graph-store", summary="Replace a graph", dependencies=[Depends(require_writer)])
@router.post("/graph-store", summary="Add to a graph", dependencies=[Depends(require_writer)])
async def write_graph(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[Settings, Depends(get_settings)],
    graph: GraphParam = None,
    default: DefaultParam = None,
) -> Response:
    return await _upload(request, store, settings, target_graph(graph, default), replace=request.method == "PUT")


@router.delete("/graph-store", summary="Drop a graph", dependencies=[Depends(require_writer)])
async def drop_graph(
    store: Annotated[Store, Depends(get_store)],
    graph: GraphParam = None,
    default: DefaultParam = None,
) -> Response:
    name = target_graph(graph, default)
    refuse_owned([name], "DELETE /graph-store")
    if not await run_in_threadpool(store.drop_graph, name):
        raise NotFound(f"there is no graph {name}")
    return Response(status_code=204)

"""Exports over HTTP: `GET /export`, the dataset's VoID at `/.well-known/void`, and the JSON-LD context.

The routes only negotiate and stream; formats, subsets and the description live in filmgraph.export and
filmgraph.release, shared with the CLI.
"""

from __future__ import annotations

import io

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from rdflib import Graph

from ..export import CONTEXT_FILE, FORMATS, prepare_export
from ..formats import JSON_LD, N_QUADS, N_TRIPLES, RDF_XML, TURTLE, by_media_type, media_types
from ..release import DESCRIPTION_PREFIXES, Distribution, dataset_info, describe_dataset, write_void
from ..settings import Settings
from ..store import Store
from ..store.derived import PerVersion
from .conditional import Validators, conditional_get
from .deps import get_settings, get_store, request_base_url
from .negotiation import choose

router = APIRouter(tags=["export"])

_VOID: PerVersion[Graph] = PerVersion()  # recomputed only when the store's content or the public base changes
EXPORT_FORMATS = tuple(f.format for f in FORMATS.values())  # in the export's order of preference
EXPORT_MEDIA_TYPES = media_types(EXPORT_FORMATS)
VOID_FORMATS = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML)  # written by rdflib
VOID_MEDIA_TYPES = media_types(VOID_FORMATS)


@router.get(
    "/export",
    summary="Export the graph or a subset in an RDF format (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {media_type: {} for media_type in EXPORT_MEDIA_TYPES}}},
)
def export(
    request: Request,
    format_name: str | None = Query(
        None, alias="format", description=f"One of {', '.join(FORMATS)}; default: from Accept, else turtle"
    ),
    subset: str = Query(
        "all", description="all, asserted, inferred, ontology, source:<id> or entity:<local-name>"
    ),
    store: Store = Depends(get_store),
    validators: Validators = Depends(conditional_get),
) -> StreamingResponse:
    """Turtle and TriG are sorted and byte-stable; triple formats merge named graphs, TriG/N-Quads keep them."""
    accept = request.headers.get("accept")
    name = format_name or by_media_type(choose(accept, EXPORT_MEDIA_TYPES), EXPORT_FORMATS).name
    prepared = prepare_export(store, name, subset)  # 400/404 happen here, before the first byte
    return StreamingResponse(
        prepared.chunks(),
        media_type=prepared.format.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{prepared.filename}"',
            "Vary": "Accept",
            **validators.headers,
        },
    )


def _void_graph(request: Request, store: Store, settings: Settings) -> Graph:
    """The VoID + DCAT description of the store as served at this request's public base."""
    base = request_base_url(request, settings)
    dumps = [
        Distribution(f"{base}/export?format={TURTLE.name}", TURTLE.media_type,
                     "The whole graph, named graphs merged (Turtle)"),
        Distribution(f"{base}/export?format={N_QUADS.name}", N_QUADS.media_type,
                     "The whole graph with its named graphs"),
    ]

    def describe() -> Graph:
        return describe_dataset(store, dataset_info(store, f"{base}/sparql", dumps))

    return _VOID.get(store, describe, version=(store.generation, base))


def _render(graph: Graph, media_type: str) -> bytes:
    if media_type == TURTLE.media_type:  # the same sorted Turtle as a release's void.ttl
        buffer = io.BytesIO()
        write_void(graph, buffer)
        return buffer.getvalue()
    options = {"context": DESCRIPTION_PREFIXES} if media_type == JSON_LD.media_type else {}
    return graph.serialize(format=by_media_type(media_type, VOID_FORMATS).rdflib, encoding="utf-8", **options)


@router.get(
    "/.well-known/void",
    summary="VoID + DCAT description of the dataset",
    responses={200: {"content": {media_type: {} for media_type in VOID_MEDIA_TYPES}}},
)
def void(
    request: Request,
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
    validators: Validators = Depends(conditional_get),
) -> Response:
    media_type = choose(request.headers.get("accept"), VOID_MEDIA_TYPES)
    graph = _void_graph(request, store, settings)
    return Response(_render(graph, media_type), media_type=media_type, headers={"Vary": "Accept", **validators.headers})


@router.get("/context.jsonld", summary="The published JSON-LD context (the project prefixes)")
def context(settings: Settings = Depends(get_settings)) -> FileResponse:
    return FileResponse(settings.ontology_dir / CONTEXT_FILE, media_type=JSON_LD.media_type)

"""Dereferenceable ontology terms: every `fg:` IRI answers, as the HTML documentation or as RDF.

A term's IRI (`https://w3id.org/filmgraph/ontology#Agreement`) reaches the server as `/ontology`: clients keep the
fragment to themselves. So one resource serves all terms: for browsers the pyLODE page (filmgraph.ontology_docs),
whose anchors are the terms' local names, so the browser lands on the term; for RDF clients the ontology graph in
Turtle, JSON-LD, N-Triples or RDF/XML. Negotiated on Accept (api/negotiation.py), or forced by an extension
(`/ontology.ttl`). Both are made from the store's ontology graph, so the page documents what the endpoint serves.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from ..errors import NotFound
from ..export import prepare_export
from ..formats import HTML, TURTLE, Format
from ..ontology_docs import ontology_docs_html
from ..store import Store
from ..vocab import BASE, ONTOLOGY
from .conditional import Validators, conditional_get
from .deps import get_store
from .models import PROBLEMS
from .representations import EXTENSIONS, OFFERED, by_file_extension, choose_representation

router = APIRouter(tags=["linked data"], responses=PROBLEMS)

ONTOLOGY_PATH = "/" + ONTOLOGY[len(BASE):]  # /ontology: where the w3id namespace sends its IRIs on this server
_ANSWERS = {200: {"content": {media: {} for media in OFFERED}}}


@lru_cache(maxsize=2)  # pyLODE takes seconds; the ontology changes only with a rebuild
def _page(turtle: bytes) -> str:
    return ontology_docs_html(turtle)


def _ontology(store: Store, format_name: str) -> bytes:
    return prepare_export(store, format_name, "ontology").to_bytes()


async def _answer(store: Store, representation: Format, validators: Validators) -> Response:
    headers = {**validators.headers, "Vary": "Accept"}
    if representation == HTML:
        turtle = await run_in_threadpool(_ontology, store, TURTLE.name)
        return HTMLResponse(await run_in_threadpool(_page, turtle), headers=headers)
    body = await run_in_threadpool(_ontology, store, representation.name)
    return Response(body, media_type=representation.media_type, headers=headers)


@router.get(ONTOLOGY_PATH, summary="Dereference the ontology and its terms (HTML docs, Turtle, ...)",
            response_class=Response, responses=_ANSWERS)  # fmt: skip
async def ontology(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    validators: Annotated[Validators, Depends(conditional_get)],
) -> Response:
    """`https://w3id.org/filmgraph/ontology` and every term `…/ontology#Term`: the documentation page (anchor
    `#Term`) or the ontology graph, as the client's Accept header asks."""
    return await _answer(store, choose_representation(request.headers.get("accept")), validators)


@router.get(ONTOLOGY_PATH + ".{extension}", summary="The ontology in the format its extension names",
            response_class=Response, responses=_ANSWERS)  # fmt: skip
async def ontology_file(
    extension: Annotated[str, Path(max_length=10, description=", ".join(EXTENSIONS))],
    store: Annotated[Store, Depends(get_store)],
    validators: Annotated[Validators, Depends(conditional_get)],
) -> Response:
    """The same, in the format the extension names (`/ontology.ttl`, `/ontology.html`, ...), whatever Accept says."""
    forced = by_file_extension(extension)
    if forced is None:
        raise NotFound(f"no ontology file {ONTOLOGY_PATH}.{extension}; extensions: {', '.join(EXTENSIONS)}")
    return await _answer(store, forced, validators)

"""The app factory: wires settings, the store and one router per resource. Behaviour lives in the routers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .. import __version__
from ..settings import Settings, get_settings
from ..store import Store, open_store
from . import (
    docs_pages, domain, entities, export, graph_store, health, home, ingest, ontology_terms, pages, queries, reconcile,
    sparql, workbench,
)
from .head import HeadAsGetMiddleware
from .openapi import install_openapi
from .problems import install_problem_handlers
from .sparql import SparqlEntry, SparqlProtocolMiddleware


class FilmgraphApp(FastAPI):
    """FastAPI, with the SPARQL protocol's GET and POST answered ahead of the middleware stack (`SparqlEntry`)."""

    sparql_entry: SparqlEntry

    def takes_now(self, scope: Scope) -> bool:
        return self.sparql_entry.takes(scope)

    def answer_now(self, scope: Scope, body: bytes) -> Response | None:
        """The answer to a request whose body is all there, if it can be given without an ASGI task (read by
        `connections.GuardedHttpToolsProtocol`); None: run the app."""
        return self.sparql_entry.answer_now(scope, body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sparql_entry.takes(scope):
            await self.sparql_entry(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, store: Store | None = None, lifespan=None) -> FilmgraphApp:
    settings = settings or get_settings()
    app = FilmgraphApp(
        lifespan=lifespan,
        title="filmgraph",
        version=__version__,
        description="A knowledge graph of film diplomacy: SPARQL 1.1, REST lookups and linked-data pages.",
        docs_url=None,  # /docs and /redoc come from docs_pages: local assets, never a CDN
        redoc_url=None,
        # FastAPI's native OpenTelemetry looks for configured providers on every request (~12 µs, a tenth of a
        # cheap query); it is on only when asked for.
        telemetry=None if settings.telemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.store = store if store is not None else open_store(settings)
    app.sparql_entry = SparqlEntry(app, settings)
    install_problem_handlers(app)
    install_openapi(app)
    # Routers are included here, one per resource (sparql, graph store, entities, queries, pages, export).
    app.include_router(sparql.router)  # first: routes are matched in order, and /sparql is the hot path
    app.include_router(entities.router)
    app.include_router(pages.router)
    app.include_router(ontology_terms.router)
    app.include_router(domain.router)
    app.include_router(reconcile.router)
    app.include_router(ingest.router)
    app.include_router(queries.build_router(settings.queries_dir))
    app.include_router(export.router)
    app.include_router(graph_store.router)
    app.include_router(health.router)
    app.include_router(home.router)
    app.include_router(workbench.router)
    app.include_router(docs_pages.router)
    docs_pages.install_static(app)
    app.add_middleware(SparqlProtocolMiddleware)  # innermost: what SparqlEntry leaves (HEAD, CORS requests)
    app.add_middleware(reconcile.AnyOrigin)  # the Reconciliation API asks CORS of every one of its endpoints
    app.add_middleware(HeadAsGetMiddleware, own_head_paths=frozenset({"/graph-store"}))
    if settings.cors_origins:  # a browser UI (e.g. YASGUI) on another origin may query the endpoint
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
            allow_headers=["Accept", "Content-Type", "Authorization"],
        )
    return app

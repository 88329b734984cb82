"""The FastAPI application: SPARQL 1.1 endpoint, REST API, linked-data pages."""

from .app import create_app

__all__ = ["create_app"]

"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from the package's own copies, plus `/static` for the workbench.

FastAPI's defaults load both from a CDN, so offline they are blank pages. Here every script, style sheet and icon
is a local file; Swagger UI's validator badge (a request to validator.swagger.io) and ReDoc's Google fonts are off.
When `make setup` has not installed the vendor files, both routes answer a plain HTML list of the operations,
saying what is missing, instead of a page that cannot load.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from .assets import STATIC_DIR, STATIC_URL, missing_vendor_files, vendor_url
from .pages import templates

router = APIRouter(include_in_schema=False)
FAVICON = f"{STATIC_URL}/favicon.svg"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def install_static(app: FastAPI) -> None:
    """Serve the package's static folder; a missing file is a 404 like any other."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


def _operations(request: Request) -> list[dict[str, str]]:
    paths = request.app.openapi().get("paths", {})
    return [
        {"method": method.upper(), "path": path, "summary": operation.get("summary", "")}
        for path, item in paths.items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _plain(request: Request, title: str, missing: list[str]) -> HTMLResponse:
    page = templates.get_template("operations.html").render(
        title=title, missing=missing, operations=_operations(request), openapi_url=request.app.openapi_url
    )
    return HTMLResponse(page)


def _docs_page(request: Request, viewer: str, needed: tuple[str, ...], render: Callable[[str], HTMLResponse]):
    """The viewer's page over the app's OpenAPI document, or the plain list when its files are not installed."""
    missing = missing_vendor_files(*needed)
    if missing:
        return _plain(request, f"filmgraph API ({viewer} not installed)", missing)
    return render(request.app.openapi_url)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return _docs_page(request, "Swagger UI", ("swagger-ui-bundle.js", "swagger-ui.css"), lambda openapi_url: get_swagger_ui_html(
        openapi_url=openapi_url,
        title="filmgraph API · Swagger UI",
        swagger_js_url=vendor_url("swagger-ui-bundle.js"),
        swagger_css_url=vendor_url("swagger-ui.css"),
        swagger_favicon_url=FAVICON,
        swagger_ui_parameters={"validatorUrl": None},
    ))  # fmt: skip


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return _docs_page(request, "ReDoc", ("redoc.standalone.js",), lambda openapi_url: get_redoc_html(
        openapi_url=openapi_url,
        title="filmgraph API · ReDoc",
        redoc_js_url=vendor_url("redoc.standalone.js"),
        redoc_favicon_url=FAVICON,
        with_google_fonts=False,
    ))  # fmt: skip

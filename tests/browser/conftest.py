"""One headless Chromium (Debian's, driven by Playwright) and one live `filmgraph serve` for the browser tests.

Chromium is installed by the fixture when missing (`debian_packages.ensure_program`); Playwright never downloads a
browser. Every page a test opens goes through `open_page`, which records console errors and every request, aborts
any request for another host than 127.0.0.1 (the workbench must work offline), and saves a screenshot to
$FILMGRAPH_SCREENSHOTS (else a pytest temporary directory).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from debian_packages import MissingProgram, ensure_program
from service_support import filmgraph_server, store_directory

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOCAL_SCHEMES = {"data", "blob", "about"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class PageLog:
    """What a page did: its console errors, uncaught exceptions, and the requests it made (all, and off-machine)."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.requests, "the page made no request at all: the log is not recording"
        assert not self.outside, f"requests left 127.0.0.1: {self.outside}"
        assert not self.console_errors, f"console errors: {self.console_errors}"


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == "127.0.0.1"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        return ensure_program("chromium", "chromium")
    except MissingProgram as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def workbench_url(service_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `filmgraph serve` over the real build, with a generous query timeout (the machine may be busy)."""
    directory = store_directory(service_data, tmp_path_factory.mktemp("workbench") / "store")
    with filmgraph_server(directory, "--query-timeout", "30", "--workers", "2") as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("FILMGRAPH_SCREENSHOTS")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def open_page(browser, workbench_url: str, screenshots: Path):
    """`open_page(path, viewport=DESKTOP, name=None, missing=())` -> (page, log); `missing` URL globs answer 404
    (an uninstalled asset). Every page's log is asserted clean at the end."""
    opened = []

    def _open(path: str, viewport: dict[str, int] = DESKTOP, name: str | None = None, missing: tuple[str, ...] = ()):
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(30_000)
        page = context.new_page()
        log = PageLog()
        page.on("console", lambda message: message.type == "error" and log.console_errors.append(message.text))
        page.on("pageerror", lambda error: log.console_errors.append(f"uncaught: {error}"))

        def route(route_request):
            url = route_request.request.url
            log.requests.append(url)
            if is_local(url):
                route_request.continue_()
            else:
                log.outside.append(url)
                route_request.abort()

        context.route("**/*", route)
        for pattern in missing:
            page.route(pattern, lambda route_request: (log.requests.append(route_request.request.url), route_request.fulfill(status=404)))
        page.goto(workbench_url + path)
        opened.append((context, page, log, name))
        return page, log

    yield _open
    for context, page, log, name in opened:
        if name:
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=False)
        context.close()
    for _, _, log, _ in opened:
        log.assert_clean()

"""The front-end assets the workbench pages use, served by the package itself (never from a CDN).

The vendor files come from the npm registry, pinned in package.json + package-lock.json; `make setup` runs
`npm ci` and then this module (`python -m filmgraph.api.assets node_modules`) copies the few dist files the pages
load into `static/vendor/`. They are ~5 MB of minified third-party code, rebuilt from the lock file, so they are
gitignored rather than committed. Without them every page still renders its server-side HTML and says what is
missing (`missing_vendor_files`); no route answers 5xx.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
STATIC_URL = "/static"
# served name -> path inside node_modules (with the licence file of each package that ships one)
VENDOR_FILES: dict[str, str] = {
    "yasgui.min.js": "@zazuko/yasgui/build/yasgui.min.js",
    "yasgui.min.css": "@zazuko/yasgui/build/yasgui.min.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui.LICENSE": "swagger-ui-dist/LICENSE",
    "redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
    "redoc.LICENSE": "redoc/LICENSE",
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    "cytoscape.LICENSE": "cytoscape/LICENSE",
}

# Requests a vendor file would make to another host, pointed at nothing: ReDoc's sidebar footer loads Redocly's
# logo from cdn.redoc.ly (no option turns it off), which would break "no request leaves the machine".
OFFLINE_REWRITES: dict[str, tuple[tuple[str, str], ...]] = {
    "redoc.standalone.js": (
        ("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"),
    ),
}


def vendor_url(name: str) -> str:
    return f"{STATIC_URL}/vendor/{name}"


def missing_vendor_files(*names: str) -> list[str]:
    """Which of the named vendor files (all when none is named) are not installed."""
    return [name for name in names or VENDOR_FILES if not (VENDOR_DIR / name).is_file()]


def copy_vendor_files(node_modules: Path) -> list[Path]:
    """Copy the dist files out of an `npm ci` tree; fails naming the first file npm did not provide."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    copied = []
    for name, inside in VENDOR_FILES.items():
        source = node_modules / inside
        if not source.is_file():
            raise FileNotFoundError(f"{source} is missing: run `npm ci` first")
        copied.append(_copy(source, VENDOR_DIR / name, OFFLINE_REWRITES.get(name, ())))
    return copied


def _copy(source: Path, target: Path, rewrites: tuple[tuple[str, str], ...]) -> Path:
    if not rewrites:
        return Path(shutil.copyfile(source, target))
    text = source.read_text(encoding="utf-8")
    for old, new in rewrites:
        if old not in text:
            raise ValueError(f"{source} no longer contains {old!r}: check the pinned version's offline behaviour")
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return target


if __name__ == "__main__":
    for path in copy_vendor_files(Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules")):
        print(f"copied {path.name}")

"""RDF files on disk: their format from the extension, and a full parse before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from pyoxigraph import RdfFormat, parse

from ..errors import BadRequest, UnsupportedFormat

Progress = Callable[[int], None]


def rdf_format_of(path: Path) -> RdfFormat:
    """The RDF format a file name announces (.ttl, .nt, .nq, .trig, .jsonld, .rdf/.owl/.xml, .n3)."""
    suffix = path.suffix.lstrip(".").lower()
    found = RdfFormat.from_extension({"owl": "rdf", "xml": "rdf"}.get(suffix, suffix))
    if found is None:
        raise UnsupportedFormat(f"{path}: cannot tell the RDF format from the extension {path.suffix!r}")
    return found


def check_parses(stream: IO[bytes], rdf_format: RdfFormat, path: Path, progress: Progress | None = None) -> int:
    """Parse a whole file without keeping it; raise BadRequest naming the file and the parser's position.

    `progress` receives the bytes read so far. Returns the number of triples or quads."""
    read = 0
    try:
        for read, _ in enumerate(parse(stream, format=rdf_format), start=1):
            if progress is not None and read % 50_000 == 0:
                progress(stream.tell())
    except SyntaxError as error:
        raise BadRequest(f"{path}: {error}") from error
    if progress is not None:
        progress(stream.tell())
    return read


DATASET_ONLY = (RdfFormat.N_QUADS, RdfFormat.TRIG)


def graph_format(media_type: str) -> RdfFormat | None:
    """The RDF format for one graph named by a media type (JSON-LD is fine; N-Quads and TriG are datasets)."""
    found = RdfFormat.from_media_type(media_type)
    return None if found is None or found in DATASET_ONLY else found

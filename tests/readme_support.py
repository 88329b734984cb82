"""The README's read-only examples (`curl` GETs of a local filmgraph), and answers made comparable across servers."""

from __future__ import annotations

import json
import re
import shlex

import httpx
from pyoxigraph import CanonicalizationAlgorithm, Dataset, RdfFormat, parse

from filmgraph.settings import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
_LOCAL = "http://127.0.0.1:8000"


def readme_get_examples() -> list[tuple[str, dict[str, str]]]:
    """(path and query, headers) of every one-line `curl` GET of the README against the local server."""
    examples = []
    for line in re.findall(r"^curl .*$", README, flags=re.MULTILINE):
        command = line.split(" #", 1)[0].strip()
        if command.endswith("\\"):  # continued on the next line: a write or a longer example
            continue
        words = shlex.split(command)
        if any(w.startswith(("-X", "--data", "-d")) for w in words) or ">" in words:
            continue
        urls = [w for w in words if w.startswith(_LOCAL)]
        headers = dict(h.split(": ", 1) for flag, h in zip(words, words[1:]) if flag == "-H")
        if len(urls) == 1 and "Authorization" not in headers:
            examples.append((urls[0].removeprefix(_LOCAL), headers))
    return examples


def comparable(response: httpx.Response, base: str) -> tuple:
    """Status, media type and body with the server's own address and blank-node labels taken out; JSON with its
    lists sorted and other text as sorted lines, since engines may order unordered answers differently."""
    text = response.text.replace(base, "BASE")
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type.endswith("json"):
        return response.status_code, media_type, _sorted(json.loads(text))
    rdf_format = RdfFormat.from_media_type(media_type)
    if rdf_format is not None:  # a graph: its triples, blank nodes labelled canonically (RDFC-1.0)
        dataset = Dataset(parse(text.encode(), format=rdf_format, base_iri="http://base/"))
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        return response.status_code, media_type, sorted(map(str, dataset))
    return response.status_code, media_type, sorted(re.sub(r"_:[A-Za-z0-9]+", "_:b", text).splitlines())


def _sorted(value):
    if isinstance(value, dict):
        return {key: _sorted(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_sorted(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value

"""The README's Python example runs as written, and the files the docs point to exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
import typer
from pyoxigraph import BlankNode, RdfFormat
from service_support import TOKEN

from filmgraph.cli import app
from filmgraph.errors import StoreInUse
from filmgraph.settings import PROJECT_ROOT, Settings
from filmgraph.store import open_store


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_named_query_example_runs(built_store_path: Path, tmp_path: Path) -> None:
    [example] = [b for b in python_blocks((PROJECT_ROOT / "README.md").read_text()) if "run_named_query" in b]
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    script = example + "\nprint(len(rows))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "FILMGRAPH_STORE": str(store)},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 0


def test_paths_named_in_the_model_exist() -> None:
    model = (PROJECT_ROOT / "docs" / "model.md").read_text()
    named = set(re.findall(r"`((?:data|shared|ontology|queries)/[\w./-]+\.\w+)`", model))
    assert "data/reference/external-ids.tsv" in named
    assert [p for p in named if not (PROJECT_ROOT / p).exists()] == []


README = (PROJECT_ROOT / "README.md").read_text()


def test_the_readme_gives_the_real_number_of_the_ontology_s_blank_nodes() -> None:
    ontology = pyoxigraph.parse(path=PROJECT_ROOT / "ontology" / "filmdiplomacy.ttl", format=RdfFormat.TURTLE)
    blank = {term for t in ontology for term in (t.subject, t.object) if isinstance(term, BlankNode)}
    assert re.findall(r"the ontology's (\d+) blank nodes", README) == [str(len(blank))]


def test_the_configuration_table_lists_every_serve_flag() -> None:
    serve = typer.main.get_command(app).commands["serve"]  # type: ignore[attr-defined]
    flags = [option for param in serve.params for option in param.opts if option.startswith("--")]
    table = README.split("### Configuration", 1)[1].split("\n## ", 1)[0]
    assert "--access-log" in flags
    assert [flag for flag in flags if f"`{flag}`" not in table] == []


def test_the_readme_put_example_ships_its_body_and_an_empty_put_empties_the_graph(writable_service) -> None:
    client, _ = writable_service
    [command] = [c for c in re.findall(r"curl -X PUT .*?(?=\n[^ ])", README, flags=re.DOTALL) if "graph-store" in c]
    [graph] = re.findall(r"graph=([^' ]+)", command)
    [body] = re.findall(r"--data-binary '([^']+)'", command)  # the body itself, not a file the reader lacks
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle"}
    assert client.put(f"/graph-store?graph={graph}", content=body, headers=headers).status_code in (201, 204)
    assert client.get(f"/graph-store?graph={graph}", headers={"Accept": "application/n-triples"}).text.strip()
    assert "an empty body" in README and "leaves the graph empty" in README
    assert client.put(f"/graph-store?graph={graph}", content=b"", headers=headers).status_code == 204
    emptied = client.get(f"/graph-store?graph={graph}", headers={"Accept": "application/n-triples"})
    assert (emptied.status_code, emptied.text.strip()) == (200, "")


def test_a_store_open_elsewhere_is_refused_in_one_clear_line(tmp_path: Path) -> None:
    held = pyoxigraph.Store(str(tmp_path / "store"))  # what a running `filmgraph serve` keeps open
    with pytest.raises(StoreInUse) as refused:
        open_store(Settings(store=tmp_path / "store"))
    message = str(refused.value)
    assert "\n" not in message and "opens in one process at a time" in message and "LOCK" not in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    del held
    assert "StoreInUse" in README.split("## Adding a source")[0]  # the Python snippet says so

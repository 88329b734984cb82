"""The README's Python example runs as written, and the files the docs point to exist."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from filmgraph.settings import PROJECT_ROOT


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

"""Command-line mistakes end in one clear line and exit code 2, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FILMGRAPH = Path(sys.executable).parent / "filmgraph"
SECOND_SOURCE = Path(__file__).parent / "data" / "second-source"
HOLD = "import sys, time, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); print('open', flush=True); time.sleep(60)"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(FILMGRAPH), *args], capture_output=True, text=True, timeout=120)


def test_serve_and_load_on_a_store_in_use(built_store_path: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    data = tmp_path / "x.nt"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        for done in (run("serve", "--store", str(store), "--port", "1"), run("load", str(data), "--store", str(store))):
            assert done.returncode == 2
            assert "in use by another process" in done.stderr
            assert "Traceback" not in done.stderr
        curation = SECOND_SOURCE / "claims" / "testbulletin-2011-russia-germany-signed.yaml"
        ingested = run("ingest", str(curation), "--dry-run", "--store", str(store))
        assert ingested.returncode == 2 and "POST /api/sources" in ingested.stderr, ingested.stderr
    finally:
        holder.kill()
        holder.communicate()  # waits, and closes its stdout


def test_load_refuses_a_graph_name_that_is_not_an_iri(tmp_path: Path) -> None:
    data = tmp_path / "x.nt"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n")
    done = run("load", str(data), "--graph", "not an iri", "--store", str(tmp_path / "store"))
    assert done.returncode == 2
    assert "--graph must be an absolute IRI" in done.stderr
    assert "Traceback" not in done.stderr

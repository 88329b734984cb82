"""The library outside the server never starts the serving engine: the CLI, the build, notebooks and their
`EmbeddedStore` answer in their own process, no worker pool imported and no process started (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
from pathlib import Path
forks = []
sys.addaudithook(lambda event, _: event in ("os.fork", "os.forkpty", "os.posix_spawn") and forks.append(event))
import filmgraph.build, filmgraph.cli, filmgraph.export
from filmgraph.settings import Settings
from filmgraph.store import open_store
from typer.testing import CliRunner

directory = Path(sys.argv[1])
store = open_store(Settings(store=directory / "store"))
store.update('INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:p> "1" } }')
asked = store.query("ASK { <urn:a> <urn:p> ?o }").boolean
body = store.query_serialized("SELECT * WHERE { ?s ?p ?o }", "text/csv").body
store.close()
del store  # its engine holds the directory lock until it is freed
cli = CliRunner().invoke(filmgraph.cli.app, ["query", "--store", str(directory / "store"), "agreements"])
loaded = sorted(name for name in sys.modules if name.startswith("filmgraph.serving") or name.startswith("multiprocessing.popen")
                or name in ("multiprocessing.pool", "multiprocessing.forkserver"))
print(json.dumps({"asked": asked, "rows": body.count(b"urn:a"), "cli": cli.exit_code, "loaded": loaded, "forks": forks}))
"""


def test_the_plain_store_and_the_cli_start_no_serving_engine(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["asked"] is True and seen["rows"] == 1, "the plain store answered in this process"
    assert seen["cli"] == 0, "`filmgraph query` ran a named question"
    assert seen["loaded"] == [], "no serving module, no multiprocessing pool or process start imported"
    assert seen["forks"] == [], "no process started"

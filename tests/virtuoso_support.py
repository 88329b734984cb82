"""A private OpenLink Virtuoso (Debian's `virtuoso-opensource`, 7.2) for the remote-backend tests.

Each instance has its own database directory and ini, listens on free loopback ports only (SQL and HTTP), runs in
the foreground as our child (so the test session stops it), and is granted what filmgraph needs on the anonymous
endpoints: SPARQL Update on `/sparql` (role SPARQL_UPDATE for the user SPARQL) and read/write of every graph through
the Graph Store at `/sparql-graph-crud` (default permissions 7 for `nobody`). That is right for a loopback test
instance only: the README says how a real deployment authenticates instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from debian_packages import ensure_program
from service_support import free_port, stop, wait_until_up

from filmgraph.store.remote import Endpoints, RemoteStore

PACKAGE = "virtuoso-opensource"
GRANTS = ['GRANT SPARQL_UPDATE TO "SPARQL";', "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"]

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {allowed}
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
MaxClientConnections = 10
EnabledDavVSP = 0
Charset = UTF-8
[URIQA]
DefaultHost = 127.0.0.1:{http_port}
[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 0
"""


def write_ini(
    directory: Path, sql_port: int, http_port: int, buffers: int = 20000, dirs_allowed: list[Path] = ()
) -> Path:
    """The instance's ini. `ResultSetMaxRows` is raised from the packaged 10,000 (Virtuoso cuts longer results
    without a word) and the cost estimate does not refuse queries (`MaxQueryCostEstimationTime = 0`). Its bulk
    loader reads files only from `dirs_allowed` (and the database directory). A buffer is 8 KB."""
    ini = directory / "virtuoso.ini"
    allowed = ", ".join(str(d) for d in [directory, *dirs_allowed])
    ini.write_text(INI.format(dir=directory, sql_port=sql_port, http_port=http_port, buffers=buffers,
                              dirty=buffers * 3 // 4, allowed=allowed))  # fmt: skip
    return ini


def grant(sql_port: int, statements: list[str] = GRANTS) -> None:
    """Run SQL as `dba` through Virtuoso's own client (the fresh database's password is `dba`: loopback only)."""
    isql = ensure_program("isql-vt", PACKAGE)
    script = " ".join(statements)
    done = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={script}"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and "Error" not in done.stdout + done.stderr, done.stdout + done.stderr


@contextmanager
def virtuoso_process(directory: Path) -> Iterator[str]:
    """A fresh Virtuoso in `directory` on free loopback ports; yields its HTTP base URL (`/sparql`,
    `/sparql-graph-crud`) and stops it at the end."""
    program = ensure_program("virtuoso-t", PACKAGE)
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = write_ini(directory, sql_port, http_port)
    log = (directory / "stdout.log").open("wb")
    process = subprocess.Popen([program, "+foreground", "+configfile", str(ini)], cwd=directory,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(base + "/sparql?query=ASK%7B%7D", process, seconds=120)
        grant(sql_port)
        yield base
    finally:
        stop(process)
        log.close()


def virtuoso_store_at(base: str, **options) -> RemoteStore:
    """filmgraph's remote backend on a Virtuoso: SPARQL query and update share `/sparql`."""
    sparql = f"{base}/sparql"
    return RemoteStore(Endpoints(sparql, sparql, f"{base}/sparql-graph-crud"), timeout=10, **options)

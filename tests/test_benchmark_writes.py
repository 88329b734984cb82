"""The write benchmark runs end to end at a tiny size: real servers, every read after a write sees it, and the report
has each server's figures with its ratio to Oxigraph server (no timing is asserted: speed is measured in
benchmarks/, not here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_write_benchmark_runs_and_reports_every_server(tmp_path):
    report = tmp_path / "report.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--size", "1000", "--only", "writes",
         "--writes", "10", "--mixed-iterations", "5", "--report", str(report)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    text = report.read_text()
    assert "### 10 sequential INSERT DATA (1 client)" in text
    assert "every ASK after a write found it (checked)" in text
    for server in ("Oxigraph server", "filmgraph (default: durability=sync)", "filmgraph (durability=process)"):
        rows = [line for line in text.splitlines() if line.startswith(f"| {server} |")]
        assert len(rows) == 2, (server, text)  # one sequential, one mixed
        assert all(re.search(r"\| \d+\.\d\d× \|", row) for row in rows), rows
    assert "| Oxigraph server | " in text and "1.00× |" in text

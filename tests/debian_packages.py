"""Debian packages a test needs (Chromium, Virtuoso), installed by the test run itself when missing.

The project's promise is that `make test` passes on a fresh machine with nothing installed by hand, so a fixture
that needs a program calls `ensure_program`. Installs are serialised with a file lock: two test processes (or two
fixtures) running apt at once would fail on dpkg's own lock.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
LOCK = Path(tempfile.gettempdir()) / "filmgraph-tests-apt.lock"


class MissingProgram(RuntimeError):
    """The program is absent and could not be installed (not root, or apt failed): the message says why."""


def ensure_program(program: str, *packages: str, timeout: float = 900) -> str:
    """The path of `program`, installing the Debian `packages` that provide it first if it is not on PATH."""
    found = shutil.which(program)
    if found:
        return found
    if os.geteuid() != 0:
        raise MissingProgram(f"{program} is not installed and the tests are not root: apt-get install {' '.join(packages)}")
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shutil.which(program):  # another process may have installed it while we waited
            _apt_install(packages, timeout)
    found = shutil.which(program)
    if not found:
        raise MissingProgram(f"installing {' '.join(packages)} did not provide {program}")
    return found


def _apt_install(packages: tuple[str, ...], timeout: float) -> None:
    install = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if subprocess.run(install, env=APT_ENV, capture_output=True, timeout=timeout).returncode == 0:
        return
    subprocess.run(["apt-get", "update"], env=APT_ENV, capture_output=True, timeout=timeout, check=False)
    done = subprocess.run(install, env=APT_ENV, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise MissingProgram(f"apt-get install {' '.join(packages)} failed: {done.stderr[-2000:]}")

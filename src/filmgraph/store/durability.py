"""What an acknowledged write survives: the write-ahead log synced to the disk, or left to the operating system.

A pyoxigraph commit returns once RocksDB has written its write-ahead log (WAL) to the operating system, without
syncing it (Oxigraph's write options: no `sync`). That survives a crash or `kill -9` of any process of ours, not a
power loss or a kernel crash. Until now every write was made durable by a checkpoint, which flushes the memtables
to synced SST files: ~10 ms a write, most of the cost of a small update (BENCHMARKS.md). Syncing the WAL file the
commit wrote to gives the same guarantee for ~0.3 ms (measured here: `fdatasync` on the store's disk), and leaving it
to the operating system costs nothing:

- `sync` (the default): the acknowledgement comes after `fdatasync` of the WAL, and of the store's directory when a
  WAL file is new: an acknowledged write survives a power loss.
- `process`: the acknowledgement comes once the commit returned (as Oxigraph server's); a thread syncs the WAL
  every `interval` seconds, so a power loss or kernel crash can take the writes of the last `interval` seconds,
  never a process crash or `kill -9`.

Group commit: a write takes a ticket under the store's write lock once committed and syncs outside it; a sync
covers every write committed before it started, so writers that waited for it return at once (with 4 clients
writing, one `fdatasync` answers several of them).

Which WAL files: RocksDB writes only its newest one (recycled files are renamed to a new number), so a sync covers
every `*.log` numbered at least as high as the newest one at the previous sync (a memtable switch in between may
have moved the newest on). A file gone since the listing was obsolete: its writes are in synced SST files.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DURABILITY_MODES = ("sync", "process")


class WalSync:
    """Syncs the write-ahead log of the RocksDB store in `directory`; one sync at a time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._oldest_active = 0  # WAL files numbered below were complete (and synced) at the previous sync
        self._known: set[str] = set()
        self._committed = self._synced = 0  # tickets of commits, and of the last one a sync covered

    def committed(self) -> int:
        """A ticket for a write just committed (under the store's write lock), to pass to `sync`."""
        self._committed += 1
        return self._committed

    def sync(self, ticket: int | None = None) -> None:
        """Every WAL file written since the previous sync reaches the disk, unless a sync since the write of
        `ticket` already covered it; OSError if the disk refuses."""
        with self._lock:
            if ticket is not None and ticket <= self._synced:
                return
            covered = self._committed
            self._sync_files()
            self._synced = covered

    def _sync_files(self) -> None:
        logs = sorted((int(name[:-4]), name) for name in os.listdir(self.directory) if name.endswith(".log"))
        current = [(number, name) for number, name in logs if number >= self._oldest_active]
        for _, name in current:
            _fdatasync(self.directory / name)
        names = {name for _, name in logs}
        if names - self._known:  # a new WAL file: its directory entry must reach the disk too
            _fsync_directory(self.directory)
        self._known = names
        if current:
            self._oldest_active = current[-1][0]


def _fdatasync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return  # deleted as obsolete after the listing: its content is in flushed, synced SST files
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PeriodicSync:
    """In `process` mode: sync the WAL every `interval` seconds while writes happen, on a daemon thread."""

    def __init__(self, wal: WalSync, interval: float) -> None:
        self._wal, self._interval = wal, interval
        self._dirty = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="filmgraph-wal-sync")
        self._thread.start()

    def written(self) -> None:
        if not self._dirty.is_set():  # set already: the sync to come starts after this commit, and covers it
            self._dirty.set()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._dirty.wait()
            if self._closed.wait(self._interval):
                return
            self._dirty.clear()
            try:
                self._wal.sync()
            except OSError as error:  # the next write's own checks (room, storage health) report the disk
                log.warning("could not sync the write-ahead log: %s", error)

    def close(self) -> None:
        self._closed.set()
        self._dirty.set()
        self._thread.join(5)

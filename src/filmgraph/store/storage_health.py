"""Telling storage failures truly: which engine errors are the disk's fault (not the client's), and whether the
embedded store can write right now.

pyoxigraph reports RocksDB's I/O failures as `OSError("IO error: No space left on device: …")` (no errno: the
status string is all there is) and corruption as `OSError`/`RuntimeError("Corruption: …")`; a missing graph in
CLEAR/DROP is a `RuntimeError` and a refused LOAD an `OSError` too, so the class alone does not tell whose fault an
error is, the message does. After a failed write RocksDB refuses every later write until the database is opened
again (measured on a full tmpfs: writes kept failing after space was freed), so a failure here also means "reopen".
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

from ..errors import StorageError, StorageFull

NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device", also inside RocksDB's status strings
ENGINE_STORAGE_PREFIXES = ("IO error", "Corruption")  # RocksDB's Status::ToString for I/O and corruption
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
STORAGE_ERRNOS = FULL_ERRNOS | {errno.EIO, errno.EROFS}  # not e.g. ECONNREFUSED from a SPARQL LOAD

ROOM_REGAINED_BYTES = 8 * 2**20  # freed since a no-space failure: enough to call the disk writable again
# A small write (`check_room(small=True)`) trusts the last measurement of free space while it was this far above the
# limit, for this many writes or seconds: a statvfs on every write was ~2% of a small write's time in the server
# (py-spy), and a small update adds a few kilobytes. Near the limit, and for every large write, each one measures.
ROOM_FAR_BYTES = 256 * 2**20
ROOM_TRUSTED_WRITES = 100
ROOM_TRUSTED_SECONDS = 0.5
WRITTEN_TEXT = {
    False: "nothing was written",
    True: "the change is committed and durable, but readers may not see it yet; it is published by the next "
    "write or once storage recovers (do not repeat it)",
    None: "it may have been partly written (a bulk load is not one transaction)",
}


def is_storage_failure(error: BaseException) -> bool:
    """Whether `error` (from pyoxigraph or the file system) is the storage's fault rather than the request's."""
    text = str(error)
    if getattr(error, "errno", None) in STORAGE_ERRNOS or NO_SPACE in text:
        return True
    return isinstance(error, (OSError, RuntimeError)) and text.startswith(ENGINE_STORAGE_PREFIXES)


def storage_failure(error: BaseException, *, written: bool | None, doing: str) -> StorageError:
    """The problem to answer for a storage failure while `doing` something, saying what was written."""
    full = getattr(error, "errno", None) in FULL_ERRNOS or NO_SPACE in str(error)
    kind = StorageFull if full else StorageError
    if full:
        reason = "the disk holding the store is full"
    else:
        reason = "the disk holding the store failed" if is_storage_failure(error) else "the store failed"
    return kind(f"{doing} failed, {reason}: {WRITTEN_TEXT[written]} ({error})", written=written)


class WriteHealth:
    """Whether the store can write: free space on its file system and the failure of the last write, which stands
    until a write (or a probe) succeeds. Cheap enough for every write and every `/readyz`: one statvfs."""

    def __init__(self, path: Path | None, min_free_bytes: int) -> None:
        self.path, self.min_free_bytes = path, min_free_bytes
        self.failure: str | None = None  # the last write's, until one succeeds (text: an exception would keep
        # its traceback's frames, and with them the engine handle that must be let go to reopen)
        self._free_at_failure: int | None = None  # free bytes when the disk was found full
        self.reopen_needed = False  # RocksDB refuses writes after a failed one until it is opened again
        self._far_until: tuple[int, float] | None = None  # small writes left, and the time, that trust the last room

    def free_bytes(self) -> int | None:
        if self.path is None:
            return None  # an in-memory store
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def room_problem(self) -> str | None:
        """Why a write must not start now for lack of space (a full disk would leave the engine refusing every
        later write until reopened), or None."""
        free = self.free_bytes()
        far = free is not None and free - self.min_free_bytes >= ROOM_FAR_BYTES
        self._far_until = (ROOM_TRUSTED_WRITES, time.monotonic() + ROOM_TRUSTED_SECONDS) if far else None
        if free is None or free >= self.min_free_bytes:
            return None
        return f"only {free} bytes are free on the disk holding the store (at least {self.min_free_bytes} needed)"

    def check_room(self, doing: str, *, small: bool = False) -> None:
        """Refuse a write that would start without room (507, nothing written). A `small` one (a short INSERT/DELETE
        DATA) skips the measurement while the last one was far from the limit, a moment and a few writes ago."""
        if small and self._far_until is not None:
            writes, until = self._far_until
            if writes > 0 and time.monotonic() < until:
                self._far_until = (writes - 1, until)
                return
        problem = self.room_problem()
        if problem is not None:
            raise StorageFull(f"{doing} was refused: {problem}; {WRITTEN_TEXT[False]}", written=False)

    def failed(self, failure: StorageError, *, engine: bool) -> None:
        self.failure = str(failure)
        self._far_until = None  # the next write measures again
        self.reopen_needed = self.reopen_needed or engine
        self._free_at_failure = self.free_bytes() if isinstance(failure, StorageFull) else None

    def succeeded(self) -> None:
        self.failure = None

    def problem(self) -> str | None:
        """Why the store cannot write now (for readiness), or None."""
        room = self.room_problem()
        if room is not None:
            return room
        if self.failure is None or self._room_came_back():
            return None
        return f"the last write failed: {self.failure}"

    def check_reopen(self, doing: str) -> None:
        """Refuse to reopen on a disk that is still full: opening replays the write-ahead log into new files, and
        a failed open would leave no handle at all (reads too would fail); the old one still reads."""
        if self._free_at_failure is not None and not self._room_came_back():
            raise StorageFull(
                f"{doing} was refused: the disk holding the store is still full since a write failed on it "
                f"(free {ROOM_REGAINED_BYTES // 2**20} MiB on it to resume writing); {WRITTEN_TEXT[False]}",
                written=False,
            )

    def _room_came_back(self) -> bool:
        """A full disk that has since been given room no longer stands against readiness, though no write has
        succeeded yet: a balancer that stops sending traffic on a 503 would otherwise never send that write."""
        free = self.free_bytes()
        if self._free_at_failure is None or free is None:
            return False
        return free >= max(self.min_free_bytes, self._free_at_failure) + ROOM_REGAINED_BYTES

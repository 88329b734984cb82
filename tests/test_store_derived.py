"""store.derived.PerVersion, the one generation-keyed cache (issue 16 item 2): kept while the store's version
stays, recomputed when a write moves it, per store, safe from threads."""

from __future__ import annotations

import threading
from pathlib import Path

from filmgraph.store import EmbeddedStore
from filmgraph.store.derived import PerVersion

INSERT = "INSERT DATA { <https://example.org/s> <https://example.org/p> 'o' }"


def counted(calls: list[int], value: str):
    def compute() -> str:
        calls.append(1)
        return value

    return compute


def test_same_generation_is_not_recomputed_and_a_write_recomputes(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    try:
        cache: PerVersion[str] = PerVersion()
        calls: list[int] = []
        assert cache.get(store, counted(calls, "first")) == "first"
        assert cache.get(store, counted(calls, "again")) == "first"
        assert len(calls) == 1
        before = store.generation
        store.update(INSERT)
        assert store.generation != before
        assert cache.get(store, counted(calls, "after the write")) == "after the write"
        assert len(calls) == 2
    finally:
        store.close()


def test_an_explicit_version_decides_and_stores_are_apart(tmp_path: Path) -> None:
    one, two = EmbeddedStore(tmp_path / "one"), EmbeddedStore(tmp_path / "two")
    try:
        cache: PerVersion[str] = PerVersion()
        assert cache.get(one, lambda: "one at a", version="a") == "one at a"
        assert cache.get(two, lambda: "two at a", version="a") == "two at a"
        one.update(INSERT)  # the generation moves, the version given does not
        assert cache.get(one, lambda: "recomputed", version="a") == "one at a"
        assert cache.get(one, lambda: "one at b", version="b") == "one at b"
        assert cache.get(two, lambda: "unused", version="a") == "two at a"
    finally:
        one.close()
        two.close()


def test_threads_reading_at_once_all_get_the_value_of_the_version(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "store")
    try:
        cache: PerVersion[int] = PerVersion()
        start = threading.Barrier(8)
        seen: list[int] = []

        def read() -> None:
            start.wait()
            for _ in range(200):
                seen.append(cache.get(store, lambda: store.generation))

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [store.generation] * 1600
    finally:
        store.close()


def test_kept_is_the_last_value_whatever_the_version(tmp_path: Path) -> None:
    """What a computation that follows on from the last value reads (the conditional-GET validators)."""
    store = EmbeddedStore(tmp_path / "store")
    try:
        cache: PerVersion[str] = PerVersion()
        assert cache.kept(store) is None
        cache.get(store, lambda: "first")
        store.update(INSERT)
        assert cache.kept(store) == "first", "still the last one computed, though its version has passed"
        assert cache.get(store, lambda: f"after {cache.kept(store)}") == "after first"
        assert cache.kept(store) == "after first"
    finally:
        store.close()

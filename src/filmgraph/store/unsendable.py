"""pyoxigraph's query solutions and quad iterators belong to the thread that made them ("unsendable"): dropped on
another thread, the library reports an error instead of freeing them.

An exception carries them off, in the locals of the frames of its traceback: raised in a route's thread, a query's
error reached the event loop's thread (`asyncio.to_thread`); raised in an export's serialiser thread, it reached
the HTTP reader's, and the garbage collector dropped the iterators wherever it ran next. So the code that makes
them clears those frames before an error leaves its thread. The traceback itself stays (file, line, function):
only the frames' locals go.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def release_frames(error: BaseException) -> BaseException:
    """Clear, in this thread, the locals of the finished frames of `error`'s traceback and of the errors chained to
    it (a serialiser whose reader went away fails its write, then the flush on closing); returns `error`."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop()
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        traceback.clear_frames(link.__traceback__)  # a frame still running (the caller's) is left as it is
        pending += [link.__cause__, link.__context__]
    return error


def releasing_frames(function: Callable[P, R]) -> Callable[P, R]:
    """`function`, whose errors leave with their frames released (`release_frames`), so that the engine's objects
    it made are dropped in the thread that made them, whichever thread the error goes on to."""

    @functools.wraps(function)
    def released(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except BaseException as error:
            release_frames(error)
            raise

    return released

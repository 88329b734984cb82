"""Errors cross the worker boundary as their class: a FilmgraphError raised in a worker is raised again in the
server as that class, with its HTTP status, and a frame can name nothing else into being (issue 16 item 3)."""

from __future__ import annotations

import os
import sys

import pytest

from filmgraph.errors import FilmgraphError, NotExecutable
from filmgraph.push import PushMismatch
from filmgraph.serving import worker
from filmgraph.serving.pool import _unpack
from filmgraph.store.evaluation import QueryTask


class _Refusing:
    """An engine that raises `error` when asked a query (as the worker's store would, from deep inside)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def query(self, *_arguments, **_keywords):
        raise self.error


def _through_a_pipe(reply: tuple) -> tuple:
    """The reply as the server reads it: framed, written to a real pipe, read back."""
    read_end, write_end = os.pipe()
    try:
        worker.write_frame(write_end, reply)
        return worker.read_frame(read_end, worker.Frames())
    finally:
        os.close(read_end)
        os.close(write_end)


def _raised_in_the_server(error: Exception) -> BaseException:
    reply = _through_a_pipe(worker.answer(_Refusing(error), QueryTask("ASK {}", "text/csv")))
    with pytest.raises(BaseException) as raised:
        _unpack(reply)
    return raised.value


def test_a_filmgraph_error_outside_the_errors_module_arrives_as_its_own_class():
    """Before: the server looked the class name up in `errors` only, so `push.PushMismatch` (502) became a 400."""
    raised = _raised_in_the_server(PushMismatch("the remote holds 3 triples, the local store 4"))
    assert type(raised) is PushMismatch
    assert raised.status_code == 502 and str(raised) == "the remote holds 3 triples, the local store 4"


def test_an_errors_module_class_keeps_its_class_and_status():
    raised = _raised_in_the_server(NotExecutable("cannot run this"))
    assert type(raised) is NotExecutable and raised.status_code == 409


def test_an_engine_refusal_is_a_bad_request_and_a_bug_a_500():
    refused = _raised_in_the_server(TypeError("not a term"))
    assert refused.status_code == 400 and "not a term" in str(refused)
    bug = _raised_in_the_server(KeyError("oops"))
    assert type(bug) is FilmgraphError and bug.status_code == 500 and "KeyError" in str(bug)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("this", "Anything"),  # a module not loaded here: never imported (importing it prints the Zen of Python)
        ("builtins", "SystemExit"),  # loaded, but no FilmgraphError: never instantiated (it would end the server)
        ("os", "system"),  # loaded, not even a class
        ("filmgraph.errors", "FilmgraphError.__init__.__globals__"),  # a path that walks out of the class
        ("filmgraph.push", "PushReport"),  # filmgraph's, but no error
    ],
)
def test_a_frame_naming_anything_else_is_a_plain_filmgraph_error(module, name):
    loaded_before = module in sys.modules
    with pytest.raises(FilmgraphError) as raised:
        _unpack(_through_a_pipe(("error", module, name, "what the worker said")))
    assert type(raised.value) is FilmgraphError and raised.value.status_code == 500
    assert str(raised.value) == "what the worker said"
    assert (module in sys.modules) == loaded_before, "a module named by a frame was imported"

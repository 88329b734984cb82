"""What an engine's refusal of a well-formed operation means, from its message: a syntax error is a 400
("Malformed SPARQL"); a graph that is missing or already there (DROP, CLEAR, MOVE, CREATE without SILENT) is a
404 or 409; any other run-time refusal a 409 that passes the engine's message on. pyoxigraph raises RuntimeError
for all of these, so its wording is the only signal (tested on each, tests/test_status_codes.py)."""

from __future__ import annotations

import re

from ..sparql_text import may_contain_keyword
from ..errors import BadRequest, FilmgraphError, GraphExists, GraphNotFound, NotExecutable, QuerySyntaxError

_MISSING = re.compile(r"graph .* does not exist", re.IGNORECASE)
_EXISTS = re.compile(r"graph .* already exists", re.IGNORECASE)


def engine_refusal(doing: str, error: Exception) -> FilmgraphError:
    """The typed error for the engine refusing to carry out a well-formed operation; nothing was changed."""
    message = f"{doing} was not carried out, nothing changed: {error}"
    if isinstance(error, ValueError):  # a value the engine cannot take (an invalid term): the request's fault
        return BadRequest(message)
    if _MISSING.search(str(error)):
        return GraphNotFound(message)
    if _EXISTS.search(str(error)):
        return GraphExists(message)
    return NotExecutable(message)


def remote_refusal(sparql: str, *, update: bool, status: int, message: str) -> FilmgraphError | None:
    """What a remote engine's 4xx/5xx to a query or update means. Its 400 covers syntax errors and refusals of
    well-formed requests alike (Oxigraph started with --union-default-graph refuses USING and WITH), so the text is
    parsed here (rdflib, only on this error path) to tell them apart; the engine's message is passed on either way.
    None: not a refusal of the request (the caller reports the backend as failing)."""
    message = message.strip() or f"the remote engine answered {status}"
    if status == 400:
        if not _parses(sparql, update=update):
            return QuerySyntaxError(message)
        return NotExecutable(f"the remote engine refused this well-formed request: {message}")
    refused = engine_refusal("the remote engine", RuntimeError(message))
    return refused if isinstance(refused, GraphNotFound | GraphExists) else None


def _parses(sparql: str, *, update: bool) -> bool:
    from pyparsing import ParseException  # noqa: PLC0415 - the error path only
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate  # noqa: PLC0415

    try:
        parseUpdate(sparql) if update else parseQuery(sparql)
    except ParseException:
        return False
    except Exception:  # noqa: BLE001 - rdflib failing otherwise (RecursionError, its own bugs): not a verdict
        return True
    return True


def update_syntax_error(update: str) -> QuerySyntaxError | None:
    """The engine's syntax error for an update, if it has one, found by applying it to an empty in-memory store
    (pyoxigraph has no parse-only call): for the refusal paths that run before the engine (ownership), so that a
    malformed update is a 400 whatever else is wrong with it. LOAD and SERVICE are screened before this runs."""
    from pyoxigraph import Store as OxStore  # noqa: PLC0415

    if may_contain_keyword(update, "load") or may_contain_keyword(update, "service"):
        return None  # never tried: the engine would fetch; the checks that refuse these answer instead
    try:
        OxStore().update(update)
    except SyntaxError as error:
        return QuerySyntaxError(str(error))
    except Exception:  # noqa: BLE001 - a run-time refusal: the text parsed
        return None
    return None

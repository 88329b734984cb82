"""What can be told about a SPARQL text before any parser sees it, in one linear pass: its nesting depth, and
whether a keyword can occur in it outside strings, IRIs, comments and names.

Both checks guard the parsers: pyoxigraph's recursive-descent parser overflows the C stack (and kills its process)
somewhere past 3,000 nested groups, rdflib's pyparsing parser raises RecursionError past about 30. The lexer knows
only the terminals that hide text from the grammar (IRIREF, the four string forms, comments, variables, the local
part of prefixed names and blank node labels, after SPARQL 1.1 §19.8); everything else is "code".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin
from functools import lru_cache

from .errors import QueryTooDeep

# One alternation, tried left to right at each position, so a `#` inside an IRI or a string never starts a comment
# and a quote inside a comment never starts a string. The loops are possessive and a string left open runs to the
# end of its line (or of the text), so the pass is linear whatever the input (an open string is a syntax error to
# the engine anyway).
_HIDDEN = re.compile(
    r"""
      <(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>  # IRIREF (with codepoint escapes)
    | '''(?:'{0,2}(?:[^'\\]|\\.))*+(?:'''|'{0,2}\\?\Z)                  # STRING_LITERAL_LONG1
    | \"\"\"(?:"{0,2}(?:[^"\\]|\\.))*+(?:\"\"\"|"{0,2}\\?\Z)            # STRING_LITERAL_LONG2
    | '(?:[^'\\\n\r]|\\.)*+(?:'|\\?\Z|(?=[\n\r]))                        # STRING_LITERAL1
    | "(?:[^"\\\n\r]|\\.)*+(?:"|\\?\Z|(?=[\n\r]))                        # STRING_LITERAL2
    | \#[^\n\r]*+                                                        # comment
    | [?$]\w[\w\u00B7\u0300-\u036F\u203F\u2040]*+                        # variable
    | (?<=:)(?:[\w:]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])         # local part of a name: not from . or -
       (?:[\w\-.:\u00B7\u0300-\u036F\u203F\u2040]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])*+
    """,
    re.VERBOSE | re.DOTALL,
)
# pyoxigraph's parser overflowed an 8 MB thread stack (SIGSEGV, the process dies) at ~900 nested function calls
# (`STR(STR(…))`), ~3,000 nested groups: the configurable limit may not exceed this, and the engine refuses past it.
ENGINE_MAX_DEPTH = 500
_BRACKETS = re.compile(r"[{}()\[\]]")


def code_of(sparql: str) -> str:
    """The text with every IRI, string, comment, variable and local name (after its `:`) replaced by a space."""
    return _HIDDEN.sub(" ", sparql)


def code_in_place(sparql: str) -> str:
    """Like `code_of`, but each hidden token becomes as many spaces as it had characters: offsets in the result
    are offsets in the query (to find where its WHERE group opens, filmgraph.named_queries)."""
    return _HIDDEN.sub(lambda token: " " * len(token.group()), sparql)


def nesting_depth(sparql: str) -> int:
    """The deepest nesting of `{`, `(` and `[` outside strings, IRIs and comments (a running count, no recursion)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(code_of(sparql)):
        if bracket in "{([":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(sparql: str, limit: int) -> None:
    """Refuse, before any parser runs, a query or update nested deeper than `limit`."""
    if sparql.count("{") + sparql.count("(") + sparql.count("[") <= limit:
        return  # fewer openers than the limit: nearly every query, in about a microsecond
    depth = nesting_depth(sparql)
    if depth > limit:
        raise QueryTooDeep(
            f"the query nests brackets {depth} deep; the limit is {limit} (FILMGRAPH_MAX_QUERY_DEPTH)"
        )


def may_contain_keyword(sparql: str, keyword: str) -> bool:
    """Whether `keyword` can be read as a keyword of the text (case-insensitively). Letters glued to it still count,
    since pyoxigraph reads `SERVICEex:x` as `SERVICE ex:x`: the answer errs towards yes, never towards no."""
    keyword = keyword.lower()
    return keyword in sparql.lower() and keyword in code_of(sparql).lower()  # the plain `in` first: 100× cheaper


_FROM = re.compile(r"(?<!\w)from(?!\w*:)", re.IGNORECASE)  # not a prefix (`fromage:`); glued words still count


def has_dataset_clause(sparql: str) -> bool:
    """Whether the query has FROM / FROM NAMED: the only place FROM is a keyword. Unlike SERVICE, a wrong yes
    changes the answer (the default graph is no longer the union), so a prefix named `from…:` does not count."""
    return "from" in sparql.lower() and _FROM.search(code_of(sparql)) is not None


def longest_string(sparql: str) -> int:
    """UTF-8 bytes of the longest string literal in the text, quotes included (at least its value's size: an
    escape is never shorter than what it stands for)."""
    strings = (token.group() for token in _HIDDEN.finditer(sparql) if token.group()[0] in "'\"")
    return max((len(text.encode("utf-8")) for text in strings), default=0)


# --- the graphs and endpoints a text names: FROM / FROM NAMED, GRAPH and SERVICE targets, read from the tokens ----
# Keywords are found in `code_in_place` (IRIs, strings, comments blanked, offsets kept); the whitespace and comments
# after one, and the term, are read from the text itself: an IRIREF or a prefixed name, resolved against the
# PREFIX and BASE declarations before it, or a variable. SERVICE counts wherever its letters are (as in
# `may_contain_keyword`: pyoxigraph reads `1SERVICE<…>` and `SERVICEex:e` as the keyword), with SILENT skipped.
_KEYWORD_BEFORE_TERM = re.compile(r"(?<![\w:?$])(from(?:\s+named)?|graph|prefix|base)(?!\w)|(service)", re.IGNORECASE)
_SPACE = re.compile(r"(?:\s|\#[^\n\r]*)*")  # whitespace and comments, read between two tokens of the text
_SILENT = re.compile(r"silent", re.IGNORECASE)
_IRIREF = re.compile(r"<([^<>\"{}|^`\\\x00-\x20]*)>")
_PNAME = re.compile(r"([A-Za-z\u00C0-\uFFFF][\w.\-\u00B7]*)?:((?:[\w\-.:%]|\\.)*)")
_VARIABLE = re.compile(r"[?$]\w+")
_PREFIX_DECLARATION = re.compile(r"([A-Za-z\u00C0-\uFFFF][\w.\-\u00B7]*)?:\s*<([^<>\"{}|^`\\\x00-\x20]*)>")


@dataclass(frozen=True)
class NamedTerm:
    """A keyword (`from`, `from named`, `graph` or `service`) and what it names: an absolute IRI, a variable
    (`?name`), or None when the term after it cannot be read here; `start`/`end` span keyword and term."""

    keyword: str
    iri: str | None
    start: int
    end: int


def named_terms(sparql: str) -> list[NamedTerm]:
    """Every FROM, FROM NAMED, GRAPH and SERVICE of the text with the term it names, in one linear pass."""
    code, prefixes, base, found = code_in_place(sparql), {}, "", []
    for match in _KEYWORD_BEFORE_TERM.finditer(code):
        keyword = " ".join((match.group(1) or match.group(2)).lower().split())
        at = _SPACE.match(sparql, match.end()).end()
        if keyword == "service" and (silent := _SILENT.match(sparql, at)):
            at = _SPACE.match(sparql, silent.end()).end()
        if keyword == "prefix":
            declared = _PREFIX_DECLARATION.match(sparql, at)
            if declared:
                prefixes[declared.group(1) or ""] = urljoin(base, declared.group(2))
            continue
        iri_token = _IRIREF.match(sparql, at)
        if keyword == "base":
            base = urljoin(base, iri_token.group(1)) if iri_token else base
            continue
        if keyword == "service" and base:  # an endpoint is compared exactly: no resolution of ours decides it
            found.append(NamedTerm(keyword, None, match.start(), at))
            continue
        found.append(_term_at(sparql, at, keyword, match.start(), iri_token, prefixes, base))
    return found


def _term_at(sparql: str, at: int, keyword: str, start: int, iri_token, prefixes: dict, base: str) -> NamedTerm:
    if iri_token:
        relative = not re.match(r"[A-Za-z][\w+.\-]*:", iri_token.group(1))
        if relative and not base:
            return NamedTerm(keyword, None, start, iri_token.end())  # the engine's base, not ours to guess
        return NamedTerm(keyword, urljoin(base, iri_token.group(1)), start, iri_token.end())
    if variable := _VARIABLE.match(sparql, at):
        return NamedTerm(keyword, variable.group(), start, variable.end())
    name = _PNAME.match(sparql, at)
    if name and (name.group(1) or "") in prefixes:
        local = name.group(2).rstrip(".")
        iri = prefixes[name.group(1) or ""] + re.sub(r"\\(.)", r"\1", local)
        return NamedTerm(keyword, iri, start, name.start(2) + len(local))
    return NamedTerm(keyword, None, start, at)


def blank_spans(sparql: str, spans: list[tuple[int, int]]) -> str:
    """The text with each (start, end) span replaced by spaces (offsets of everything else kept)."""
    chars = list(sparql)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


_DUPLICATE_SENSITIVE = re.compile(
    r"(?<![\w:])(select|describe|count|sum|avg|min|max|sample|group_concat|group|bnode|rand|uuid|struuid)(?!\w)"
    r"|_:|\[",
    re.IGNORECASE,
)
_SLICE = re.compile(r"(?<![\w:])(offset|limit)(?!\w)", re.IGNORECASE)
_SELECT_DISTINCT = re.compile(r"(?<![\w:])select\s+(distinct|reduced)(?!\w)", re.IGNORECASE)


def solutions_ignore_duplicates(sparql: str) -> bool:
    """Whether the answer is the same when a triple of the default graph is matched once per graph holding it:
    ASK, CONSTRUCT (its output is a set) and SELECT DISTINCT/REDUCED, without aggregates, sub-selects, slices,
    blank nodes or per-solution functions (each duplicate solution would make a new blank node or random value).
    Errs towards no: a no only costs the exact, slower evaluation."""
    code = code_of(sparql)
    selects = len(re.findall(r"(?<![\w:])select(?!\w)", code, re.IGNORECASE))
    if selects == 1 and _SELECT_DISTINCT.search(code):
        code = _SELECT_DISTINCT.sub(" ", code, count=1)  # DISTINCT comes before LIMIT and OFFSET
    elif selects or _SLICE.search(code):
        return False
    return _DUPLICATE_SENSITIVE.search(code) is None


_FORM = re.compile(r"(?<![\w:])(select|ask|construct|describe)(?![\w:])", re.IGNORECASE)


def query_form(sparql: str) -> str | None:
    """The query's form, lower case (`select`, `ask`, `construct`, `describe`), from its first keyword outside
    IRIs, strings and comments; None when there is none (the engine will say what is wrong)."""
    found = _FORM.search(code_of(sparql))
    return found.group(1).lower() if found else None


_GROUPS = re.compile(r"(?i)(?<![\w:])where(?![\w:])|[{}]")


def where_group_start(text: str) -> int | None:
    """The offset just inside the `{` that opens the query's WHERE group: the first top-level group after a
    top-level WHERE, or the first top-level group when the query omits the keyword (`ASK { … }`); None if none."""
    depth, seen_where, first = 0, False, None
    for token in _GROUPS.finditer(code_in_place(text)):
        if token.group() == "}":
            depth -= 1
        elif token.group() == "{":
            if depth == 0 and seen_where:
                return token.end()
            if depth == 0 and first is None:
                first = token.end()
            depth += 1
        elif depth == 0:
            seen_where = True
    return first


_INNERMOST_GROUP = re.compile(r"\{[^{}]*\}")
_PROLOGUE = re.compile(r"\b(?:PREFIX\s+[^\W\d]?[\w.-]*:|BASE)", re.IGNORECASE)  # IRIs are already blanked
_DATA_OPERATIONS = re.compile(r"\s*(?:(?:INSERT|DELETE)\s+DATA\s*(?:;\s*|\Z))+", re.IGNORECASE)


def is_data_only(update: str, max_depth: int = 4) -> bool:
    """Whether every operation of the update is INSERT DATA or DELETE DATA (after a prologue): its cost is its
    size, with no WHERE to evaluate and no graph to clear. Errs towards no: anything else, or groups nested deeper
    than `max_depth`, is not."""
    code = _PROLOGUE.sub(" ", code_of(update))
    for _ in range(max_depth):
        code, found = _INNERMOST_GROUP.subn(" ", code)
        if not found:
            break
    return "{" not in code and "}" not in code and _DATA_OPERATIONS.fullmatch(code) is not None


# An INSERT/DELETE DATA this short is checked and committed in tens of microseconds, less than handing it to a thread
# costs (py-spy on the server: the hand-offs were half of a small write's time in the server process).
SMALL_UPDATE_CHARS = 4_000


@lru_cache(maxsize=8)  # asked by the route and then by the store, of the same text
def is_small_data_update(update: str) -> bool:
    """Whether the update is cheap enough to run on the event loop: short, and only INSERT/DELETE DATA."""
    if len(update) > SMALL_UPDATE_CHARS:
        return False
    return ground_data_graphs(update) is not None or is_data_only(update)


# --- ground data of the common shape: `INSERT DATA { GRAPH <g> { <s> <p> "o" } }`, read by two regexes ----------
# What clients send most (a curator's script, rdflib's SPARQLUpdateStore, the conformance runner): INSERT or DELETE
# DATA of IRIs and literals, into GRAPH <iri> blocks or the default graph. For that shape the graphs written are told
# without the token reader of update_targets (a Python loop over every token: ~5% of a small write's time in the
# server, py-spy). The shape admits only tokens that cannot hide a brace or a keyword from it: IRIs without escapes,
# short strings with their escapes (a quote right after one is refused: it may open a long string), language tags,
# datatypes, numbers, `true`, `false`, `a` and `. ; ,`. Anything else (comments, prefixed names, blank nodes, long
# strings, BASE/PREFIX) is not this shape, and the full reader answers. Nothing here checks that the triples are
# well formed: the engine does, as it does after the full reader.
_S = r"[ \t\r\n]"  # SPARQL's white space (Python's \s is wider)
_G_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*+>"
_G_ESCAPE = r"""\\(?:[tbnrf"'\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})"""
_G_STRING = rf"""(?:"(?:[^"\\\n\r]|{_G_ESCAPE})*+"|'(?:[^'\\\n\r]|{_G_ESCAPE})*+')(?!["'])"""
_G_TERM = (
    rf"{_G_IRI}|{_G_STRING}(?:@[A-Za-z]++(?:-[A-Za-z0-9]++)*+|\^\^{_G_IRI})?"
    r"|[+-]?[0-9.]*[0-9](?:[eE][+-]?[0-9]++)?|(?<![\w:])(?:true|false|a)(?![\w:-])"
)
_G_TRIPLES = rf"(?:{_S}++|{_G_TERM}|[.;,])*+"
_G_GRAPH_BLOCK = rf"(?i:GRAPH){_S}*+({_G_IRI}){_S}*+\{{{_G_TRIPLES}\}}"
_G_OPERATION = rf"(?i:INSERT|DELETE){_S}++(?i:DATA){_S}*+\{{(?:{_S}++|{_G_TERM}|[.;,]|{_G_GRAPH_BLOCK})*+\}}"
_GROUND_DATA = re.compile(rf"{_S}*+{_G_OPERATION}(?:{_S}*+;{_S}*+{_G_OPERATION})*+{_S}*+;?{_S}*+")
# Over a text of that shape: each GRAPH block whole (its IRI in group 1), else a term outside any GRAPH block, which
# can only stand at the top of a DATA block (keywords hold no digit, and no `a`, `true` or `false` as a word).
_GROUND_PIECES = re.compile(rf"{_G_GRAPH_BLOCK}|(?:{_G_TERM})")


@lru_cache(maxsize=8)  # asked by the route, the ownership check and the store, of the same text
def ground_data_graphs(update: str) -> frozenset[str | None] | None:
    """The graphs (None: the default graph) an update of the common ground shape writes, or None when the update
    is not of that shape (filmgraph.update_targets reads it then)."""
    if _GROUND_DATA.fullmatch(update) is None:
        return None
    return frozenset(piece.group(1)[1:-1] if piece.group(1) else None for piece in _GROUND_PIECES.finditer(update))


def is_replayable(update: str) -> bool:
    """Whether applying the update to an equal copy of the store gives an equal copy: a small INSERT/DELETE DATA
    without blank nodes (`_:x`, `[]`, collections), whose every new blank node would get another label."""
    if not is_small_data_update(update):
        return False
    if ground_data_graphs(update) is not None:
        return True  # IRIs and literals only
    code = code_of(update)
    return "_:" not in code and "[" not in code and "(" not in code

"""The graphs a SPARQL Update writes, read from its tokens before it is applied.

The SPARQL route refuses a user's update that would write a graph the build owns (filmgraph.ownership); for that
it needs every graph each operation can change:

- INSERT DATA / DELETE DATA / DELETE WHERE / DELETE-INSERT: the `GRAPH <iri>` blocks of the data or templates,
  and the default graph (or the `WITH` graph) for triples outside them. A template `GRAPH ?var` can write any
  graph, even one that does not exist yet (the WHERE clause may BIND any IRI), so it is `variable_graph`, which
  the route refuses: name the graph in the template.
- LOAD (INTO GRAPH), CLEAR, DROP, CREATE: the graph named, or the default graph; `ALL` and `NAMED` write every
  graph the store has (`all_named`).
- ADD and COPY write their target; MOVE writes its target and empties its source.

Why tokens and not a parser: rdflib's SPARQL parser took 3.2 s for an INSERT DATA of 100,000 characters (the
longest update allowed) and its algebra translation is quadratic (36 s), where Oxigraph applies it in 12 ms; it also
overflows the stack at about 40 nested groups. The write targets sit in few places (operation keywords at the top
level and the blocks of DATA and templates), which one linear pass over the tokens finds: IRIs (with `\\u`
escapes), prefixed names (with PREFIX and `\\` escapes), BASE, strings and comments are read as SPARQL reads them, so
a brace in a string or a comment never counts. WHERE blocks are skipped whole. Text that does not have the shape of
an update is a 400, as the engine would answer. This is a guard rail for token holders, not a sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .errors import QuerySyntaxError
from .sparql_text import ground_data_graphs

DEFAULT = None  # the default graph, as in the Store interface

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$]\w+)
  | (?P<pname>(?:[^\W\d_](?:[\w.-]*[\w-])?)?:(?:[\w:%-]|\\[_~.!$&'()*+,;=/?\#@%-]|\.(?=[\w:%\\-]))*)
  | (?P<word>[^\W\d]\w*)
  | (?P<punct>[{};])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_TEMPLATE_AFTER = {"DATA", "WHERE"}  # INSERT DATA, DELETE DATA, DELETE WHERE: the next block is written


@dataclass
class WrittenGraphs:
    """What one update can write: named graphs (None = default graph), or every graph of the store."""

    graphs: set[str | None] = field(default_factory=set)
    all_named: bool = False  # DROP / CLEAR ALL or NAMED
    variable_graph: str | None = None  # the template that writes GRAPH ?var, if any


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _tokens(update: str) -> list[_Token]:
    return [
        _Token(match.lastgroup, match.group())
        for match in _TOKEN.finditer(update)
        if match.lastgroup != "space"
    ]


def written_graphs(update: str) -> WrittenGraphs:
    """Every graph `update` may write; a text that is not shaped like an update is a 400, never a 500."""
    ground = ground_data_graphs(update)  # the common small write, told by a regex
    if ground is not None:
        return WrittenGraphs(set(ground))
    try:
        return _Reader(_tokens(update)).read()
    except QuerySyntaxError as error:
        raise QuerySyntaxError(f"the update does not parse: {error}") from None


class _Reader:
    """One pass over the tokens, keeping the prologue (BASE, PREFIX) and the operation's WITH graph."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens, self.at = tokens, 0
        self.base: str | None = None
        self.prefixes: dict[str, str] = {}
        self.written = WrittenGraphs()

    # --- tokens -----------------------------------------------------------------------------------------------
    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("the update ends too early")
        self.at += 1
        return token

    def take_if(self, *keywords: str) -> str | None:
        token = self.peek()
        if token is not None and token.keyword in keywords:
            self.at += 1
            return token.keyword
        return None

    def iri(self, token: _Token) -> str:
        """The absolute IRI of an IRI or a prefixed-name token."""
        if token.kind == "iri":
            value = _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), token.text[1:-1])
            return urljoin(self.base, value) if self.base else value
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes:
                raise QuerySyntaxError(f"the prefix {prefix}: is not declared")
            return self.prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)
        raise QuerySyntaxError(f"expected an IRI, found {token.text!r}")

    # --- operations -------------------------------------------------------------------------------------------
    def read(self) -> WrittenGraphs:
        with_graph: str | None = DEFAULT
        while (token := self.peek()) is not None:
            keyword = token.keyword
            self.at += 1
            if keyword == "BASE":
                self.base = self.iri(self.take())
            elif keyword == "PREFIX":
                prefix = self.take()
                if prefix.kind != "pname" or not prefix.text.endswith(":"):
                    raise QuerySyntaxError(f"PREFIX needs a name ending in ':', found {prefix.text!r}")
                self.prefixes[prefix.text[:-1]] = self.iri(self.take())
            elif keyword == "WITH":
                with_graph = self.iri(self.take())
            elif keyword in ("INSERT", "DELETE"):
                after = self.take_if(*_TEMPLATE_AFTER)
                self.template(DEFAULT if after else with_graph, f"{keyword}{' ' + after if after else ''}")
            elif keyword in ("CLEAR", "DROP", "CREATE", "LOAD"):
                self.graph_management(keyword)
            elif keyword in ("ADD", "MOVE", "COPY"):
                self.take_if("SILENT")
                source = self.graph_ref()
                if self.take_if("TO") is None:
                    raise QuerySyntaxError(f"{keyword} needs TO")
                self.written.graphs.add(self.graph_ref())
                if keyword == "MOVE":
                    self.written.graphs.add(source)
            elif token.text == ";":
                with_graph = DEFAULT
            elif token.text == "{":  # a WHERE (or USING … WHERE) block: read, never written
                self.skip_block()
            elif token.text == "}":
                raise QuerySyntaxError("a '}' closes nothing")
        return self.written

    def graph_management(self, keyword: str) -> None:
        self.take_if("SILENT")
        if keyword == "LOAD":
            self.take()  # the document's IRI
            if self.take_if("INTO") is None:
                self.written.graphs.add(DEFAULT)
                return
        target = self.take_if("DEFAULT", "NAMED", "ALL")
        if target in ("NAMED", "ALL"):
            self.written.all_named = True
        elif target == "DEFAULT":
            self.written.graphs.add(DEFAULT)
        else:
            self.take_if("GRAPH")
            self.written.graphs.add(self.iri(self.take()))

    def graph_ref(self) -> str | None:
        if self.take_if("DEFAULT"):
            return DEFAULT
        self.take_if("GRAPH")
        return self.iri(self.take())

    # --- blocks -----------------------------------------------------------------------------------------------
    def expect_open(self, what: str) -> None:
        if self.take().text != "{":
            raise QuerySyntaxError(f"{what} needs a block {{ … }}")

    def template(self, default_target: str | None, what: str) -> None:
        """A block of data or a template: triples at its top level go to `default_target`, GRAPH blocks to theirs."""
        self.expect_open(what)
        while (token := self.take()).text != "}":
            if token.keyword == "GRAPH":
                name = self.take()
                if name.kind == "var":
                    self.written.variable_graph = f"{what} with GRAPH {name.text}"
                else:
                    self.written.graphs.add(self.iri(name))
                self.expect_open("GRAPH")
                self.skip_block()
            elif token.text == "{":
                raise QuerySyntaxError(f"a block inside {what} must follow GRAPH")
            elif token.text != ".":
                self.written.graphs.add(default_target)

    def skip_block(self) -> None:
        """Skip to the '}' that closes the block just opened (iterative: depth costs no stack)."""
        depth = 1
        while depth:
            text = self.take().text
            depth += (text == "{") - (text == "}")


def graphs_of(written: WrittenGraphs, named_graphs: Iterable[str]) -> set[str | None]:
    """The graphs the update writes, with `all_named` spelled out as the store's named graphs and default graph."""
    return {*written.graphs, DEFAULT, *named_graphs} if written.all_named else set(written.graphs)


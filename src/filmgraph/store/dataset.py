"""Which dataset a query runs over on pyoxigraph: the protocol's, the query's FROM clauses, or the query default
graph of the mode (the union of all graphs, or the store's own default graph), with the reserved IRIs
`urn:x-arq:DefaultGraph` and `urn:x-arq:UnionGraph` (base.py) resolved, and whether the union must be merged.

The union is an RDF merge: a triple held in several graphs is one triple of it. pyoxigraph 0.5's union (and its
list of default graphs) yields such a triple once per graph, so a query whose answer depends on multiplicity
runs on a merged view (store/merged.py) when, and only when, the store holds such a triple at all. Whether it
does is known per generation: after small ground writes (`is_replayable`) from what they wrote, a few lookups;
after any other write one ASK over the store (0.35 s at 100k quads, about 1 s at 1M), asked only when a
duplicate-sensitive union query comes. Before, that ASK followed every write: with reads mixed into small writes,
each read after a write paid it (BENCHMARKS.md, "## Writes"). The serving store asks once at start
(`learn_duplicates`), and its event loop carries the answer over a few small writes itself (`quick`): handed to a
thread, the question cost each read after a write a GIL hand-off, more than the lookups (issue 14).

`DuplicateWatch` is not a `PerVersion` value (store/derived.py): its answer is carried over from one generation to
the next by the writes in between, and asked for under the store's write lock with the generation read there, where
`PerVersion` recomputes from nothing for whatever generation the store shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import DefaultGraph, NamedNode, Store as OxStore

from ..errors import BadRequest, NotExecutable
from ..sparql_text import (
    blank_spans, has_dataset_clause, may_contain_keyword, named_terms, solutions_ignore_duplicates,
)
from .base import DEFAULT_GRAPH_IRI, UNION_GRAPH_IRI, Dataset

RESERVED = (DEFAULT_GRAPH_IRI, UNION_GRAPH_IRI)
_RESERVED_PREFIX = "urn:x-arq:"


@dataclass(frozen=True)
class EngineDataset:
    """The query text to give the engine (GRAPH of a reserved IRI rewritten) and its dataset."""

    sparql: str
    union: bool = False  # the query default graph is the union of all graphs
    default_graph: tuple[NamedNode | DefaultGraph, ...] | None = None  # None: the store's, or the query's FROM
    named_graphs: tuple[NamedNode, ...] | None = field(default=None)

    def keywords(self, *, merged: bool = False) -> dict:
        """pyoxigraph's `query` keywords. On a merged view (merged.py) the union is already its default graph."""
        kwargs: dict = {}
        if self.union and not merged:
            kwargs["use_default_graph_as_union"] = True
        if self.default_graph is not None:
            kwargs["default_graph"] = list(self.default_graph)
        if self.named_graphs is not None:
            kwargs["named_graphs"] = list(self.named_graphs)
        return kwargs


def engine_dataset(sparql: str, dataset: Dataset | None) -> EngineDataset:
    """The protocol's dataset wins over the query's FROM, which wins over the mode's query default graph."""
    terms = named_terms(sparql) if _RESERVED_PREFIX in sparql else []
    mode = dataset.query_default if dataset is not None else UNION_GRAPH_IRI
    if dataset is not None and (dataset.default_graphs or dataset.named_graphs):
        default, named = list(dataset.default_graphs) or [mode], list(dataset.named_graphs) or None
        if has_dataset_clause(sparql):  # overridden: out of the text, where it would beat the union keyword
            terms = terms or named_terms(sparql)
            sparql = blank_spans(sparql, [(t.start, t.end) for t in terms if t.keyword in ("from", "from named")])
    elif has_dataset_clause(sparql):
        clauses = [term for term in terms if term.keyword in ("from", "from named")]
        if not any(term.iri in RESERVED for term in clauses):
            return _with_graph_terms(sparql, terms, EngineDataset(sparql))  # the engine reads the FROM itself
        if any(term.iri is None for term in clauses):
            raise BadRequest("beside a reserved graph, write the other FROM / FROM NAMED graphs as full IRIs")
        # Ours to resolve: the clauses leave the text (they would override the keywords) and become keywords, an
        # absent kind an empty list (FROM alone: no named graphs; FROM NAMED alone: an empty default graph).
        sparql = blank_spans(sparql, [(term.start, term.end) for term in clauses])
        default = [term.iri for term in clauses if term.keyword == "from"]
        named = [term.iri for term in clauses if term.keyword == "from named"]
    else:
        default, named = [mode], None
    return _with_graph_terms(sparql, terms, _resolved(sparql, default, named))


def _resolved(sparql: str, default: list[str], named: list[str] | None) -> EngineDataset:
    for iri in named or ():
        if iri in RESERVED:
            raise BadRequest(f"<{iri}> stands for a default graph, not a named one: use it in FROM, "
                             "default-graph-uri or GRAPH, not in FROM NAMED or named-graph-uri")
    named_nodes = tuple(NamedNode(iri) for iri in named) if named is not None else None
    if UNION_GRAPH_IRI in default:  # the union holds every other graph already
        return EngineDataset(sparql, union=True, named_graphs=named_nodes)
    if default == [DEFAULT_GRAPH_IRI] and named_nodes is None and not has_dataset_clause(sparql):
        return EngineDataset(sparql)  # the engine's own default: no keyword, the fastest path
    graphs = tuple(DefaultGraph() if iri == DEFAULT_GRAPH_IRI else NamedNode(iri) for iri in default)
    return EngineDataset(sparql, default_graph=graphs, named_graphs=named_nodes)


def _with_graph_terms(sparql: str, terms: list, chosen: EngineDataset) -> EngineDataset:
    """`GRAPH <reserved> { P }` is `{ P }` when that reserved graph is the query's default graph: the keyword and
    IRI are blanked. pyoxigraph has no way to name the other one inside a query, so that is refused (409)."""
    reserved = [term for term in terms if term.keyword == "graph" and term.iri in RESERVED]
    if not reserved:
        return chosen
    default = _reserved_default(chosen)
    for term in reserved:
        if term.iri != default:
            raise NotExecutable(
                f"GRAPH <{term.iri}> is read here only where it is the query's default graph (this query's is "
                f"{'<' + default + '>' if default else 'a list of graphs'}): choose it with FROM <{term.iri}> or "
                "default-graph-uri, or set FILMGRAPH_UNION_DEFAULT_GRAPH (README, 'The query dataset')"
            )
    spans = [(term.start, term.end) for term in reserved]
    return EngineDataset(blank_spans(chosen.sparql, spans), chosen.union, chosen.default_graph, chosen.named_graphs)


def _reserved_default(chosen: EngineDataset) -> str | None:
    if chosen.union:
        return UNION_GRAPH_IRI
    if chosen.default_graph is None and not has_dataset_clause(chosen.sparql):
        return DEFAULT_GRAPH_IRI
    if chosen.default_graph == (DefaultGraph(),):
        return DEFAULT_GRAPH_IRI
    return None


# One ASK, on the store's own default graph: a triple in two named graphs, or in the default graph and one named.
_DUPLICATE_TRIPLE = """ASK {
  { GRAPH ?a { ?s ?p ?o } GRAPH ?b { ?s ?p ?o } FILTER (?a != ?b) }
  UNION { ?s ?p ?o GRAPH ?b { ?s ?p ?o } }
}"""


def holds_duplicate_triples(store: OxStore) -> bool:
    """Whether some triple is held in more than one graph (then the union must be merged to be a set)."""
    return bool(store.query(_DUPLICATE_TRIPLE))


# The small writes remembered between two questions, by the length of their text: carrying the answer over them
# costs a parse and a lookup per written triple (~20 µs for an update of one triple, ~150 characters), so a million
# characters cost ~0.15 s, less than the ASK over the store whole from 100k quads up (0.35 s at 100k, ~1 s at 1M).
MAX_REMEMBERED_CHARACTERS = 1_000_000
# At most this many carried over by a quick question (the event loop's, `merge_needed(quick=True)`): ~20 µs each.
MAX_QUICK_WRITES = 16


class DuplicateWatch:
    """Whether union queries need the merged view, knowing per generation whether the store holds a triple in
    several graphs; asked (`merge_needed`) only when a union query that depends on multiplicity meets a generation
    not yet asked about. The answer of the last generation asked about carries over the small ground writes since
    (`written`): a deletion never makes a triple appear in a second graph, and an insertion makes one only if a
    triple it wrote is now in two, which a lookup per written quad tells (`_writes_duplicate`). Only when that
    cannot tell (another kind of write, or a deletion while some triple was duplicated) is the store asked whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation, self._present = -1, False
        self._since: list[str] | None = []  # the replayable updates committed since `_generation`; None: others too
        self._since_characters = 0

    def known_no_merge(self, sparql: str, dataset: Dataset | None, generation: int) -> bool | None:
        """Whether to merge, when that is known without asking the store; None when it must be asked."""
        if self._generation == generation and not self._present:
            return False  # the common case, before any lexing: no triple is in two graphs
        if not engine_dataset(sparql, dataset).union:
            return False
        if self._generation == generation:
            return self._present and not solutions_ignore_duplicates(sparql)
        return False if solutions_ignore_duplicates(sparql) else None

    def merge_needed(
        self,
        sparql: str,
        dataset: Dataset | None,
        generation: int,
        ask: Callable[[bool], tuple[int, bool] | None],
        quick: bool = False,
    ) -> bool | None:
        """`ask(quick)` returns (the store's generation, whether it holds a triple in several graphs): `present`
        under the store's write lock. `quick` (the event loop): only an answer known or carried over a few small
        writes, without waiting for a lock; None when it would cost more (the caller asks again off the loop)."""
        known = self.known_no_merge(sparql, dataset, generation)
        if known is not None:
            return known
        if quick and not self.carries_quickly():
            return None
        return self.learn(generation, ask, quick)

    def learn(self, generation: int, ask: Callable[[bool], tuple[int, bool] | None], quick: bool = False) -> bool | None:
        """Whether the store holds a triple in several graphs, asked unless known for `generation` already (the
        serving store asks at start, so that no read pays the ASK over the store whole later)."""
        if not self._lock.acquire(blocking=not quick):
            return None
        try:
            if self._generation < generation:
                answer = ask(quick)
                if answer is None:  # quick, and the write lock was busy or the store must be asked whole
                    return None
                self._generation, self._present = answer
            return self._present
        finally:
            self._lock.release()

    def carries_quickly(self) -> bool:
        """Whether the answer known carries over the writes since in microseconds (MAX_QUICK_WRITES lookups)."""
        since = self._since
        return since is not None and self._generation >= 0 and len(since) <= MAX_QUICK_WRITES

    def written(self, replay: str | None) -> None:
        """A write committed a new generation (called under the store's write lock); `replay`: the update, when it
        is a small ground INSERT/DELETE DATA (`is_replayable`)."""
        if self._since is not None:
            if replay is None or self._since_characters + len(replay) > MAX_REMEMBERED_CHARACTERS:
                self._since = None
            else:
                self._since.append(replay)
                self._since_characters += len(replay)

    def present(self, store: OxStore, quick: bool = False) -> bool | None:
        """Whether `store` holds a triple in several graphs now (under its write lock, for `ask`): from the answer
        of the generation last asked about and the writes since, when they tell, else from the store whole; None
        if `quick` and that would take more than a few lookups."""
        if quick and not self.carries_quickly():
            return None
        present = self._carried_over(store)
        if present is None:
            if quick:
                return None
            present = holds_duplicate_triples(store)
        self._since, self._since_characters = [], 0  # only once answered: a failed answer leaves it to the store whole
        return present

    def _carried_over(self, store: OxStore) -> bool | None:
        since = self._since
        if since is None or self._generation < 0:
            return None
        if not self._present:
            return any(_writes_duplicate(store, update) for update in since)
        return True if not any(may_contain_keyword(update, "delete") for update in since) else None


def _writes_duplicate(store: OxStore, update: str) -> bool:
    """Whether a triple that the ground `update` inserts is held in several graphs of `store` (which it was applied
    to). What it inserts: the update applied to an empty store (~10 µs for a triple)."""
    written = OxStore()
    written.update(update)
    for quad in written:
        graphs = {found.graph_name for found in store.quads_for_pattern(quad.subject, quad.predicate, quad.object)}
        if len(graphs) > 1:
            return True
    return False

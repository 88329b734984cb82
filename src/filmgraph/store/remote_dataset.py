"""The dataset filmgraph's queries read on a remote engine, whatever that engine's default graph is.

filmgraph's own queries (REST, named queries, search, exports, VoID) are written for a default graph that is the
union of the named graphs, as in the embedded store. Oxigraph server started with `--union-default-graph` has
that; Oxigraph without it, Jena/Fuseki by default and many others have a separate, usually empty, default graph;
Virtuoso's default graph is the union of *every* graph, its own bookkeeping graphs included. So unless the
engine's default graph is known to be the union (`FILMGRAPH_REMOTE_UNION_DEFAULT_GRAPH=true`, or detected at
the first query), each query names its dataset through the protocol: `default-graph-uri` and `named-graph-uri`
list the named graphs (the engine's own left out). A query with its own FROM / FROM NAMED keeps it.

The reserved IRIs of the embedded store (Jena's names) work here too: `urn:x-arq:UnionGraph` as a default graph
means the union of the named graphs, `urn:x-arq:DefaultGraph` the engine's own default graph (reachable only on an
engine whose default graph is not the union).

The listing of the named graphs (`GraphScope.graphs`) is not a `PerVersion` value (store/derived.py): it also
expires with time (`GRAPH_LIST_SECONDS`), since the generation counts only this client's writes, not another's.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import InvalidParameter
from ..sparql_text import has_dataset_clause
from .base import Dataset

UNION_GRAPH = "urn:x-arq:UnionGraph"
DEFAULT_GRAPH = "urn:x-arq:DefaultGraph"
NO_GRAPH = "urn:x-filmgraph:no-graph"  # never holds anything: a dataset of no graph at all
GRAPH_LIST_LIMIT = 500  # graphs named in one request at most, on an engine whose union is usable
GRAPH_LIST_SECONDS = 2.0  # how long a listing of the named graphs is reused (another writer is seen after that)
LONG_LIST_SECONDS = 60.0  # the same past GRAPH_LIST_LIMIT, where the list is not sent and only its length matters

Params = dict[str, list[str]]


class GraphScope:
    """Protocol dataset parameters for each query. `union_default`: whether the engine's default graph is the
    union of the named graphs (None: not known yet). `list_graphs` lists the named graphs, fresh."""

    def __init__(
        self,
        union_default: bool | None,
        list_graphs: Callable[[], list[str]],
        detect: Callable[[], bool | None],
        union_less_own_graphs: Callable[[], bool],
    ) -> None:
        """`detect` says whether the engine's default graph is the union (None: cannot tell yet);
        `union_less_own_graphs`: whether the engine's default graph is the union of every graph, its own
        bookkeeping graphs included (Virtuoso): then it is used only past `GRAPH_LIST_LIMIT` graphs."""
        self.union_default = union_default
        self._list_graphs, self._detect, self._union_with_own = list_graphs, detect, union_less_own_graphs
        self._listed: tuple[float, int, list[str]] | None = None

    def params(self, sparql: str, dataset: Dataset | None, generation: int) -> Params:
        """What to send with this query so that it reads filmgraph's dataset."""
        if dataset is not None and (dataset.default_graphs or dataset.named_graphs):
            return self._requested(dataset, generation)
        if self.union_default or has_dataset_clause(sparql):
            return {}
        graphs = self.graphs(generation)
        if not graphs:  # all the data is in the engine's default graph (a file loaded there), or there is none
            return {"default-graph-uri": [NO_GRAPH]} if self._union_with_own() else {}
        if self._union_with_own():
            return {} if len(graphs) > GRAPH_LIST_LIMIT else {"default-graph-uri": graphs, "named-graph-uri": graphs}
        if self.union_default is None:
            self.union_default = self._detect()
            if self.union_default:
                return {}
        return {"default-graph-uri": graphs, "named-graph-uri": graphs}

    def graphs(self, generation: int) -> list[str]:
        """The named graphs, listed again after our own writes or after `GRAPH_LIST_SECONDS` (`LONG_LIST_SECONDS`
        for a list too long to send)."""
        now = time.monotonic()
        keep = GRAPH_LIST_SECONDS if self._listed is None or len(self._listed[2]) <= GRAPH_LIST_LIMIT else LONG_LIST_SECONDS
        if self._listed is None or self._listed[1] != generation or now - self._listed[0] > keep:
            self._listed = (now, generation, self._list_graphs())
        return self._listed[2]

    def _requested(self, dataset: Dataset, generation: int) -> Params:
        """A caller's dataset, its reserved IRIs resolved for this engine."""
        default, named = list(dataset.default_graphs), list(dataset.named_graphs)
        if default == [UNION_GRAPH] and not named and self.union_default:
            return {}
        if DEFAULT_GRAPH in default:
            if self.union_default or len(default) > 1 or named:
                raise InvalidParameter(
                    f"<{DEFAULT_GRAPH}>: this remote engine's default graph is the union of its named graphs, or "
                    "cannot be combined with other graphs, so it cannot be read on its own"
                )
            return {}
        if UNION_GRAPH in default:
            default = [g for g in default if g != UNION_GRAPH] + self.graphs(generation)
        return {"default-graph-uri": default or [NO_GRAPH], "named-graph-uri": named}

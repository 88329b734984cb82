"""`filmgraph push`: publish the built graphs to a remote engine through the Graph Store Protocol.

Graph by graph, each one a PUT, which replaces the graph in one transaction on the engines tested (Oxigraph
server, Virtuoso): a reader sees the old graph or the new one, never half. PUT is idempotent, so a push that was
interrupted is simply run again. Graphs the remote holds that the local store does not (a user's) are left
alone and reported. At the end every pushed graph is read back (a Graph Store GET) and its triples counted: the
push fails unless each count equals the local one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyoxigraph import DefaultGraph

from .errors import FilmgraphError
from .store import Store
from .store.remote import RemoteStore


class PushMismatch(FilmgraphError):
    """After the push, a remote graph does not hold as many triples as the local one."""

    status_code = 502


@dataclass
class PushReport:
    """What a push did: triples per graph pushed (None = the default graph), graphs only the remote has."""

    pushed: dict[str | None, int] = field(default_factory=dict)
    remote_only: list[str] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(self.pushed.values())


def local_graphs(source: Store) -> dict[str | None, int]:
    """The graphs to publish, with their sizes: every named graph, and the default graph if it holds anything."""
    graphs: dict[str | None, int] = {graph: source.count(graph) for graph in source.named_graphs()}
    default = source.count() - sum(graphs.values())
    if default:
        graphs[None] = default
    return graphs


def push(source: Store, target: RemoteStore, progress: Callable[[int], None] | None = None) -> PushReport:
    """Replace each graph of `target` by the same graph of `source`, then check the counts. `progress` receives
    the triples of each graph once it is stored."""
    graphs = local_graphs(source)
    listed = target.named_graphs() if target.endpoints.query else []
    report = PushReport(remote_only=[g for g in listed if g not in graphs])
    for graph, _ in sorted(graphs.items(), key=lambda item: (item[0] is None, item[0] or "")):
        triples = [q.triple for q in source.quads(graph) if graph is not None or isinstance(q.graph_name, DefaultGraph)]
        target.replace_graph(graph, triples)
        report.pushed[graph] = len(triples)
        if progress:
            progress(len(triples))
    check(target, report.pushed)
    return report


def check(target: RemoteStore, expected: dict[str | None, int]) -> None:
    """Read each graph back and count it; PushMismatch names every graph that differs."""
    wrong = {graph: (count, target.graph_size(graph)) for graph, count in expected.items()}
    wrong = {graph: sizes for graph, sizes in wrong.items() if sizes[0] != sizes[1]}
    if wrong:
        lines = "; ".join(f"{graph or 'default graph'}: {local} here, {remote} there" for graph, (local, remote) in wrong.items())
        raise PushMismatch(f"the remote graphs do not match after the push ({lines}): run it again")

"""Large replies from the query workers arrive whole, whichever path (event loop or thread) asked for them.

uvloop leaves a pipe it watched non-blocking; a worker first used from the event loop (SPARQL protocol) and then
from a thread (REST routes) must still deliver a reply larger than the pipe's buffer in one piece.
"""

from __future__ import annotations

import httpx


def test_large_replies_arrive_whole_on_both_paths(live_server) -> None:
    sizes = set()
    for _ in range(6):
        sparql = httpx.get(
            f"{live_server}/sparql",
            params={"query": "SELECT * WHERE { ?s ?p ?o }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        assert sparql.status_code == 200, sparql.text
        sizes.add(len(sparql.json()["results"]["bindings"]))
        rest = httpx.get(f"{live_server}/api/entities", params={"q": "russia", "limit": 5}, timeout=30)
        assert rest.status_code == 200, rest.text
        assert rest.json()["items"]
    assert len(sizes) == 1 and sizes.pop() > 1000

"""The query dataset in the serving configuration (issue 14 items 1 and 2): the merged view of a union with a
triple in several graphs is built in the worker process."""

from __future__ import annotations

from filmgraph.serving.serving_store import ServingStore

from dataset_support import COUNT, DATA, UNION_TRIPLES


def test_the_workers_merge_too(tmp_path):
    """The serving configuration: the merged view is built in the worker process, a timed-out query still killed."""
    store = ServingStore(tmp_path / "store", workers=1, query_timeout=20)
    try:
        store.update(DATA)
        assert store.query(COUNT).rows[0]["n"].value == str(UNION_TRIPLES)
        assert len(store.query('SELECT ?s WHERE { ?s <urn:p> "1" }').rows) == 1
        store.update('DELETE DATA { <urn:a> <urn:p> "1" . GRAPH <urn:g2> { <urn:a> <urn:p> "1" } }')
        assert store.query(COUNT).rows[0]["n"].value == str(UNION_TRIPLES)  # still in g1
    finally:
        store.close()

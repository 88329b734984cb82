"""The W3C SPARQL 1.1 query, update and syntax manifests (vendored in `sparql11/`), run through a real
`filmgraph serve` over HTTP with the store's own default graph as the query default graph
(FILMGRAPH_UNION_DEFAULT_GRAPH=false), as SPARQL 1.1 has it. The pass count is asserted, and every failure must be
one of the expected ones below, each with its reason: they are the engine's (Oxigraph 0.5.13 server fails the
same 13 through the shared runner in ../shared/conformance) or the runner's."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
from service_support import TOKEN, filmgraph_server
from w3c_runner import CHECKS, Endpoint, Outcome, cases, run

# id -> why it fails. "engine": pyoxigraph 0.5.13 (the same tests fail on Oxigraph server); docs/conformance.md.
EXPECTED_FAILURES = {
    "aggregates/agg-groupconcat-04": "engine: GROUP_CONCAT of literals sharing a language tag drops the tag (the "
    "test, not approved, expects it kept)",
    "aggregates/agg-groupconcat-06": "engine: GROUP_CONCAT of one tagged literal drops its tag (as above)",
    "aggregates/agg-empty-group-count-graph": "engine: COUNT without GROUP BY inside GRAPH ?g gives no row (0) for "
    "an empty named graph",
    "bindings/graph": "engine: VALUES inside GRAPH ?g binding ?g itself loses the solutions of some graphs",
    "functions/bnode01": "engine: BNODE(str) does not give one blank node per string and solution",
    "negation/graph-minus": "engine: the outer GRAPH variable is counted when checking that MINUS's sides share "
    "a variable",
    "property-path/zero_or_more_set_start": "engine: a zero-length path from a constant not in the data matches "
    "nothing (the spec: the constant itself)",
    "property-path/zero_or_more_set_end": "engine: as above, constant at the end",
    "property-path/zero_or_one_set_start": "engine: as above, with ?",
    "property-path/zero_or_one_set_end": "engine: as above, with ?, constant at the end",
    "syntax-query/test_4": "engine: a call of an unknown function parses, but is refused when run (409): the "
    "test only asks that it parses",
    "csv-tsv-res/csv03": "engine: typed literals are written in their canonical form (1000000 for 1.0E6) in CSV",
    "csv-tsv-res/tsv03": "engine: as above, in TSV",
}
PASSED = 471  # of 484 run; 11 skipped (LOAD, SERVICE). The same count as the shared runner and Oxigraph server


def empty_store(directory: Path) -> Path:
    """A closed, empty on-disk store (an empty directory would make `filmgraph serve` build the graph)."""
    store = pyoxigraph.Store(str(directory))
    store.flush()
    del store
    gc.collect()
    return directory


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome]]:
    directory = empty_store(tmp_path_factory.mktemp("conformance") / "store")
    settings = {"FILMGRAPH_UNION_DEFAULT_GRAPH": "false", "FILMGRAPH_RESULT_CACHE_SIZE": "0"}
    with filmgraph_server(directory, "--workers", "1", settings=settings) as base:
        endpoint = Endpoint(base, f"Bearer {TOKEN}")
        try:
            yield [run(endpoint, case) for case in cases()]
        finally:
            endpoint.close()


def test_the_suite_passes_but_for_the_expected_failures(outcomes):
    failed = {o.case.id: o.reason for o in outcomes if o.status == "fail"}
    unexpected = {case: reason for case, reason in failed.items() if case not in EXPECTED_FAILURES}
    assert not unexpected, unexpected
    assert set(failed) == set(EXPECTED_FAILURES), f"now passing: {set(EXPECTED_FAILURES) - set(failed)}"
    counts = Counter(o.status for o in outcomes)
    assert counts == {"pass": PASSED, "fail": len(EXPECTED_FAILURES), "skip": 11}, counts


def test_every_test_kind_ran(outcomes):
    """The runner read every manifest: each kind of test (query, update, syntax, result format) ran and passed."""
    ran = Counter(o.case.kind for o in outcomes if o.status != "skip")
    passed = Counter(o.case.kind for o in outcomes if o.status == "pass")
    assert set(ran) == set(CHECKS), ran
    assert all(passed[kind] > 0 for kind in CHECKS), passed
    assert ran["QueryEvaluationTest"] > 200 and ran["UpdateEvaluationTest"] > 80, ran

"""docs/model.md stays true: it names every ontology term, and its worked SPARQL examples run and answer."""

from __future__ import annotations

import re

import pytest
import rdflib
from rdflib.namespace import OWL, RDF

from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import Store
from filmgraph.vocab import FG

DOC = (PROJECT_ROOT / "docs" / "model.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sparql\n(.*?)```", DOC, re.S)
PREFIXES = next(block for block in BLOCKS if block.lstrip().startswith("PREFIX"))
EXAMPLES = [block for block in BLOCKS if "SELECT" in block and not block.lstrip().startswith("#")]


def test_every_ontology_term_is_documented() -> None:
    graph = rdflib.Graph().parse(PROJECT_ROOT / "ontology" / "filmdiplomacy.ttl")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {str(s) for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(FG)}
    missing = sorted(t for t in terms if f"`fg:{t[len(FG):]}`" not in DOC)
    assert missing == []


def test_the_doc_has_a_mermaid_diagram() -> None:
    assert "```mermaid\nflowchart" in DOC


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: re.sub(r"\W+", "-", e.split("WHERE")[0])[:40])
def test_worked_examples_run_and_answer(built_store: Store, example: str) -> None:
    assert len(EXAMPLES) >= 5
    assert built_store.query(PREFIXES + example).rows

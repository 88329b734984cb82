"""CURIEs: one expander and one compactor, in `filmgraph.vocab`, and nowhere else (issue 16 item 2)."""

from __future__ import annotations

import ast
from pathlib import Path

from pyoxigraph import NamedNode

import filmgraph
from filmgraph.vocab import FG, ID, PREFIXES, curie, expand, term

PACKAGE = Path(filmgraph.__file__).parent
VOCAB = PACKAGE / "vocab.py"


def test_curie_compacts_flat_local_names_under_known_prefixes():
    assert curie(FG + "State") == "fg:State"
    assert curie(ID + "fr") == "fgid:fr"
    assert curie("http://www.w3.org/1999/02/22-rdf-syntax-ns#type") == "rdf:type"


def test_curie_leaves_iris_that_would_not_expand_back():
    assert curie("https://example.org/x") == "https://example.org/x"  # unknown namespace
    assert curie(FG) == FG  # empty local name
    assert curie(ID + "a/b") == ID + "a/b"
    assert curie(ID + "a#b") == ID + "a#b"


def test_expand_is_the_inverse_and_leaves_other_values():
    assert expand("fg:Planned") == FG + "Planned"
    assert expand("unknown:x") == "unknown:x"
    assert expand("https://schema.org/x") == "https://schema.org/x"  # an IRI whose scheme is no prefix
    assert expand("plain-id") == "plain-id"
    for prefix, namespace in PREFIXES.items():
        assert expand(curie(namespace + "x")) == namespace + "x", prefix


def test_term_is_a_named_node():
    assert term("rdf:type") == NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


STRING_SURGERY = {"startswith", "removeprefix", "partition", "split"}


def _curie_code(path: Path) -> list[str]:
    """Functions that walk the prefix table and cut strings with it (an expander or compactor by hand), and dict
    literals that map two or more of the project's namespaces (a second prefix table)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {"PREFIXES"} | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id == "PREFIXES"
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    namespaces = set(PREFIXES.values())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            fixed = {  # PREFIXES["wd"] names one namespace; it is not the table
                id(n.value) for n in ast.walk(node) if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant)
            }
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in fixed}
            calls = {n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
            if names & aliases and calls & STRING_SURGERY:
                found.append(f"{node.lineno}: {getattr(node, 'name', 'lambda')} compacts or expands by hand")
        if isinstance(node, ast.Dict):
            values = {v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)}
            if len(values & namespaces) >= 2:
                found.append(f"{node.lineno}: a second prefix table")
    return found


def test_the_guard_sees_a_hand_written_compactor(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from .vocab import PREFIXES\n_P = PREFIXES\n"
        "def short(iri):\n    return next(p for p, ns in _P.items() if iri.startswith(ns))\n"
        "TABLE = {'fg': 'https://w3id.org/filmgraph/ontology#', 'fgid': 'https://w3id.org/filmgraph/id/'}\n"
    )
    assert _curie_code(sample) == ["3: short compacts or expands by hand", "5: a second prefix table"]


def test_no_second_prefix_table_or_curie_code_in_the_package():
    """Grep proves it: CURIEs are expanded and compacted in vocab.py only."""
    found = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != VOCAB
        for line in _curie_code(path)
    ]
    assert found == []

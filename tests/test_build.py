"""The build: named graphs, evidence that matches the text, idempotence, and refusal that leaves the store intact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import NamedNode, RdfFormat, Store as OxStore, serialize

from filmgraph.build import BuildPaths, build_store
from filmgraph.errors import BuildError, InconsistentOntology, ValidationFailed
from filmgraph.settings import PROJECT_ROOT
from filmgraph.store import EmbeddedStore
from filmgraph.vocab import INFERRED_GRAPH, ONTOLOGY_GRAPH, REFERENCE_GRAPH, SHAPES_GRAPH, source_graph

SOURCE_ID = "screendaily-2010-russia-european-coproduction"
SOURCE_GRAPH = source_graph(SOURCE_ID)
PREFIXES = """PREFIX fg: <https://w3id.org/filmgraph/ontology#>
PREFIX fgid: <https://w3id.org/filmgraph/id/>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


def select(store: EmbeddedStore, query: str) -> list[dict[str, str]]:
    result = store.query(PREFIXES + query)
    return [{name: term.value for name, term in row.items()} for row in result.rows]


def nquads(path: Path) -> bytes:
    store = OxStore.read_only(str(path))
    data = serialize(store.quads_for_pattern(None, None, None), format=RdfFormat.N_QUADS)
    return b"\n".join(sorted(data.splitlines()))


def test_the_contract_graphs_are_there(built_store: EmbeddedStore) -> None:
    assert set(built_store.named_graphs()) == {ONTOLOGY_GRAPH, SHAPES_GRAPH, SOURCE_GRAPH, INFERRED_GRAPH, REFERENCE_GRAPH}
    for graph in (ONTOLOGY_GRAPH, SHAPES_GRAPH, SOURCE_GRAPH, INFERRED_GRAPH, REFERENCE_GRAPH):
        assert built_store.count(graph) > 100, graph


def test_no_triple_is_in_two_graphs(built_store: EmbeddedStore) -> None:
    rows = select(built_store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s ?p ?o } GRAPH ?b { ?s ?p ?o } FILTER (?a != ?b) }")
    assert rows == [{"n": "0"}]


def test_every_evidence_span_quotes_the_source_at_its_offsets(built_store: EmbeddedStore) -> None:
    text = (PROJECT_ROOT / "data" / "sources" / f"{SOURCE_ID}.txt").read_text(encoding="utf-8")
    rows = select(
        built_store,
        """SELECT ?span ?begin ?end ?quote ?sentence ?stext WHERE {
             ?span a fg:EvidenceSpan ; nif:beginIndex ?begin ; nif:endIndex ?end ; nif:anchorOf ?quote ;
                   nif:referenceContext fgid:screendaily-2010-russia-european-coproduction ; fg:inSentence ?sentence .
             ?sentence nif:anchorOf ?stext }""",
    )
    assert len({row["span"] for row in rows}) >= 40
    for row in rows:
        begin, end = int(row["begin"]), int(row["end"])
        assert text[begin:end] == row["quote"]
        assert row["stext"] in text
    text_rows = select(built_store, "SELECT ?t WHERE { fgid:screendaily-2010-russia-european-coproduction nif:isString ?t }")
    assert text_rows == [{"t": text}]


def test_every_claim_has_evidence_status_speaker_and_source(built_store: EmbeddedStore) -> None:
    claims = select(built_store, "SELECT DISTINCT ?c WHERE { { ?c a fg:Claim } UNION { ?c fg:epistemicStatus ?s } }")
    assert len(claims) >= 35
    lacking = select(
        built_store,
        """SELECT ?c WHERE { { ?c a fg:Claim } UNION { ?c fg:epistemicStatus ?any }
             FILTER NOT EXISTS { ?c fg:evidence ?e ; fg:epistemicStatus ?s ; prov:wasAttributedTo ?w ;
                                    prov:wasDerivedFrom fgid:screendaily-2010-russia-european-coproduction } }""",
    )
    assert lacking == []


def test_source_metadata_has_year_precision(built_store: EmbeddedStore) -> None:
    rows = select(
        built_store,
        """SELECT ?title ?issued (DATATYPE(?issued) AS ?dt) ?publisher ?lang WHERE {
             fgid:screendaily-2010-russia-european-coproduction dcterms:title ?title ; dcterms:issued ?issued ;
               dcterms:publisher ?publisher ; dcterms:language ?lang }""",
    )
    assert rows == [
        {
            "title": "Russia eyeing more European co-production talks",
            "issued": "2010",
            "dt": "http://www.w3.org/2001/XMLSchema#gYear",
            "publisher": "https://w3id.org/filmgraph/id/screen-daily",
            "lang": "en",
        }
    ]


def test_asserted_relation_claims_are_plain_triples_and_others_are_not(built_store: EmbeddedStore) -> None:
    query = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?c WHERE { ?c a fg:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; fg:epistemicStatus ?status .
                          BIND (EXISTS { GRAPH <%s> { ?s ?p ?o } } AS ?plain)
                          FILTER (?plain != (?status = fg:Asserted)) }""" % SOURCE_GRAPH
    assert select(built_store, query) == []
    assert len(select(built_store, "SELECT ?c WHERE { ?c a fg:Claim }")) >= 10


def test_inferred_graph_holds_only_what_is_not_asserted(built_store: EmbeddedStore) -> None:
    rows = select(
        built_store,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <%s> { ?s ?p ?o } GRAPH ?g { ?s ?p ?o } FILTER (?g != <%s>) }"
        % (INFERRED_GRAPH, INFERRED_GRAPH),
    )
    assert rows == [{"n": "0"}]
    inferred = select(
        built_store,
        "SELECT ?s ?p ?o WHERE { GRAPH <%s> { ?s ?p ?o } FILTER (?s IN (fgid:sergei-tolstikov, fgid:russian-state-fund)) }"
        % INFERRED_GRAPH,
    )
    found = {(r["s"].rsplit("/", 1)[1], r["p"].rsplit("/", 1)[1].split("#")[-1], r["o"].rsplit("/", 1)[1].split("#")[-1]) for r in inferred}
    assert ("sergei-tolstikov", "type", "Official") in found  # defined class
    assert ("sergei-tolstikov", "worksFor", "russian-state-fund") in found  # property chain
    assert ("sergei-tolstikov", "type", "Agent") in found  # super-class
    assert ("russian-state-fund", "hasHead", "sergei-tolstikov") in found  # inverse
    assert ("russian-state-fund", "associatedWithState", "russia") in found  # super-property
    derived = select(
        built_store,
        """SELECT ?s ?p ?o WHERE { GRAPH <%s> { ?s ?p ?o }
             FILTER (?p IN (fg:foundingTime, fg:foundingPlace)
                     || ?o IN (fg:SignedAgreement, fg:PostponedAgreement, fg:Plan, fg:Hope, fg:Possibility)) }"""
        % INFERRED_GRAPH,
    )
    assert {(r["s"].rsplit("/", 1)[1], r["o"].rsplit("/", 1)[1].split("#")[-1]) for r in derived} == {
        ("russian-german-film-academy", "time-2009"),  # chain through its establishment event
        ("russian-german-film-academy", "berlin"),
        ("agreement-russian-state-fund-cinecitta-luce", "SignedAgreement"),  # has a signing
        ("agreement-russia-germany-co-production", "PostponedAgreement"),  # planned, postponed, not signed
        ("plan-russia-european-co-production", "Plan"),
        ("hope-russia-ties-france-germany-spain", "Hope"),
        ("aim-russia-closer-ties-france-spain-germany", "Hope"),  # the headline's "wants"
        ("possibility-state-support-for-co-production", "Possibility"),
    }


def _project_copy(tmp_path: Path) -> BuildPaths:
    for name in ("data", "ontology"):
        shutil.copytree(PROJECT_ROOT / name, tmp_path / name)
    return BuildPaths.from_dirs(tmp_path / "data", tmp_path / "ontology")


@pytest.fixture
def store_and_paths(built_store_path: Path, tmp_path: Path) -> tuple[Path, BuildPaths]:
    store = tmp_path / "store"
    shutil.copytree(built_store_path, store)
    return store, _project_copy(tmp_path / "project")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


CURATION = f"claims/{SOURCE_ID}.yaml"


@pytest.mark.parametrize(
    ("where", "old", "new", "error", "message"),
    [
        (CURATION, "object: italy", "object: atlantis", BuildError, "unknown entity 'atlantis'"),
        (CURATION, '- "Italian state film studio Cinecitta Luce"', '- "Italian state studio Cinecitta"', BuildError, "not in the source"),
        (CURATION, "predicate: fg:ofState\n    object: italy", "predicate: fg:ofstate\n    object: italy", BuildError, "fg:ofstate is not a term of the ontology"),
        (CURATION, "  - id: spain\n    type: fg:State", "  - id: spain\n    type: [fg:State, fg:Person]", InconsistentOntology, "id/spain is in disjoint classes https://w3id.org/filmgraph/ontology#Person, https://w3id.org/filmgraph/ontology#State"),
        (CURATION, "      fg:party: [russia, germany]", "      fg:party: [russia]", ValidationFailed, "fgid:agreement-russia-germany-co-production fg:party: an agreement has at least two parties"),
        ("../ontology/filmdiplomacy.ttl", "fg:Agent a owl:Class ;", "fg:Agent a owl:Class ;;; (", BuildError, "filmdiplomacy.ttl:"),
    ],
)
def test_bad_input_fails_and_leaves_the_store_intact(
    store_and_paths: tuple[Path, BuildPaths], where: str, old: str, new: str, error: type, message: str
) -> None:
    store, paths = store_and_paths
    before = nquads(store)
    _edit(paths.claims_dir.parent / where, old, new)
    with pytest.raises(error) as raised:
        build_store(store, paths)
    assert message in str(raised.value)
    if where == CURATION:
        assert f"{CURATION.split('/')[1]}:" in str(raised.value) or isinstance(raised.value, (ValidationFailed, InconsistentOntology))
    assert nquads(store) == before
    assert not [p for p in store.parent.iterdir() if p.name.startswith(".store.")]  # no leftovers


def test_building_twice_gives_the_same_store(store_and_paths: tuple[Path, BuildPaths], built_store_path: Path) -> None:
    store, paths = store_and_paths
    report = build_store(store, paths)
    assert nquads(store) == nquads(built_store_path)
    assert report.graph_counts[SOURCE_GRAPH] == EmbeddedStore(store).count(SOURCE_GRAPH)


def test_cli_build_prints_counts_and_fails_cleanly(tmp_path: Path) -> None:
    paths = _project_copy(tmp_path / "project")
    env = {"FILMGRAPH_DATA_DIR": str(paths.claims_dir.parent), "FILMGRAPH_ONTOLOGY_DIR": str(paths.ontology.parent)}
    run = [sys.executable, "-m", "filmgraph.cli", "build", "--store", str(tmp_path / "store")]
    import os

    ok = subprocess.run(run, capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert SOURCE_GRAPH in ok.stdout and INFERRED_GRAPH in ok.stdout and "total" in ok.stdout
    _edit(paths.claims_dir / f"{SOURCE_ID}.yaml", "object: italy", "object: atlantis")
    bad = subprocess.run(run, capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    assert bad.returncode == 2
    assert "unknown entity 'atlantis'" in bad.stderr and "Traceback" not in bad.stderr
    assert EmbeddedStore(tmp_path / "store").count(NamedNode(SOURCE_GRAPH).value) > 0


def test_the_built_graph_conforms_to_the_shapes(built_store: EmbeddedStore) -> None:
    from filmgraph.rdfio import read_turtle
    from filmgraph.validation import check_graphs

    graphs = {graph: list(built_store.quads(graph)) for graph in built_store.named_graphs()}
    shapes = read_turtle(PROJECT_ROOT / "ontology" / "shapes.ttl")
    assert check_graphs(graphs, shapes) == []
    # and the shapes do bite: a span whose quote no longer matches its offsets is reported with its node
    span = next(q for q in graphs[SOURCE_GRAPH] if q.predicate.value.endswith("#anchorOf") and "span-" in q.subject.value)
    graphs[SOURCE_GRAPH] = [q for q in graphs[SOURCE_GRAPH] if q != span] + [
        type(span)(span.subject, span.predicate, type(span.object)("not the source text"), span.graph_name)
    ]
    violations = check_graphs(graphs, shapes)
    assert [v.message for v in violations] == ["the quoted text (nif:anchorOf) is not the source text between the span's offsets"]
    assert violations[0].focus_node == "fgid:" + span.subject.value.rsplit("/", 1)[1]


def test_the_article_introduces_exactly_these_entities(built_store: EmbeddedStore) -> None:
    def members(cls: str) -> set[str]:
        rows = select(built_store, f"SELECT ?x WHERE {{ ?x a fg:{cls} }}")
        return {row["x"].rsplit("/", 1)[1] for row in rows}

    assert members("State") == {"russia", "italy", "france", "germany", "spain"}
    assert members("Person") == {"sergei-tolstikov", "nikita-mikhalkov", "alexander-avdeev"}
    assert members("Official") == members("Person")
    assert members("Institution") == {
        "russian-state-fund", "cinecitta-luce", "russian-cinematographers-union",
        "russian-german-film-academy", "russian-french-film-academy", "petersburg-dialogue",
    }  # fmt: skip
    assert members("Place") == {"berlin"}
    assert members("Publication") == {"screen-daily"}  # a publisher, not a film-diplomacy institution
    assert members("UnnamedParty") == {"german-side", "other-european-countries"}  # not persons, not states
    assert members("Signing") == {"signing-russian-state-fund-cinecitta-luce"}  # the German agreement is not signed
    heads = select(built_store, "SELECT ?p ?i WHERE { ?p org:headOf ?i }")
    assert {(r["p"].rsplit("/", 1)[1], r["i"].rsplit("/", 1)[1]) for r in heads} == {
        ("sergei-tolstikov", "russian-state-fund"),
        ("nikita-mikhalkov", "russian-cinematographers-union"),
    }  # the Culture Minister heads no institution the article names: his post is of the state (test_source_fidelity)


def test_only_verified_external_identifiers(built_store: EmbeddedStore) -> None:
    rows = select(built_store, "SELECT ?x ?id WHERE { ?x skos:exactMatch ?id }")
    assert {(r["x"].rsplit("/", 1)[1], r["id"].rsplit("/", 1)[1]) for r in rows} == {
        ("russia", "Q159"), ("italy", "Q38"), ("france", "Q142"), ("germany", "Q183"), ("spain", "Q29"), ("berlin", "Q64"),
    }  # fmt: skip
    codes = select(built_store, "SELECT ?x ?a2 ?a3 WHERE { ?x fg:iso3166Alpha2 ?a2 ; fg:iso3166Alpha3 ?a3 }")
    assert {(r["x"].rsplit("/", 1)[1], r["a2"], r["a3"]) for r in codes} == {
        ("russia", "RU", "RUS"), ("italy", "IT", "ITA"), ("france", "FR", "FRA"), ("germany", "DE", "DEU"), ("spain", "ES", "ESP"),
    }  # fmt: skip


def test_every_predicate_of_the_data_is_declared_in_the_ontology(built_store: EmbeddedStore) -> None:
    rows = select(
        built_store,
        """PREFIX owl: <http://www.w3.org/2002/07/owl#>
        SELECT DISTINCT ?p WHERE {
          GRAPH <%s> { ?s ?p ?o }
          FILTER NOT EXISTS { GRAPH <%s> { ?p a ?kind }
                              FILTER (?kind IN (owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty)) }
        }"""
        % (SOURCE_GRAPH, ONTOLOGY_GRAPH),
    )
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    built_in = {rdf + "type", "http://www.w3.org/2000/01/rdf-schema#label"}  # OWL's own vocabulary
    reification = {rdf + "subject", rdf + "predicate", rdf + "object"}  # kept out of the reasoner's input
    assert {row["p"] for row in rows} == built_in | reification


SECOND_SOURCE = """source:
  id: second-source
  type: fg:NewsArticle
  title: A second article
  url: https://example.org/second
  publisher: screen-daily
  issued: "2011-03"
  language: en
entities:
  - id: rome
    type: fg:City
    label: Rome
    mention: "in Rome"
claims:
  - id: claim-cinecitta-luce-of-italy-again
    subject: cinecitta-luce
    predicate: fg:ofState
    object: italy
    status: fg:Asserted
    said_by: screen-daily
    quote:
      - "the Italian studio Cinecitta Luce"
"""


def test_a_second_source_refers_to_the_first_sources_entities(store_and_paths: tuple[Path, BuildPaths]) -> None:
    store, paths = store_and_paths
    (paths.sources_dir / "second-source.txt").write_text("Russia met the Italian studio Cinecitta Luce in Rome.\n", encoding="utf-8")
    (paths.claims_dir / "second-source.yaml").write_text(SECOND_SOURCE, encoding="utf-8")
    report = build_store(store, paths)
    assert report.sources == [SOURCE_ID, "second-source"]
    built = EmbeddedStore(store)
    try:
        twice = select(built, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s ?p ?o } GRAPH ?b { ?s ?p ?o } FILTER (?a != ?b) }")
        assert twice == [{"n": "0"}]  # Italy's labels are not repeated in the second graph
        rows = select(built, "SELECT ?c WHERE { ?c rdf:subject fgid:cinecitta-luce ; prov:wasDerivedFrom fgid:second-source }".replace(
            "SELECT", "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT", 1))
        assert rows == [{"c": "https://w3id.org/filmgraph/id/claim-cinecitta-luce-of-italy-again"}]
    finally:
        built.close()


def test_an_entity_defined_in_two_sources_is_refused(store_and_paths: tuple[Path, BuildPaths]) -> None:
    store, paths = store_and_paths
    (paths.sources_dir / "second-source.txt").write_text("Russia met the Italian studio Cinecitta Luce in Rome.\n", encoding="utf-8")
    (paths.claims_dir / "second-source.yaml").write_text(SECOND_SOURCE.replace("id: rome", "id: russia"), encoding="utf-8")
    with pytest.raises(BuildError, match=r"second-source.yaml:\d+: id 'russia' is defined twice \(first at .*screendaily"):
        build_store(store, paths)

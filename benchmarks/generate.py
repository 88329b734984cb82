"""A deterministic generator of a film-diplomacy-shaped graph, in the project's vocabulary.

Why synthetic: the article's graph has a few thousand triples; scale questions need 100k–1M triples with the same
shape (states, institutions of a state, officials holding posts, agreements with parties and status events,
statements with an epistemic status, evidence spans in sentences of sources), each source in its own named graph
like the real build. The same seed and size always give the same quads, so two runs measure the same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, serialize

from filmgraph.vocab import FG, ID, PREFIXES, source_graph

RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
PREF_LABEL = NamedNode(PREFIXES["skos"] + "prefLabel")
ALT_LABEL = NamedNode(PREFIXES["skos"] + "altLabel")
RDFS_LABEL = NamedNode(PREFIXES["rdfs"] + "label")
ORG = PREFIXES["org"]
NIF = PREFIXES["nif"]
PROV = PREFIXES["prov"]
XSD_INTEGER = NamedNode(PREFIXES["xsd"] + "integer")

STATE_COUNT = 60
INSTITUTION_KINDS = ("StateFilmFund", "StateFilmStudio", "ProfessionalUnion", "GovernmentMinistry")
AGREEMENT_KINDS = ("InterInstitutionalCoProductionAgreement", "IntergovernmentalCoProductionAgreement")
EVENT_KINDS = ("Signing", "PlannedSigning", "Postponement", "Negotiation")
STATUSES = ("Asserted", "Planned", "Hoped", "Expected", "Possible", "Negated", "Opinion", "Postponed")
SYLLABLES = ("ka", "ro", "mi", "sel", "vor", "tan", "li", "dro", "fen", "ast", "bel", "cor", "nu", "pra", "zet")


def fg(term: str) -> NamedNode:
    return NamedNode(FG + term)


def fgid(local: str) -> NamedNode:
    return NamedNode(ID + local)


def en(text: str) -> Literal:
    return Literal(text, language="en")


@dataclass(frozen=True)
class Shape:
    """How many of each kind a graph of `size` triples holds (for queries that pick parameters)."""

    units: int
    states: int = STATE_COUNT

    @classmethod
    def for_size(cls, size: int) -> Shape:
        return cls(units=max(1, size // TRIPLES_PER_UNIT))


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def state_iri(index: int) -> NamedNode:
    return fgid(f"state-{index}")


def institution_iri(index: int) -> NamedNode:
    return fgid(f"institution-{index}")


def person_iri(index: int) -> NamedNode:
    return fgid(f"person-{index}")


def agreement_iri(index: int) -> NamedNode:
    return fgid(f"agreement-{index}")


def _states(graph: NamedNode) -> Iterator[Quad]:
    rng = random.Random(0)
    for index in range(STATE_COUNT):
        state, label = state_iri(index), _name(rng, 3) + "ia"
        yield Quad(state, RDF_TYPE, fg("State"), graph)
        yield Quad(state, PREF_LABEL, en(label), graph)
        yield Quad(state, RDFS_LABEL, en(label), graph)
        yield Quad(state, fg("iso3166Alpha2"), Literal(f"{chr(65 + index // 26)}{chr(65 + index % 26)}"), graph)


def _unit(index: int, rng: random.Random) -> Iterator[Quad]:
    """One synthetic source: two institutions, an official, an agreement, its event, two statements, evidence."""
    graph = NamedNode(source_graph(f"synthetic-{index}"))
    source = fgid(f"source-{index}")
    state_a, state_b = rng.sample(range(STATE_COUNT), 2)
    inst_a, inst_b = institution_iri(2 * index), institution_iri(2 * index + 1)
    person, post = person_iri(index), fgid(f"post-{index}")
    agreement, event = agreement_iri(index), fgid(f"event-{index}")
    sentence_text = f"The {_name(rng, 2)} fund signed an agreement on joint co-production number {index}."

    yield Quad(source, RDF_TYPE, fg("NewsArticle"), graph)
    yield Quad(source, NamedNode(PREFIXES["dcterms"] + "title"), en(f"Co-production news {index}"), graph)
    yield Quad(source, NamedNode(NIF + "isString"), Literal(sentence_text), graph)
    for inst, state in ((inst_a, state_a), (inst_b, state_b)):
        label = f"{_name(rng, 3)} {rng.choice(('Film Fund', 'Studio', 'Union', 'Ministry'))}"
        yield Quad(inst, RDF_TYPE, fg(rng.choice(INSTITUTION_KINDS)), graph)
        yield Quad(inst, PREF_LABEL, en(label), graph)
        yield Quad(inst, RDFS_LABEL, en(label), graph)
        yield Quad(inst, ALT_LABEL, en(label.split()[0]), graph)
        yield Quad(inst, fg("ofState"), state_iri(state), graph)
    person_label = f"{_name(rng, 2)} {_name(rng, 3)}"
    yield Quad(person, RDF_TYPE, fg("Person"), graph)
    yield Quad(person, PREF_LABEL, en(person_label), graph)
    yield Quad(person, RDFS_LABEL, en(person_label), graph)
    yield Quad(person, NamedNode(ORG + "holds"), post, graph)
    yield Quad(post, RDF_TYPE, fg("Post"), graph)
    yield Quad(post, NamedNode(ORG + "postIn"), inst_a, graph)
    yield Quad(post, NamedNode(ORG + "heldBy"), person, graph)
    yield Quad(post, NamedNode(ORG + "role"), fgid("role-head"), graph)
    yield Quad(agreement, RDF_TYPE, fg(rng.choice(AGREEMENT_KINDS)), graph)
    yield Quad(agreement, PREF_LABEL, en(f"agreement {index}"), graph)
    yield Quad(agreement, fg("party"), inst_a, graph)
    yield Quad(agreement, fg("party"), inst_b, graph)
    yield Quad(event, RDF_TYPE, fg(rng.choice(EVENT_KINDS)), graph)
    yield Quad(event, fg("concernsAgreement"), agreement, graph)
    yield Quad(event, fg("notBefore"), Literal(f"{2000 + index % 20}-01-01", datatype=NamedNode(PREFIXES["xsd"] + "date")), graph)
    nodes = [agreement, event] + [fgid(f"statement-{index}-{k}") for k in range(2)]
    for k, statement in enumerate(nodes[2:]):
        yield Quad(statement, RDF_TYPE, fg("Statement"), graph)
        yield Quad(statement, fg("actor"), person if k == 0 else state_iri(state_a), graph)
        yield Quad(statement, fg("about"), agreement, graph)
    for k, node in enumerate(nodes):
        span = fgid(f"span-{index}-{k}")
        begin = rng.randrange(0, len(sentence_text) - 10)
        yield Quad(node, fg("epistemicStatus"), fg(rng.choice(STATUSES)), graph)
        yield Quad(node, NamedNode(PROV + "wasAttributedTo"), person, graph)
        yield Quad(node, NamedNode(PROV + "wasDerivedFrom"), source, graph)
        yield Quad(node, fg("evidence"), span, graph)
        yield Quad(span, RDF_TYPE, fg("EvidenceSpan"), graph)
        yield Quad(span, NamedNode(NIF + "referenceContext"), source, graph)
        yield Quad(span, NamedNode(NIF + "beginIndex"), Literal(str(begin), datatype=XSD_INTEGER), graph)
        yield Quad(span, NamedNode(NIF + "endIndex"), Literal(str(begin + 10), datatype=XSD_INTEGER), graph)
        yield Quad(span, NamedNode(NIF + "anchorOf"), Literal(sentence_text[begin : begin + 10]), graph)
        yield Quad(span, fg("inSentence"), fgid(f"sentence-{index}"), graph)
    yield Quad(fgid(f"sentence-{index}"), NamedNode(NIF + "anchorOf"), Literal(sentence_text), graph)


TRIPLES_PER_UNIT = sum(1 for _ in _unit(0, random.Random(0)))


def generate(size: int, seed: int = 2010) -> Iterator[Quad]:
    """About `size` quads (whole units), always the same for the same size and seed."""
    rng = random.Random(seed)
    yield from _states(NamedNode(source_graph("synthetic-states")))
    for index in range(Shape.for_size(size).units):
        yield from _unit(index, rng)


def write_nquads(size: int, path: Path, seed: int = 2010) -> Path:
    """Write the generated graph to an N-Quads file (the file both engines load)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    serialize(generate(size, seed), str(path), format=RdfFormat.N_QUADS)
    return path

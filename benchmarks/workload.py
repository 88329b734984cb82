"""The benchmark's representative queries, with deterministic parameters drawn from the generated graph.

Each request of a query takes the next parameter of a long fixed cycle, continued across client counts, so where the
graph has enough distinct values no parameterised request repeats an earlier one and a result cache cannot help it.
Two queries do repeat, as in real use, where a cache answers repeats: the aggregations have no parameter, and
"agreements of a state" cycles through the graph's 60 states. Parameters are generated IRIs and literals serialised by
pyoxigraph (`str(term)`), never user text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pyoxigraph import Literal

from generate import SYLLABLES, Shape, agreement_iri, institution_iri, person_iri, state_iri

PREFIXES = """PREFIX fg: <https://w3id.org/filmgraph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
"""

PARAMETER_CYCLE = 2500  # parameter values per query, distinct where the graph has that many


@dataclass(frozen=True)
class BenchQuery:
    name: str
    template: str  # uses {param}
    kind: str  # select | ask | construct
    parameters: tuple[str, ...]

    def texts(self) -> list[str]:
        return [PREFIXES + self.template.format(param=p) for p in self.parameters]


def _cycle(rng: random.Random, make, upper: int) -> tuple[str, ...]:
    """PARAMETER_CYCLE values drawn without replacement; where the graph has fewer (the 60 states, small graphs),
    shuffled rounds of all of them."""
    indices: list[int] = []
    while len(indices) < PARAMETER_CYCLE:
        indices += rng.sample(range(upper), min(upper, PARAMETER_CYCLE - len(indices)))
    return tuple(str(make(index)) for index in indices)


def workload(size: int, seed: int = 7) -> list[BenchQuery]:
    shape, rng = Shape.for_size(size), random.Random(seed)
    institutions = _cycle(rng, institution_iri, 2 * shape.units)
    people = _cycle(rng, person_iri, shape.units)
    agreements = _cycle(rng, agreement_iri, shape.units)
    states = _cycle(rng, state_iri, shape.states)
    prefixes = tuple(str(Literal(a + b + c)) for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES)[:PARAMETER_CYCLE]
    return [
        BenchQuery("entity lookup", "SELECT ?p ?o WHERE {{ {param} ?p ?o }}", "select", institutions),
        BenchQuery(
            "label search (prefix)",
            "SELECT ?s ?label WHERE {{ ?s skos:prefLabel ?label "
            "FILTER(STRSTARTS(LCASE(STR(?label)), {param})) }} LIMIT 20",
            "select",
            prefixes,
        ),
        BenchQuery(
            "agreements of a state",
            "SELECT ?agreement ?institution ?partner WHERE {{ ?institution fg:ofState {param} . "
            "?agreement fg:party ?institution , ?partner . FILTER(?partner != ?institution) }}",
            "select",
            states,
        ),
        BenchQuery(
            "2-hop: official → post → institution → state",
            "SELECT ?post ?institution ?state WHERE {{ {param} org:holds ?post . ?post org:postIn ?institution . "
            "?institution fg:ofState ?state }}",
            "select",
            people,
        ),
        BenchQuery(
            "aggregation: claims by status",
            "SELECT ?status (COUNT(*) AS ?n) WHERE {{ ?node fg:epistemicStatus ?status }} GROUP BY ?status",
            "select",
            ("",),
        ),
        BenchQuery(
            "aggregation: agreements per state (top 10)",
            "SELECT ?state (COUNT(DISTINCT ?agreement) AS ?n) WHERE {{ ?agreement fg:party ?i . ?i fg:ofState ?state }} "
            "GROUP BY ?state ORDER BY DESC(?n) ?state LIMIT 10",
            "select",
            ("",),
        ),
        BenchQuery(
            "provenance: claim → span → sentence",
            "SELECT ?quote ?begin ?end ?sentence WHERE {{ {param} fg:evidence ?span . ?span nif:anchorOf ?quote ; "
            "nif:beginIndex ?begin ; nif:endIndex ?end ; fg:inSentence ?s . ?s nif:anchorOf ?sentence }}",
            "select",
            agreements,
        ),
        BenchQuery(
            "CONSTRUCT neighbourhood",
            "CONSTRUCT {{ {param} ?p ?o . ?s ?q {param} }} WHERE {{ {{ {param} ?p ?o }} UNION {{ ?s ?q {param} }} }}",
            "construct",
            institutions,
        ),
        BenchQuery("ASK holds a post", "ASK {{ {param} org:holds ?post }}", "ask", people),
    ]

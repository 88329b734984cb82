"""Claims -> RDF: the one place that knows the modelling pattern of docs/model.md.

Everything drawn from one source goes into that source's named graph, and nothing else: external identifiers are
reference data (filmgraph.reference). Every node gets an IRI (entities, claims, evidence spans, sentences, time
expressions), never a blank node, so building twice gives the same quads.
"""

from __future__ import annotations

import datetime as dt
from pyoxigraph import Literal, NamedNode, Quad

from .claims import Curation, Node, Provenance, RelationClaim, Source, Value
from .spans import Span
from .vocab import PREFIXES, entity_iri, source_graph, term

RDF_TYPE = term("rdf:type")
PREF_LABEL = term("skos:prefLabel")
ALT_LABEL = term("skos:altLabel")
RDFS_LABEL = term("rdfs:label")
XSD = PREFIXES["xsd"]


def reference(target: str) -> NamedNode:
    """An id of the curation file or a CURIE (e.g. fg:Sceptical)."""
    return term(target) if ":" in target else entity_iri(target)


def literal(value: Value) -> Literal:
    """A typed literal: the YAML type decides the datatype (text, integer, decimal, boolean, date)."""
    if isinstance(value, bool):
        return Literal(str(value).lower(), datatype=NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return Literal(repr(value), datatype=NamedNode(XSD + "decimal"))
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=NamedNode(XSD + "date"))
    return Literal(value)


def english(text: str) -> Literal:
    return Literal(text, language="en")


# Status reports (docs/model.md, "Status as reported over time"): an event bearing on an agreement, or the
# agreement's own claim, reports a status. Its modality decides first (a planned signing is not a signing, "likely"
# is not "planned"); only an asserted event reports what its kind says. Asserted agreements and opinions report none.
MODALITY_STATUS = {
    "fg:Planned": "fg:StatusPlanned",
    "fg:Expected": "fg:StatusExpected",
    "fg:Hoped": "fg:StatusHoped",
    "fg:Possible": "fg:StatusPossible",
    "fg:Negated": "fg:StatusUnsigned",
    "fg:Postponed": "fg:StatusPostponed",
}
ASSERTED_EVENT_STATUS = {
    "fg:Signing": "fg:StatusSigned",
    "fg:PlannedSigning": "fg:StatusPlanned",
    "fg:Postponement": "fg:StatusPostponed",
    "fg:Negotiation": "fg:StatusNegotiating",
}


def reported_status(record: Node) -> str | None:
    """The fg:AgreementStatus a claim node reports (see above), or None when it reports no status."""
    if record.provenance is None:
        return None
    modality = record.provenance.status
    if modality != "fg:Asserted":
        return MODALITY_STATUS.get(modality)
    return next((ASSERTED_EVENT_STATUS[kind] for kind in record.types if kind in ASSERTED_EVENT_STATUS), None)


def reported_agreements(record: Node) -> list[str]:
    """The agreements a claim node bears on: those an event concerns, or the node itself when it has parties
    (fg:party has the domain fg:Agreement)."""
    if any(kind in ASSERTED_EVENT_STATUS for kind in record.types):
        return record.links.get("fg:concernsAgreement", [])
    return [record.id] if record.links.get("fg:party") else []


def _report_time(record: Node, source: Source) -> str | None:
    """When a report's status holds: an asserted event's own time (a signing in February 2011: signed from then);
    for a modal claim — a signing planned, expected or postponed — the time the source reports it, its publication,
    since the event's time is only the target (a signing planned for "this summer" is not known to be postponed
    in the summer)."""
    asserted = record.provenance is not None and record.provenance.status == "fg:Asserted"
    event_time = next(iter(record.links.get("fg:atTime", [])), None) if asserted else None
    return event_time or source.published_at


def quoted_labels(curation: Curation) -> set[str]:
    """The ids whose labels `curation_quads` quotes in other labels: the ends of relation claims and the
    agreements of status reports (an ingest must look them up in the store when another source declares them)."""
    ends = {end for claim in curation.relations for end in (claim.subject, claim.object)}
    reported = {agreement for node in curation.nodes if reported_status(node) for agreement in reported_agreements(node)}
    return ends | reported


def span_iri(source: Source, span: Span) -> NamedNode:
    return entity_iri(f"{source.id}-span-{span.begin}-{span.end}")


def sentence_iri(source: Source, number: int) -> NamedNode:
    return entity_iri(f"{source.id}-sentence-{number}")


class _Emitter:
    """Collects the quads of one source graph, with helpers for the recurring patterns."""

    def __init__(self, curation: Curation) -> None:
        self.curation = curation
        self.source = curation.source
        self.graph = NamedNode(source_graph(curation.source.id))
        self.quads: list[Quad] = []
        self.spans: dict[Span, NamedNode] = {}

    def add(self, subject: NamedNode, predicate: NamedNode, obj: NamedNode | Literal) -> None:
        self.quads.append(Quad(subject, predicate, obj, self.graph))

    # --- source, sentences, spans -----------------------------------------------------------------------------
    def source_description(self) -> None:
        source = self.source
        node = entity_iri(source.id)
        self.add(node, RDF_TYPE, term(source.type))
        for predicate in (PREF_LABEL, RDFS_LABEL, term("dcterms:title")):
            self.add(node, predicate, english(source.title))
        self.add(node, term("dcterms:publisher"), reference(source.publisher))
        self.add(node, term("schema:url"), NamedNode(source.url))
        gtype = {4: "gYear", 7: "gYearMonth", 10: "date"}[len(source.issued)]
        self.add(node, term("dcterms:issued"), Literal(source.issued, datatype=NamedNode(XSD + gtype)))
        self.add(node, term("dcterms:language"), Literal(source.language))
        self.add(node, term("nif:isString"), Literal(source.text))
        if source.published_at:
            self.add(node, term("fg:atTime"), reference(source.published_at))
        for number, sentence in enumerate(source.sentences, start=1):
            iri = sentence_iri(source, number)
            self.add(iri, RDF_TYPE, term("fg:Sentence"))
            self.add(iri, RDFS_LABEL, english(f"sentence {number} of {source.title}"))
            self.add(iri, term("fg:sentenceNumber"), literal(number))
            self._offsets(iri, sentence)

    def _offsets(self, iri: NamedNode, span: Span) -> None:
        # xsd:integer, not NIF's xsd:nonNegativeInteger: the store normalises integer types to xsd:integer anyway
        self.add(iri, term("nif:referenceContext"), entity_iri(self.source.id))
        self.add(iri, term("nif:beginIndex"), literal(span.begin))
        self.add(iri, term("nif:endIndex"), literal(span.end))
        self.add(iri, term("nif:anchorOf"), Literal(span.text))

    def span(self, span: Span) -> NamedNode:
        """The span's node, written once however many claims cite it."""
        if span in self.spans:
            return self.spans[span]
        iri = self.spans[span] = span_iri(self.source, span)
        self.add(iri, RDF_TYPE, term("fg:EvidenceSpan"))
        self._offsets(iri, span)
        for number, sentence in enumerate(self.source.sentences, start=1):
            if sentence.overlaps(span):
                self.add(iri, term("fg:inSentence"), sentence_iri(self.source, number))
        return iri

    # --- nodes and claims ---------------------------------------------------------------------------------------
    def provenance(self, node: NamedNode, provenance: Provenance) -> None:
        self.add(node, term("fg:epistemicStatus"), term(provenance.status))
        self.add(node, term("prov:wasAttributedTo"), reference(provenance.said_by))
        self.add(node, term("prov:wasDerivedFrom"), entity_iri(self.source.id))
        for span in provenance.evidence:
            self.add(node, term("fg:evidence"), self.span(span))

    def labels(self, node: NamedNode, label: str, alt_labels: list[str]) -> None:
        self.add(node, PREF_LABEL, english(label))
        self.add(node, RDFS_LABEL, english(label))
        for alt in alt_labels:
            if alt != label:
                self.add(node, ALT_LABEL, english(alt))

    def node(self, record: Node) -> None:
        iri = entity_iri(record.id)
        for curie in record.types:
            self.add(iri, RDF_TYPE, term(curie))
        self.labels(iri, record.label, record.alt_labels)
        if record.definition:
            self.add(iri, term("skos:definition"), english(record.definition))
        for key, targets in record.links.items():
            predicate = term(key.removeprefix("^"))
            for target in targets:
                if key.startswith("^"):
                    self.add(reference(target), predicate, iri)
                else:
                    self.add(iri, predicate, reference(target))
        for key, values in record.values.items():
            for value in values:
                self.add(iri, term(key), literal(value))
        for span in record.mentions:
            self.add(iri, term("fg:mentionedAt"), self.span(span))
        if record.provenance is not None:
            self.provenance(iri, record.provenance)

    def status_reports(self, record: Node, labels: dict[str, str]) -> None:
        """One fg:StatusReport per agreement the claim bears on, dated by the event's time or else by the source's
        publication time (the status held by then); modality, speaker, source and evidence stay on the claim."""
        status = reported_status(record)
        agreements = reported_agreements(record) if status else []
        time = _report_time(record, self.source)
        for agreement in agreements:
            suffix = f"-{agreement}" if len(agreements) > 1 else ""
            iri = entity_iri(f"status-report-{record.id}{suffix}")
            self.add(iri, RDF_TYPE, term("fg:StatusReport"))
            word = status.removeprefix("fg:Status").lower()  # type: ignore[union-attr]
            self.labels(iri, f"{labels.get(agreement, agreement)}: {word}, per {record.label}", [])
            self.add(iri, term("fg:statusOf"), reference(agreement))
            self.add(iri, term("fg:reportedStatus"), term(status))  # type: ignore[arg-type]
            self.add(iri, term("prov:wasDerivedFrom"), entity_iri(record.id))
            if time:
                self.add(iri, term("fg:atTime"), reference(time))

    def relation(self, claim: RelationClaim, labels: dict[str, str]) -> None:
        iri = entity_iri(claim.id)
        subject, predicate, obj = reference(claim.subject), term(claim.predicate), reference(claim.object)
        self.add(iri, RDF_TYPE, term("fg:Claim"))
        self.add(iri, term("rdf:subject"), subject)
        self.add(iri, term("rdf:predicate"), predicate)
        self.add(iri, term("rdf:object"), obj)
        said = f"{labels.get(claim.subject, claim.subject)} {claim.predicate} {labels.get(claim.object, claim.object)}"
        self.labels(iri, said, [])
        self.provenance(iri, claim.provenance)
        if claim.provenance.status == "fg:Asserted":
            self.add(subject, predicate, obj)


def curation_quads(curation: Curation, labels: dict[str, str] | None = None) -> list[Quad]:
    """All quads of one source's named graph, without duplicates, in a stable order.

    `labels` (id -> label, across all curation files) names the ends of relation claims in their labels."""
    emitter = _Emitter(curation)
    emitter.source_description()
    labels = labels or {node.id: node.label for node in curation.nodes}
    for node in curation.nodes:
        emitter.node(node)
        emitter.status_reports(node, labels)
    for claim in curation.relations:
        emitter.relation(claim, labels)
    return list(dict.fromkeys(emitter.quads))


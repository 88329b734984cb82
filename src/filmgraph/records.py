"""The shapes that lookups return: documented Pydantic models shared by the library and the REST API.

They live here, not in `filmgraph.api`, so a notebook gets the same objects as an HTTP client (`.model_dump()`
gives the JSON the API sends) and the library never imports from the web layer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Direction = Literal["out", "in"]
Origin = Literal["asserted", "inferred", "claim"]


class EntityRef(BaseModel):
    """A node named by its IRI, with what a reader needs to recognise it."""

    iri: str = Field(description="The node's IRI.")
    id: str | None = Field(None, description="Local name under the data namespace (`/api/entities/{id}`), if any.")
    label: str | None = Field(None, description="skos:prefLabel (or rdfs:label) in English when there is one.")
    types: list[str] = Field(default_factory=list, description="Its classes as CURIEs (asserted and inferred).")


class Evidence(BaseModel):
    """The exact span of a source that supports a claim: the quote and its code-point offsets."""

    span: str = Field(description="IRI of the evidence span (an fg:EvidenceSpan / nif:OffsetBasedString).")
    source: str | None = Field(None, description="IRI of the source the span is in (nif:referenceContext).")
    source_id: str | None = Field(None, description="Local name of the source (`/api/sources/{id}`).")
    quote: str = Field(description="The verbatim quoted text (nif:anchorOf).")
    begin: int = Field(description="Begin offset in code points over the source text (nif:beginIndex).")
    end: int = Field(description="End offset, exclusive (nif:endIndex).")
    sentence: str | None = Field(None, description="IRI of the sentence that contains the span (fg:inSentence).")
    sentence_text: str | None = Field(None, description="The whole sentence's text.")


class Provenance(BaseModel):
    """Who says it, how sure the source is, and where it says so: the provenance of one claim node."""

    claim: str = Field(description="IRI of the node that carries the provenance (an fg:Claim or an n-ary node).")
    status: str | None = Field(None, description="Epistemic status as a CURIE, e.g. fg:Asserted, fg:Planned.")
    status_label: str | None = Field(None, description="The status concept's label.")
    attributed_to: list[EntityRef] = Field(default_factory=list, description="prov:wasAttributedTo.")
    evidence: list[Evidence] = Field(default_factory=list, description="The spans that support it.")


class Premise(BaseModel):
    """An asserted triple an inferred value rests on, with the graph that holds it and its claims' provenance."""

    subject: EntityRef
    property: str = Field(description="IRI of the property.")
    property_label: str | None = None
    object: EntityRef
    graphs: list[str] = Field(description="The named graphs that assert it (a source's, a user's).")
    provenance: list[Provenance] = Field(
        default_factory=list, description="The claims that state it, with status, speaker and evidence spans."
    )


class Derivation(BaseModel):
    """How the reasoner got an inferred value: the ontology rules it applied and the asserted premises."""

    rules: list[str] = Field(description="The rules, e.g. `fg:foundingTime is the chain fg:establishedThrough ∘ "
                             "fg:atTime`, `fg:establishedThrough is the inverse of fg:establishes`.")
    premises: list[Premise] = Field(description="The asserted triples it follows from.")


class Relation(BaseModel):
    """One edge between the entity and another node, with its evidence."""

    property: str = Field(description="IRI of the property.")
    property_label: str | None = Field(None, description="The property's rdfs:label from the ontology.")
    direction: Direction = Field(description="`out`: entity → other; `in`: other → entity.")
    other: EntityRef = Field(description="The node at the other end.")
    origin: Origin = Field(
        description="`asserted`: the triple is in a source graph; `inferred`: added by the reasoner; "
        "`claim`: only reported by a claim whose status is not fg:Asserted (a plan, hope, negation, ...)."
    )
    status: str | None = Field(None, description="Epistemic status (CURIE) of the supporting claim, if any.")
    provenance: list[Provenance] = Field(
        default_factory=list,
        description="The claims that support the edge: the matching fg:Claim, or the claim of the node that states "
        "the edge in the same graph (an n-ary node, an event; a status report's: the claim it is derived from); "
        "for an inferred edge without either, the asserted claims between the same two nodes it follows from. "
        "For an inferred edge with none of these, the claims of the premises it is derived from. "
        "Empty for a triple of a user's graph.",
    )
    derivation: Derivation | None = Field(
        None, description="For an inferred edge: the rules and the asserted premises the reasoner derived it from."
    )


class PropertyGroup(BaseModel):
    """The relations of one property in one direction."""

    property: str
    property_label: str | None = None
    direction: Direction
    relations: list[Relation]


class TypeAssertion(BaseModel):
    """A class of the entity, marked asserted (in a source graph) or inferred (by the reasoner)."""

    iri: str
    curie: str
    label: str | None = None
    inferred: bool
    derivation: Derivation | None = Field(
        None, description="For an inferred class: the rules (sub-class, domain, range, definition) and the asserted "
        "premises the reasoner derived it from.")


class LabelValue(BaseModel):
    value: str
    lang: str | None = None
    kind: Literal["pref", "alt", "label"] = Field(
        description="The most preferred property carrying it: skos:prefLabel, rdfs:label or skos:altLabel."
    )
    kinds: list[Literal["pref", "alt", "label"]] = Field(
        default_factory=list, description="Every label property carrying this text, most preferred first."
    )


class Identifier(BaseModel):
    """A verified external identifier (Wikidata, ISO 3166)."""

    property: str = Field(description="CURIE of the property, e.g. skos:exactMatch, fg:iso3166Alpha2.")
    value: str = Field(description="The identifier or the external IRI.")
    graph: str | None = Field(None, description="The named graph that holds it (the reference graph).")
    record: str | None = Field(None, description="IRI of its fg:IdentifierRecord: where it comes from.")
    table: str | None = Field(None, description="The reference table it was read from, e.g. "
                              "data/reference/external-ids.tsv.")
    row: str | None = Field(None, description="The table's row (fg:referenceRow).")
    issued_by: EntityRef | None = Field(None, description="The authority that issues it (Wikidata, ISO 3166-1).")


class Attribute(BaseModel):
    """A literal value of the entity other than its labels (dates, worded times, quoted text, ...)."""

    property: str = Field(description="CURIE of the property.")
    property_label: str | None = None
    value: str
    datatype: str | None = Field(None, description="CURIE of the literal's datatype.")
    lang: str | None = None


class EntityCard(BaseModel):
    """Everything the graph says about one entity, grouped for reading."""

    iri: str
    id: str
    label: str | None = None
    labels: list[LabelValue] = Field(default_factory=list)
    description: str | None = Field(None, description="skos:definition, dcterms:description or rdfs:comment.")
    types: list[TypeAssertion] = Field(default_factory=list)
    identifiers: list[Identifier] = Field(default_factory=list)
    attributes: list[Attribute] = Field(default_factory=list)
    provenance: list[Provenance] = Field(
        default_factory=list, description="The entity's own provenance when it is itself a claim (an n-ary node)."
    )
    relations: list[PropertyGroup] = Field(default_factory=list, description="Every relation in and out.")
    mentions: list[Evidence] = Field(
        default_factory=list,
        description="The spans of the sources that name or describe the entity (fg:mentionedAt): the text its "
        "labels and definition are read from, in text order.",
    )


class MatchReason(BaseModel):
    """Why a hit matched: one query word (or the whole query), what it matched, how and how closely."""

    query: str = Field(description="The query word (or the whole query) this reason is about.")
    matched: str = Field(description="The name, identifier, word or linked entity's name it matched.")
    field: str = Field(
        description="`label`, `alternative label`, `identifier`, a statement's `proposition`, `verbatim`, "
        "`evidence quote`, a `definition`, or `linked entity` (whose name matched; `via` says how it is linked)."
    )
    kind: Literal["exact", "prefix", "typo"]
    similarity: float = Field(description="1.0 for exact and prefix; a typo's rapidfuzz similarity (0.75–1).")
    via: str | None = Field(None, description="For a linked entity: the property, `^` marking an incoming edge.")


class SearchHit(BaseModel):
    entity: EntityRef
    matched_label: str = Field(description="The label, alternative label or identifier that matched best.")
    score: float = Field(
        description="1.0 exact name or identifier; 0.9–0.95 a name starting with the query; 0.8–0.85 every "
        "word in one name; below 0.75 words across names, statement text and linked entities, or typos."
    )
    match: Literal["exact", "prefix", "words", "partial", "all"] = Field(
        "all", description="The kind of match (`all`: an empty query lists everything)."
    )
    why: list[MatchReason] = Field(default_factory=list, description="Every reason the hit matched.")


class PathStep(BaseModel):
    """One hop: `source --property--> target` as stored, walked forward or backward."""

    source: EntityRef
    property: str
    property_label: str | None = None
    target: EntityRef
    walked: Literal["forward", "backward"] = Field(description="`backward` when the path goes against the edge.")
    origin: Origin
    status: str | None = Field(None, description="Epistemic status (CURIE) of the supporting claim, if any.")
    provenance: list[Provenance] = Field(
        default_factory=list, description="The claims that support the edge, as for an entity card's relations."
    )


class Path(BaseModel):
    hops: int
    nodes: list[EntityRef]
    steps: list[PathStep]


class TimeRef(BaseModel):
    """A time as the source words it, with its precision and resolved date bounds (OWL-Time node)."""

    iri: str
    as_worded: str | None = Field(None, description="The article's words, e.g. 'this summer'.")
    precision: str | None = Field(None, description="CURIE of the precision: year, season, part of year, day.")
    not_before: str | None = Field(None, description="Earliest date (xsd:date) it can mean.")
    not_after: str | None = Field(None, description="Latest date (xsd:date) it can mean.")


class EventRecord(BaseModel):
    """A dated happening (signing, planned signing, postponement, establishment, forum session, ...)."""

    entity: EntityRef
    time: TimeRef | None = None
    new_target_time: TimeRef | None = Field(None, description="For a postponement: the time the event moves to.")
    venue: EntityRef | None = Field(None, description="The occasion it happens or was to happen at.")
    agreement: EntityRef | None = Field(None, description="The agreement whose status it changes, if any.")
    participants: list[EntityRef] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)


AgreementState = Literal[
    "signed", "postponed", "planned", "negotiating", "expected", "possible", "hoped", "unsigned", "unknown"
]


class StatusReport(BaseModel):
    """What one claim of one source reports about an agreement's status, and for when (an fg:StatusReport)."""

    report: str = Field(description="IRI of the fg:StatusReport node.")
    status: AgreementState = Field(description="The reported status (skos:notation of its fg:AgreementStatus).")
    status_concept: str = Field(description="CURIE of the fg:AgreementStatus, e.g. fg:StatusPostponed.")
    status_label: str | None = None
    rank: int = Field(0, description="fg:statusRank of the status: orders reports for the same time (signed highest).")
    time: TimeRef | None = Field(
        None, description="When the source places it: the event's time, else the source's publication time."
    )
    claim: EntityRef = Field(description="The claim it is read from: an event (signing, postponement, ...) or the "
                             "agreement's own claim.")
    source: EntityRef | None = Field(None, description="The source of that claim (prov:wasDerivedFrom).")
    provenance: Provenance = Field(description="The claim's modality (status: fg:Asserted, fg:Planned, fg:Expected, "
                                   "...), who says it and the evidence spans.")


class AgreementHistory(BaseModel):
    """Every status reported for one agreement, in time order (the order `as_of` reads them in)."""

    agreement: EntityRef
    total: int
    reports: list[StatusReport]


class AgreementRecord(BaseModel):
    """An agreement with its parties and the events that make up its status history, oldest first."""

    entity: EntityRef
    kinds: list[str] = Field(default_factory=list, description="Its asserted classes (CURIEs).")
    parties: list[EntityRef] = Field(default_factory=list)
    subject_matter: str | None = None
    state: AgreementState = Field(
        description="The status as reported: the latest status report (as of `as_of` when given); unknown when "
        "none is known. See docs/model.md, 'Status as reported over time'."
    )
    as_of: str | None = Field(None, description="The date `state` is read for (xsd:date), if one was asked.")
    status_report: StatusReport | None = Field(None, description="The report `state` is read from.")
    provenance: list[Provenance] = Field(default_factory=list)
    events: list[EventRecord] = Field(default_factory=list)


class ClaimRecord(BaseModel):
    """One claim drawn from a source: a relation claim (subject/predicate/object) or an n-ary node."""

    claim: EntityRef
    subject: EntityRef | None = None
    predicate: str | None = None
    predicate_label: str | None = None
    object: EntityRef | None = None
    provenance: Provenance


class SourceSummary(BaseModel):
    id: str
    iri: str
    title: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="Literal metadata by property CURIE.")
    claims: int = Field(description="Number of claims drawn from it.")


class SourceDetail(SourceSummary):
    text: str | None = Field(None, description="The full text; evidence offsets count code points in it.")
    claim_list: list[ClaimRecord] = Field(default_factory=list, description="Its claims, in text order.")

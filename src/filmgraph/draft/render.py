"""The draft as a curation file (docs/model.md, "The curation file"), with a `# draft:` comment on every guess.

Written line by line rather than by yaml.dump so that the comments sit where the curator reads them; every string is
a JSON string literal, which YAML reads as a double-quoted scalar, so no text of the article can break the file.
"""

from __future__ import annotations

import json

from .document import Draft, DraftClaim

CHECK = "# draft: check"
FILL = "# draft: fill in"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def render_draft(draft: Draft) -> str:
    lines = _header(draft) + _source(draft) + _sentences(draft) + _mentions(draft) + _entities(draft)
    lines += _times(draft) + _claims(draft)
    return "\n".join(lines) + "\n"


def _header(draft: Draft) -> list[str]:
    return [
        f"# Draft curation file for {draft.source.text_name}, written by `filmgraph draft` (see docs/model.md).",
        "# Every value is a span of the text, an id the store already has, or a date resolved from the publication",
        f"# date {draft.published.text}. Lines marked `{CHECK}` are guesses: correct or delete each; fill in what is",
        f"# marked `{FILL}`; then `filmgraph ingest THIS-FILE --text {draft.source.text_name}`.",
        "# `sentences` and `mentions` are for you (ingest does not read them): refer to a mentioned entity by its id.",
        "",
    ]


def _source(draft: Draft) -> list[str]:
    source = draft.source
    return [
        "source:",
        f"  id: {source.id}  {CHECK}",
        "  type: fg:NewsArticle  " + CHECK,
        f"  title: {_q(source.title)}  {CHECK}",
        f"  url: {_q(source.url)}" if source.url else f"  url: null  {FILL}: the article's address",
        f"  publisher: {source.publisher}" if source.publisher else f"  publisher: null  {FILL}: an existing id",
        f"  issued: {_q(source.issued)}",
        f"  language: {source.language}  {CHECK}",
        f"  text: {_q(source.text_name)}",
        "",
    ]


def _sentences(draft: Draft) -> list[str]:
    lines = ["sentences:  # as the build splits them (evidence sentences)"]
    lines += [f"  - {_q(sentence.text)}  # {number}" for number, sentence in enumerate(draft.sentences, 1)]
    return [*lines, ""]


def _mentions(draft: Draft) -> list[str]:
    lines = ["mentions:  # entities the store knows, where the text first names them (name: verbatim; mention: unique)"]
    for mention in draft.mentions:
        lines.append(f"  - {{id: {mention.id}, name: {_q(mention.span.text)}, mention: {_q(mention.quote.text)}}}"
                     f"  # by {mention.via}")
    return [*lines, ""]


def _entities(draft: Draft) -> list[str]:
    lines = ["entities:  # countries the text names that the store does not have"]
    for entity in draft.entities:
        lines += [f"  - id: {entity.id}  {CHECK}", f"    type: {entity.type}", f"    label: {_q(entity.label)}",
                  f"    mention: {_q(entity.mention.text)}"]
    return [*(lines if draft.entities else ["entities: []"]), ""]


def _times(draft: Draft) -> list[str]:
    lines = [f"times:  # resolved against the publication date {draft.published.text}"]
    for time in draft.times:
        found = time.found
        lines += [f"  - id: {time.id}  {CHECK}", f"    label: {_q(found.span.text)}", f"    worded: {_q(found.span.text)}",
                  f"    precision: {found.precision}"]
        lines += [f"    not_before: {found.not_before.isoformat()}"] if found.not_before else []
        lines += [f"    not_after: {found.not_after.isoformat()}"] if found.not_after else []
    return [*(lines if draft.times else ["times: []"]), ""]


def _claims(draft: Draft) -> list[str]:
    if not draft.claims:
        return ["claims: []"]
    lines = ["claims:  # candidates from cue words: keep the right ones, delete the rest"]
    number_of = {sentence: number for number, sentence in enumerate(draft.sentences, 1)}
    for claim in draft.claims:
        lines += _claim(claim, number_of.get(claim.candidate.sentence, 0))
    return lines


def _claim(claim: DraftClaim, sentence_number: int) -> list[str]:
    candidate = claim.candidate
    said_by = f"    said_by: {candidate.said_by}" if candidate.said_by else f"    said_by: null  {FILL}: who says it"
    lines = [f"  - id: {claim.id}  {CHECK}: {candidate.kind} (sentence {sentence_number})"]
    lines += [f"    type: {candidate.type}" + (f"  # draft: {candidate.note}" if candidate.note else ""),
              f"    label: {_q(claim.label)}  {CHECK}", f"    status: {candidate.status}", said_by,
              "    quote:", f"      - {_q(claim.quote.text)}"]
    if candidate.links:
        lines.append("    links:")
        lines += [f"      {key}: [{', '.join(targets)}]" for key, targets in candidate.links.items()]
    if candidate.verbatim:
        lines += ["    values:", f"      fg:verbatim: {_q(candidate.verbatim)}"]
    return lines

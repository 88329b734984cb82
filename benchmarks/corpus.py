"""A deterministic corpus of synthetic sources: curation files and texts in the format of data/claims/*.yaml.

Why: ingest and the full build are measured on many sources, and a source is a curation file plus its text, not
quads (benchmarks/generate.py makes quads for query benchmarks). Source 0 declares the shared entities (states, a
wire service, a role); every other source reuses them and adds its own institution, official with a post, agreement
between two states, signing or planned signing, time, and a relation claim, so sources meet at the states (hubs,
as in real data) and each source touches the graph like the real article does. Same count, same files.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

STATES = ("Aldoria", "Belmar", "Corvania", "Dastia", "Elvora", "Fennmark", "Galdria", "Hestia", "Ilmar", "Jorvik",
          "Kastel", "Lumen")  # fmt: skip
HEADER = "entity\twikidata\tiso3166_alpha2\tiso3166_alpha3\n"


def state_id(name: str) -> str:
    return f"state-{name.lower()}"


def _shared() -> tuple[str, str]:
    """Source 0: the entities every other source refers to."""
    sentences = [f"{name} is a state." for name in STATES]
    text = "The Film Wire reports on film policy. " + " ".join(sentences) + " A head leads an institution.\n"
    entities = [
        "  - id: film-wire\n    type: fg:Publication\n    label: The Film Wire\n    mention: \"The Film Wire\"\n",
        "  - id: role-head\n    type: fg:Role\n    label: head\n    mention: \"A head leads an institution.\"\n",
    ]
    entities += [
        f"  - id: {state_id(name)}\n    type: fg:State\n    label: {name}\n    mention: \"{name} is a state.\"\n"
        for name in STATES
    ]
    curation = f"""source:
  id: scale-0000-shared
  type: fg:NewsArticle
  title: The states of the synthetic corpus
  url: https://example.org/scale/0000
  publisher: film-wire
  issued: "2000"
  language: en

entities:
{"".join(entities)}"""
    return curation, text


def _source(index: int) -> tuple[str, str, str]:
    """Source `index` (>= 1): its id, curation file and text."""
    rng = random.Random(index)
    first, second = rng.sample(STATES, 2)
    year = 2000 + index % 20
    signed = index % 3 == 0
    sid = f"scale-{index:04d}-{first.lower()}-{second.lower()}"
    n = f"{index:04d}"
    sentences = {
        "fund": f"The Film Fund {n} of {first} supports co-production.",
        "head": f"Director {n} heads the Film Fund {n}.",
        "agreement": f"{first} and {second} prepared co-production agreement {n}.",
        "event": f"The agreement {n} was signed in {year}." if signed else f"The agreement {n} is to be signed in {year}.",
    }
    text = f"Report {n}. " + " ".join(sentences.values()) + "\n"
    event_type = "fg:Signing" if signed else "fg:PlannedSigning"
    event_status = "fg:Asserted" if signed else "fg:Planned"
    curation = f"""source:
  id: {sid}
  type: fg:NewsArticle
  title: Synthetic report {n}
  url: https://example.org/scale/{n}
  publisher: film-wire
  issued: "{year}"
  language: en
  published_at: time-{n}

entities:
  - id: fund-{n}
    type: fg:StateFilmFund
    label: Film Fund {n}
    mention: "The Film Fund {n} of {first}"

  - id: director-{n}
    type: fg:Person
    label: Director {n}
    mention: "Director {n}"

  - id: post-director-{n}
    type: org:Post
    label: head of Film Fund {n}
    mention: "Director {n} heads the Film Fund {n}."
    links:
      org:role: role-head
      org:postIn: fund-{n}
      org:heldBy: director-{n}
      fg:heldAt: time-{n}

times:
  - id: time-{n}
    label: "{year}"
    worded: "{year}"
    precision: fg:YearPrecision
    not_before: {year}-01-01
    not_after: {year}-12-31

claims:
  - id: claim-fund-{n}-of-state
    subject: fund-{n}
    predicate: fg:ofState
    object: {state_id(first)}
    status: fg:Asserted
    said_by: film-wire
    quote: "{sentences["fund"]}"

  - id: agreement-{n}
    type: fg:IntergovernmentalCoProductionAgreement
    label: Co-production agreement {n}
    status: fg:Asserted
    said_by: film-wire
    quote: "{sentences["agreement"]}"
    links:
      fg:party: [{state_id(first)}, {state_id(second)}]

  - id: event-{n}
    type: {event_type}
    label: signing of agreement {n}
    status: {event_status}
    said_by: film-wire
    quote: "{sentences["event"]}"
    links:
      fg:concernsAgreement: agreement-{n}
      fg:atTime: time-{n}
"""
    return sid, curation, text


def write_source(index: int, directory: Path) -> Path:
    """Write source `index` as `<id>.yaml` and `<id>.txt` into `directory`; the curation file's path."""
    sid, curation, text = _source(index) if index else ("scale-0000-shared", *_shared())
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{sid}.txt").write_text(text, encoding="utf-8")
    path = directory / f"{sid}.yaml"
    path.write_text(curation, encoding="utf-8")
    return path


def write_corpus(count: int, data_dir: Path) -> Path:
    """A data directory with the shared source and `count` others (claims/, sources/, reference/)."""
    shutil.rmtree(data_dir, ignore_errors=True)
    for index in range(count + 1):
        curation = write_source(index, data_dir / "claims")
        text = curation.with_suffix(".txt")
        (data_dir / "sources").mkdir(parents=True, exist_ok=True)
        text.rename(data_dir / "sources" / text.name)
    (data_dir / "reference").mkdir(parents=True, exist_ok=True)
    (data_dir / "reference" / "external-ids.tsv").write_text(HEADER, encoding="utf-8")
    return data_dir

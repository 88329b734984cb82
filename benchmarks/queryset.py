"""A query set that cannot be tuned to: random shapes from a small grammar over the generated graph's schema.

Each query is a random walk over the schema (benchmarks/generate.py: agreements, their parties, institutions and
their states, officials and posts, events, statements, evidence spans, sentences, sources), anchored at a random
constant or left open, dressed with what the grammar draws: property paths, OPTIONAL, UNION, FILTER (substring,
prefix, regex, number, date, status, inequality), aggregates with GROUP BY, ORDER BY with LIMIT, and the forms
SELECT, ASK, CONSTRUCT and DESCRIBE. The seed decides the shapes; each shape comes with `variants` texts that differ
only in their constants (random IRIs and literals of the right kind), so every request of a shape asks something
new. Constants are pyoxigraph terms written by pyoxigraph (`str(term)`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from generate import STATE_COUNT, STATUSES, SYLLABLES, Shape, fg, fgid
from workload import PREFIXES as WORKLOAD_PREFIXES

PREFIXES = WORKLOAD_PREFIXES + "PREFIX prov: <http://www.w3.org/ns/prov#>\nPREFIX dcterms: <http://purl.org/dc/terms/>\n"

# (subject kind, predicate, object kind): the edges a walk follows, either way.
EDGES = (
    ("agreement", "fg:party", "institution"),
    ("institution", "fg:ofState", "state"),
    ("person", "org:holds", "post"),
    ("post", "org:postIn", "institution"),
    ("post", "org:heldBy", "person"),
    ("event", "fg:concernsAgreement", "agreement"),
    ("statement", "fg:about", "agreement"),
    ("statement", "fg:actor", "person"),
    ("agreement", "fg:evidence", "span"),
    ("statement", "fg:evidence", "span"),
    ("span", "fg:inSentence", "sentence"),
    ("span", "nif:referenceContext", "source"),
    ("agreement", "prov:wasAttributedTo", "person"),
    ("statement", "prov:wasDerivedFrom", "source"),
)
# kind -> (predicate, value kind) of the values a FILTER, OPTIONAL or GROUP BY can use
ATTRIBUTES = {
    "agreement": (("skos:prefLabel", "label"), ("fg:epistemicStatus", "status")),
    "institution": (("skos:prefLabel", "label"), ("skos:altLabel", "label")),
    "person": (("skos:prefLabel", "label"),),
    "state": (("skos:prefLabel", "label"), ("fg:iso3166Alpha2", "code")),
    "statement": (("fg:epistemicStatus", "status"),),
    "event": (("fg:notBefore", "date"), ("fg:epistemicStatus", "status")),
    "span": (("nif:anchorOf", "text"), ("nif:beginIndex", "number")),
    "sentence": (("nif:anchorOf", "text"),),
    "source": (("dcterms:title", "text"),),
    "post": (("org:role", "role"),),
}


@dataclass(frozen=True)
class GeneratedQuery:
    """One random shape: its name says what the grammar drew; `texts` are its variants (same shape)."""

    name: str
    kind: str  # select | ask | construct (CONSTRUCT and DESCRIBE answer graphs)
    variants: tuple[str, ...] = field(repr=False)

    def texts(self) -> list[str]:
        return list(self.variants)


def constant(kind: str, rng: random.Random, shape: Shape) -> NamedNode:
    """A random IRI of an entity of `kind` in a graph of this shape."""
    unit = rng.randrange(shape.units)
    made = {
        "agreement": f"agreement-{unit}",
        "institution": f"institution-{rng.randrange(2 * shape.units)}",
        "person": f"person-{unit}",
        "post": f"post-{unit}",
        "state": f"state-{rng.randrange(STATE_COUNT)}",
        "event": f"event-{unit}",
        "statement": f"statement-{unit}-{rng.randrange(2)}",
        "span": f"span-{unit}-{rng.randrange(4)}",
        "sentence": f"sentence-{unit}",
        "source": f"source-{unit}",
    }
    return fgid(made[kind])


def _fragment(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2))))


@dataclass
class _Walk:
    """Triple patterns over variables ?{prefix}0…; `kinds[i]` is the kind of ?{prefix}i."""

    prefix: str
    kinds: list[str]
    steps: list[tuple[str, bool]]  # (predicate, forward) from variable i to i + 1

    def var(self, index: int) -> str:
        return f"?{self.prefix}{index}"

    def patterns(self, anchor: str | None, paths: bool) -> list[str]:
        """The walk's patterns; ?{prefix}0 is replaced by `anchor`; with `paths`, two forward steps in a row may be
        written as one property path (the variable between them disappears)."""
        names = [anchor or self.var(0)] + [self.var(i) for i in range(1, len(self.kinds))]
        out, i = [], 0
        while i < len(self.steps):
            predicate, forward = self.steps[i]
            if paths and i + 1 < len(self.steps) and forward and self.steps[i + 1][1]:
                out.append(f"{names[i]} {predicate}/{self.steps[i + 1][0]} {names[i + 2]} .")
                i += 2
                continue
            subject, obj = (names[i], names[i + 1]) if forward else (names[i + 1], names[i])
            out.append(f"{subject} {predicate} {obj} .")
            i += 1
        return out

    def bound(self, paths: bool) -> list[int]:
        """Indices of the variables `patterns(…, paths)` still mentions."""
        kept, i = [0], 0
        while i < len(self.steps):
            if paths and i + 1 < len(self.steps) and self.steps[i][1] and self.steps[i + 1][1]:
                kept.append(i + 2)
                i += 2
            else:
                kept.append(i + 1)
                i += 1
        return kept


def random_walk(rng: random.Random, start: str, length: int, prefix: str) -> _Walk:
    kinds, steps = [start], []
    for _ in range(length):
        here = kinds[-1]
        moves = [(p, True, o) for s, p, o in EDGES if s == here] + [(p, False, s) for s, p, o in EDGES if o == here]
        back = (steps[-1][0], not steps[-1][1]) if steps else None
        moves = [m for m in moves if (m[0], m[1]) != back] or moves  # do not walk straight back
        predicate, forward, there = rng.choice(moves)
        steps.append((predicate, forward))
        kinds.append(there)
    return _Walk(prefix, kinds, steps)


def _filter(kind: str, variable: str, rng: random.Random) -> tuple[str, str, str]:
    """(feature name, FILTER template over `variable`, kind of constant it takes) for a value of `kind`."""
    if kind in ("label", "text"):
        test = rng.choice(("contains", "prefix", "regex"))
        template = {"contains": "FILTER(CONTAINS(LCASE(STR({v})), {c}))",
                    "prefix": "FILTER(STRSTARTS(LCASE(STR({v})), {c}))",
                    "regex": "FILTER(REGEX(STR({v}), {c}, \"i\"))"}[test]
        return f"filter({test})", template.replace("{v}", variable), "fragment"
    if kind == "number":
        return "filter(number)", f"FILTER({variable} > {{c}})", "number"
    if kind == "date":
        return "filter(year)", f"FILTER(YEAR({variable}) = {{c}})", "year"
    if kind == "status":
        return "filter(status)", f"FILTER({variable} = {{c}})", "status"
    return "filter(bound)", f"FILTER(BOUND({variable}))", "none"


def _value(kind: str, rng: random.Random) -> str:
    if kind == "fragment":
        return str(Literal(_fragment(rng)))
    if kind == "number":
        return str(rng.randrange(0, 60))
    if kind == "year":
        return str(rng.randrange(2000, 2020))
    if kind == "status":
        return str(fg(rng.choice(STATUSES)))
    return ""


def generated_queries(size: int, seed: int = 21, count: int = 40, variants: int = 40) -> list[GeneratedQuery]:
    """`count` random shapes over a graph of `size` generated triples, `variants` texts each."""
    rng, shape = random.Random(seed), Shape.for_size(size)
    constants = random.Random(seed + 1)  # apart, so that the shapes are the same at every size
    return [_one(rng, constants, shape, number, variants) for number in range(1, count + 1)]


def _one(rng: random.Random, constants: random.Random, shape: Shape, number: int, variants: int) -> GeneratedQuery:
    form = rng.choices(("select", "ask", "construct", "describe"), weights=(70, 8, 12, 10))[0]
    start = rng.choice(sorted(ATTRIBUTES))
    walk = random_walk(rng, start, rng.choice((1, 2, 2, 3)), "a")
    anchored = rng.random() < 0.6
    paths = rng.random() < 0.3 and len(walk.steps) >= 2
    other = random_walk(rng, start, rng.choice((1, 2)), "b") if anchored and rng.random() < 0.25 else None
    features = [form, f"walk×{len(walk.steps)}"] + (["anchored"] if anchored else ["open"])
    features += ["path"] if paths else []
    features += ["union"] if other is not None else []
    bound = [walk.var(i) for i in walk.bound(paths) if i or not anchored]
    # the value clauses: OPTIONAL, FILTER, the grouping key, drawn on variables the walk binds
    extras: list[str] = []
    filters: list[tuple[str, str]] = []  # (template, constant kind)
    targets = [(i, walk.kinds[i]) for i in walk.bound(paths) if i or not anchored]
    group_key: str | None = None
    optional = None
    if rng.random() < 0.4 and targets:
        index, kind = rng.choice(targets)
        predicate, _ = rng.choice(ATTRIBUTES[kind])
        optional = f"OPTIONAL {{ {walk.var(index)} {predicate} ?opt }}"  # after the required patterns
        features.append("optional")
        bound.append("?opt")
    if (rng.random() < 0.35 or not anchored) and targets:
        index, kind = rng.choice(targets)
        predicate, value_kind = rng.choice(ATTRIBUTES[kind])
        extras.append(f"{walk.var(index)} {predicate} ?val .")
        name, template, constant_kind = _filter(value_kind, "?val", rng)
        if not anchored or rng.random() < 0.7:
            filters.append((template, constant_kind))
            features.append(name)
        bound.append("?val")
        if value_kind in ("status", "date", "code", "role"):
            group_key = "?val"
    extras += [optional] if optional else []
    aggregate = form == "select" and (rng.random() < (0.45 if not anchored else 0.15))
    if aggregate:
        groupable = [v for v in bound if v != "?opt"]
        group_key = group_key if group_key and rng.random() < 0.5 else rng.choice(groupable)
        counted = rng.choice([v for v in groupable if v != group_key] or ["*"])
        features.append("group-by")
    ordered = form == "select" and (aggregate or rng.random() < 0.3)
    limit = rng.choice((10, 20, 100)) if (ordered or not anchored) and rng.random() < 0.8 else None
    if ordered:
        features.append("order-by")
    if limit:
        features.append(f"limit {limit}")
    name = f"g{number:02d}: " + " ".join(features)

    texts = []
    for _ in range(variants):
        anchor = str(constant(start, constants, shape)) if anchored else None
        patterns = walk.patterns(anchor, paths) + extras
        where = " ".join(patterns + [t.replace("{c}", _value(k, constants)) for t, k in filters])
        template = [p for p in patterns if "/" not in p.split()[1] and not p.startswith("OPTIONAL")]
        if other is not None:  # the second branch leaves the first's variables unbound, so they stay inside it
            branch = other.patterns(anchor, False)
            where = "{ " + where + " } UNION { " + " ".join(branch) + " }"
            template += [p for p in branch if "/" not in p.split()[1]]
        grouping = (group_key, counted) if aggregate else None
        texts.append(PREFIXES + _form(form, where, " ".join(template), bound, grouping, ordered, limit, anchor))
    kind = {"select": "select", "ask": "ask"}.get(form, "construct")
    return GeneratedQuery(name, kind, tuple(texts))


def _form(form: str, where: str, template: str, bound: list[str], aggregate: tuple[str, str] | None,
          ordered: bool, limit: int | None, anchor: str | None) -> str:
    tail = f" LIMIT {limit}" if limit else ""
    if form == "ask":
        return f"ASK {{ {where} }}"
    if form == "construct":
        return f"CONSTRUCT {{ {template} }} WHERE {{ {where} }}{tail}"
    if form == "describe":
        target = anchor or bound[0]
        return f"DESCRIBE {target} WHERE {{ {where} }}{' LIMIT 5' if anchor is None else ''}"
    if aggregate:
        key, counted = aggregate
        count = "COUNT(*)" if counted == "*" else f"COUNT(DISTINCT {counted})"
        order = " ORDER BY DESC(?n) " + key if ordered else ""
        return f"SELECT {key} ({count} AS ?n) WHERE {{ {where} }} GROUP BY {key}{order}{tail}"
    order = f" ORDER BY {bound[-1]}" if ordered else ""
    return f"SELECT {' '.join(dict.fromkeys(bound))} WHERE {{ {where} }}{order}{tail}"

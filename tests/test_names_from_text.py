"""Names and attributions come from the text: no alternative name the article does not use, and a speaker's
claim is supported only by the sentences that report that speaker (the headline is the publication's voice)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from filmgraph.store import Store

SOURCE = Path(__file__).resolve().parents[1] / "data" / "sources" / "screendaily-2010-russia-european-coproduction.txt"


def folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.replace("’", "'").lower().split())


def test_every_alternative_name_is_the_articles_own_wording(built_store: Store) -> None:
    text = folded(SOURCE.read_text(encoding="utf-8").replace("’", "'"))
    rows = built_store.query(
        "SELECT ?node ?alt WHERE { ?node <http://www.w3.org/2004/02/skos/core#altLabel> ?alt }"
    ).rows
    assert rows
    strangers = {(row["node"].value.rsplit("/", 1)[-1], row["alt"].value) for row in rows
                 if folded(row["alt"].value) not in text}
    assert strangers == set()


def test_tolstikovs_hope_is_not_evidenced_by_the_headline(built_store: Store) -> None:
    rows = built_store.query(
        "PREFIX fg: <https://w3id.org/filmgraph/ontology#> PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> "
        "SELECT ?quote WHERE { <https://w3id.org/filmgraph/id/hope-russia-ties-france-germany-spain> fg:evidence ?span . "
        "?span nif:anchorOf ?quote }"
    ).rows
    assert {row["quote"].value for row in rows} == {
        "Russia now hopes to further co-production ties with France, Germany and Spain"
    }

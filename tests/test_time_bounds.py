"""Time nodes that the article places within 2010 are bounded on both sides, so a date filter ending before 2010
does not match them; the cooperation is dated with the article's own words."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode

from filmgraph.store import Store

ID = "https://w3id.org/filmgraph/id/"
BEFORE_2010 = """
PREFIX fg: <https://w3id.org/filmgraph/ontology#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT DISTINCT ?time WHERE {
  ?time fg:notAfter ?after .
  OPTIONAL { ?time fg:notBefore ?before }
  FILTER (!BOUND(?before) || ?before <= "2009-12-31"^^xsd:date)
}"""


def test_times_within_2010_start_in_2010(built_store: Store) -> None:
    may_be_before_2010 = {row["time"].value.removeprefix(ID) for row in built_store.query(BEFORE_2010).rows}
    # "already under way" at publication: the text does not say since when, so it may have begun before 2010
    assert may_be_before_2010 == {"time-2009", "time-recently", "time-under-way"}


def test_the_cooperation_is_dated_as_worded(built_store: Store) -> None:
    result = built_store.query(
        "PREFIX fg: <https://w3id.org/filmgraph/ontology#> SELECT ?c ?worded WHERE { ?c fg:atTime/fg:asWorded ?worded }",
        bindings={"c": NamedNode(ID + "cooperation-russia-germany")},
    )
    assert [row["worded"] for row in result.rows] == [Literal("already under way")]

"""A dataset whose union holds one triple several times, for the query-dataset tests (issue 14 items 1 and 2)."""

# <urn:a> <urn:p> "1" is held three times: in the stored default graph and in both named graphs.
DATA = """INSERT DATA {
  <urn:a> <urn:p> "1" . <urn:d> <urn:p> "default only" .
  GRAPH <urn:g1> { <urn:a> <urn:p> "1" . <urn:b> <urn:p> "2" . <urn:b> <urn:q> _:x . _:x <urn:p> "3" }
  GRAPH <urn:g2> { <urn:a> <urn:p> "1" . <urn:c> <urn:p> "2" }
}"""
UNION_TRIPLES = 6  # distinct triples of all graphs
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

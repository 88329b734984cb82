"""Probe writes for the write-path tests: each update writes one literal long enough to be found verbatim in the
write-ahead log, and its ASK says whether a read sees it."""

PROBE = "a literal long enough to be stored verbatim in the write-ahead log"


def probe_update(n: int) -> str:
    return f'INSERT DATA {{ GRAPH <urn:w> {{ <urn:s{n}> <urn:p> "{PROBE} {n}" }} }}'


def ask_probe(n: int) -> str:
    return f'ASK {{ GRAPH <urn:w> {{ <urn:s{n}> <urn:p> "{PROBE} {n}" }} }}'

"""Hostile input (issue 13, items 3–5): XML entity bombs, oversized literals and uploads, SERVICE to any address,
and nesting that overflowed the parsers. Each answer is a 4xx problem body; nothing is written; no worker dies."""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph
import pytest
from fastapi.testclient import TestClient
from service_support import BIN, SAMPLE, TOKEN, descendants, filmgraph_server, store_directory

from filmgraph.api import create_app
from filmgraph.api.federation import ServicePolicy, check_service
from filmgraph.errors import Forbidden, QueryTooDeep
from filmgraph.settings import Settings
from filmgraph.sparql_text import ENGINE_MAX_DEPTH, may_contain_keyword, nesting_depth
from filmgraph.store import EmbeddedStore
from filmgraph.sparql_text import has_dataset_clause

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROBLEM = "application/problem+json"
RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/"'


def laughs(levels: int = 6) -> bytes:
    """Billion laughs: each entity ten of the one before; `levels=6` expands to 3 million characters."""
    entities = ['<!ENTITY lol0 "lollollol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)
    ]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [ {" ".join(entities)} ]>\n<rdf:RDF {RDF}>'
        f'<rdf:Description rdf:about="http://example.org/a"><ex:p>&lol{levels};</ex:p></rdf:Description></rdf:RDF>'
    ).encode()


PLAIN_XML = (
    f'<?xml version="1.0"?><rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/a">'
    "<ex:p>plain</ex:p></rdf:Description></rdf:RDF>"
).encode()


def nested(depth: int) -> str:
    return "SELECT * WHERE " + "{" * depth + " ?s ?p ?o " + "}" * depth


def assert_problem(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    for word in words:
        assert word in response.json()["detail"], response.json()


@contextmanager
def listener() -> Iterator[tuple[str, list[str]]]:
    """A SPARQL endpoint on 127.0.0.1 that records every request (to prove the server did or did not call it)."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(self.path)
            body = b'{"head":{"vars":[]},"results":{"bindings":[{}]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sparql", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sample_store(tmp_path: Path) -> Path:
    return store_directory(SAMPLE, tmp_path / "store")


def app_client(tmp_path: Path, **settings: object) -> TestClient:
    store = EmbeddedStore(store_directory(SAMPLE, tmp_path / "app-store"))
    return TestClient(create_app(Settings(store=store.path, token=TOKEN, **settings), store))


# --- item 3: parsers that cannot be bombed, caps on literals and uploads ------------------------------------------
def test_an_entity_bomb_upload_is_refused_and_nothing_is_stored(live_server):
    graph = {"graph": "https://example.org/bomb"}
    started = time.monotonic()
    response = httpx.put(f"{live_server}/graph-store", params=graph, content=laughs(),
                         headers={**AUTH, "Content-Type": "application/rdf+xml"}, timeout=60)  # fmt: skip
    assert_problem(response, 400, "entity")
    assert time.monotonic() - started < 20, "refused without expanding anything"
    assert httpx.get(f"{live_server}/graph-store", params=graph, timeout=30).status_code == 404


def test_plain_rdf_xml_still_loads_and_a_doctype_inside_the_root_is_refused(live_server):
    graph = {"graph": "https://example.org/plain-xml"}
    headers = {**AUTH, "Content-Type": "application/rdf+xml"}
    assert httpx.put(f"{live_server}/graph-store", params=graph, content=PLAIN_XML, headers=headers).status_code == 201
    # pyoxigraph expands entities of a DOCTYPE even inside the root element; expat refuses such a document
    sneaky = PLAIN_XML.replace(b"<rdf:Description", b'<!DOCTYPE x [<!ENTITY a "AAAA">]><rdf:Description', 1)
    response = httpx.put(f"{live_server}/graph-store", params={"graph": "https://example.org/sneaky"},
                         content=sneaky, headers=headers)  # fmt: skip
    assert_problem(response, 400)


def test_json_ld_never_fetches_a_remote_context(live_server):
    with listener() as (url, hits):
        document = b'{"@context": "%s", "@id": "http://example.org/a", "name": "x"}' % url.encode()
        response = httpx.put(f"{live_server}/graph-store", params={"graph": "https://example.org/ld"},
                             content=document, headers={**AUTH, "Content-Type": "application/ld+json"})  # fmt: skip
        assert_problem(response, 400)
        assert hits == []


def test_a_literal_past_the_cap_is_413_for_graph_store_and_insert_data(tmp_path):
    client = app_client(tmp_path, max_literal_bytes=1000)
    graph = {"graph": "https://example.org/big"}
    turtle = f'<http://example.org/a> <http://example.org/p> "{"x" * 1001}" .'.encode()
    response = client.put("/graph-store", params=graph, content=turtle, headers={**AUTH, "Content-Type": "text/turtle"})
    assert_problem(response, 413, "FILMGRAPH_MAX_LITERAL_BYTES")
    assert client.get("/graph-store", params=graph).status_code == 404
    update = f'INSERT DATA {{ GRAPH <https://example.org/big> {{ <http://e/a> <http://e/p> "{"é" * 600}" }} }}'
    response = client.post("/sparql", content=update, headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert_problem(response, 413, "FILMGRAPH_MAX_LITERAL_BYTES")
    assert client.get("/graph-store", params=graph).status_code == 404
    small = turtle.replace(b"x" * 1001, b"x" * 1000)
    assert client.put("/graph-store", params=graph, content=small,
                      headers={**AUTH, "Content-Type": "text/turtle"}).status_code == 201  # fmt: skip


def test_an_upload_past_the_triple_cap_is_413_and_stores_nothing(tmp_path):
    client = app_client(tmp_path, max_upload_triples=10)
    graph = {"graph": "https://example.org/many"}
    lines = [f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(11)]
    headers = {**AUTH, "Content-Type": "application/n-triples"}
    response = client.post("/graph-store", params=graph, content="\n".join(lines).encode(), headers=headers)
    assert_problem(response, 413, "FILMGRAPH_MAX_UPLOAD_TRIPLES")
    assert client.get("/graph-store", params=graph).status_code == 404
    assert client.post("/graph-store", params=graph, content="\n".join(lines[:10]).encode(),
                       headers=headers).status_code == 201  # fmt: skip


def test_an_update_cannot_load_a_url(tmp_path):
    client = app_client(tmp_path)
    with listener() as (url, hits):
        response = client.post("/sparql", content=f"LOAD <{url}> INTO GRAPH <https://example.org/loaded>",
                               headers={**AUTH, "Content-Type": "application/sparql-update"})  # fmt: skip
        assert_problem(response, 403, "LOAD")
        assert hits == []


def run_load(store: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "filmgraph"), "load", "--store", str(store), *args],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip


def test_filmgraph_load_refuses_a_bomb_and_a_file_past_the_cap(tmp_path, sample_store):
    before = len(pyoxigraph.Store(str(sample_store)))
    bomb = tmp_path / "bomb.rdf"
    bomb.write_bytes(laughs())
    done = run_load(sample_store, str(bomb))
    assert done.returncode == 2 and "entity" in done.stderr, done.stderr
    many = tmp_path / "many.nt"
    many.write_text("\n".join(f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(11)))
    env = {"PATH": "/usr/bin:/bin", "FILMGRAPH_MAX_UPLOAD_TRIPLES": "10"}
    done = run_load(sample_store, str(many), env=env)
    assert done.returncode == 2 and "FILMGRAPH_MAX_UPLOAD_TRIPLES" in done.stderr, done.stderr
    assert len(pyoxigraph.Store(str(sample_store))) == before


# --- item 4: SERVICE off by default, an allow-list when on ---------------------------------------------------------
def test_service_is_off_by_default_and_nothing_is_fetched(live_server):
    with listener() as (url, hits):
        for query in (
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"PREFIX ex: <{url[: -len('sparql')]}> SELECT * WHERE {{ SERVICEex:sparql {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ ?s ?p ?o . SERVICESILENT<{url}>{{}} }}",
        ):
            assert_problem(httpx.get(f"{live_server}/sparql", params={"query": query}, timeout=30), 403, "SERVICE")
        update = f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"
        response = httpx.post(f"{live_server}/sparql", content=update,
                              headers={**AUTH, "Content-Type": "application/sparql-update"}, timeout=30)  # fmt: skip
        assert_problem(response, 403, "SERVICE")
        assert hits == []


def test_with_service_off_deep_or_long_queries_naming_service_get_no_500(live_server):
    deep = "SELECT * WHERE " + "{" * 1000 + " ?s ?p ?o " + "}" * 1000 + " # service"
    assert_problem(httpx.get(f"{live_server}/sparql", params={"query": deep}, timeout=30), 400, "limit is 100")
    patterns = " ".join(f"<https://example.org/s> <https://example.org/none{i}> ?o{i} ." for i in range(150))
    long = f'SELECT * WHERE {{ {patterns} FILTER(?o0 != "customer service") }} # the service desk'
    assert httpx.post(f"{live_server}/sparql", data={"query": long}, timeout=60).status_code == 200


def test_service_goes_only_to_the_allowed_endpoints(sample_store):
    with listener() as (allowed, allowed_hits), listener() as (other, other_hits):
        env = {"FILMGRAPH_ALLOW_SERVICE": "true", "FILMGRAPH_SERVICE_ALLOW": f"{allowed}, https://example.org/sparql"}
        with filmgraph_server(sample_store, "--workers", "1", settings=env) as base:
            query = "SELECT * WHERE {{ SERVICE <{}> {{ ?s ?p ?o }} }}"
            assert httpx.get(f"{base}/sparql", params={"query": query.format(allowed)}, timeout=30).status_code == 200
            assert allowed_hits
            response = httpx.get(f"{base}/sparql", params={"query": query.format(other)}, timeout=30)
            assert_problem(response, 403, other, "FILMGRAPH_SERVICE_ALLOW")
            variable = "SELECT * WHERE { BIND(<%s> AS ?e) SERVICE ?e { ?s ?p ?o } }" % other
            assert_problem(httpx.get(f"{base}/sparql", params={"query": variable}, timeout=30), 403)
            assert other_hits == []


def test_the_service_check_holds_where_the_engine_reads_service(tmp_path):
    """Differential: whenever pyoxigraph itself calls the endpoint, the lexer has said the query may use SERVICE."""
    store = pyoxigraph.Store()
    e = pyoxigraph.NamedNode
    store.add(pyoxigraph.Quad(e("http://e/s"), e("http://e/p"), pyoxigraph.Literal("o")))
    with listener() as (url, hits):
        service = f"SERVICE <{url}> {{}}"
        shapes = [
            "{S}", "?s ?p ?o.SERVICE<{U}>{{}}", '?s ?p "o"SERVICE<{U}>{{}}', "?s ?p ?o # c\r{S}",
            "?s ?p ?o FILTER(?o != <http://x/\\u0041#>) . {S}", "?s ?p ?o FILTER(?o<'#'||?o>'a') . {S}",
            "?s ?p ?o . ?s ?p true.SERVICE<{U}>{{}}", "?s ?p ?o . ?s ?p 1SERVICE<{U}>{{}}",
            "?s ?p ?o . ?s ?p ex:.SERVICE<{U}>{{}}", "?s ?p ?o . ?s ?p '''o'''SERVICE<{U}>{{}}",
            "?s ?p ?o # c\n{S}", "?s ?p ?o FILTER(?o != 'a\\'') . {S}", "?s ?p ?o BIND(ex:a\\#b AS ?x) . {S}",
        ]  # fmt: skip
        called = 0
        for shape in shapes:
            query = "PREFIX ex: <http://e/> SELECT * WHERE { " + shape.format(S=service, U=url) + " }"
            before = len(hits)
            list(store.query(query))
            if len(hits) > before:
                called += 1
                assert may_contain_keyword(query, "service"), query
                with pytest.raises(Forbidden):
                    check_service(query, ServicePolicy())
        assert called == len(shapes), "every shape above is one the engine runs"
    for quiet in ('SELECT * WHERE { ?s ?p "service" } # service', "SELECT ?service WHERE { ?service ex:service ?o }"):
        assert not may_contain_keyword(quiet, "service")


def test_the_lexer_reads_the_endpoint_wherever_the_engine_calls_it(monkeypatch):
    """Issue 21: with SERVICE allowed, the endpoints are read by the lexer (no rdflib parse, ~20 ms), and for every
    shape the engine calls, the endpoint read is the one it calls: allowed passes, any other is refused."""
    import filmgraph.api.federation as federation  # noqa: PLC0415

    def no_rdflib(*args, **kwargs):
        raise AssertionError("rdflib was asked")

    monkeypatch.setattr(federation, "_algebra_endpoints", no_rdflib)
    url = "http://127.0.0.1:9/sparql"
    shapes = [
        "SERVICE <{U}> {{}}", "?s ?p ?o.SERVICE<{U}>{{}}", '?s ?p "o"SERVICE<{U}>{{}}', "?s ?p 1SERVICE<{U}>{{}}",
        "SERVICE # a comment\n SILENT <{U}> {{}}", "SERVICESILENT<{U}>{{}}", "SERVICE ex:sparql {{}}",
        "SERVICEex:sparql {{}}", "?s ?p ?o FILTER(?o != <http://x/\\u0041#>) . SERVICE <{U}> {{}}",
    ]  # fmt: skip
    for shape in shapes:
        query = "PREFIX ex: <http://127.0.0.1:9/> SELECT * WHERE { " + shape.format(U=url) + " }"
        check_service(query, ServicePolicy(True, frozenset({url})))
        with pytest.raises(Forbidden, match=url):
            check_service(query, ServicePolicy(True, frozenset({"http://127.0.0.1:9/other"})))
    with pytest.raises(Forbidden, match=r"\?e"):
        check_service(f"SELECT * {{ BIND(<{url}> AS ?e) SERVICE ?e {{}} }}", ServicePolicy(True, frozenset({url})))


def test_what_the_lexer_cannot_read_goes_to_rdflib_and_stays_checked():
    """A BASE-relative endpoint is resolved by no code of ours: rdflib's algebra decides, as before."""
    query = "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }"
    check_service(query, ServicePolicy(True, frozenset({"http://127.0.0.1:9/sparql"})))
    with pytest.raises(Forbidden, match="127.0.0.1:9/sparql"):
        check_service(query, ServicePolicy(True, frozenset({"http://127.0.0.1:9/other"})))


# --- item 5: a depth limit checked before evaluation -----------------------------------------------------------
def test_deep_nesting_is_a_400_and_kills_no_worker(live_server):
    processes = set(descendants(live_server.pid))
    for depth in (5000, 1000, 101):
        response = httpx.get(f"{live_server}/sparql", params={"query": nested(depth)}, timeout=30)
        assert_problem(response, 400, f"{depth} deep", "FILMGRAPH_MAX_QUERY_DEPTH")
    update = "INSERT DATA { <http://e/s> <http://e/p> " + "[ <http://e/p> " * 300 + "1" + " ]" * 300 + " }"
    response = httpx.post(f"{live_server}/sparql", content=update,
                          headers={**AUTH, "Content-Type": "application/sparql-update"}, timeout=30)  # fmt: skip
    assert_problem(response, 400, "301 deep")
    assert set(descendants(live_server.pid)) == processes, "no worker died or was replaced"


def test_queries_at_the_limit_are_answered_by_the_workers(live_server):
    """The limit is far below what the engine survives: at depth 100 the heaviest shapes per level still answer."""
    at_limit = [
        nested(100),
        "SELECT * WHERE { ?s ?p ?o FILTER(" + "STR(" * 98 + "?o" + ")" * 98 + ") } LIMIT 1",
        "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 99 + "}" * 99 + " } LIMIT 1",
        "SELECT * WHERE " + "{ SELECT * WHERE " * 99 + "{ ?s ?p ?o }" + " }" * 99 + " LIMIT 1",
    ]
    for query in at_limit:
        assert nesting_depth(query) == 100
        response = httpx.post(f"{live_server}/sparql", data={"query": query}, timeout=60)
        assert response.status_code == 200, response.text[:300]


def test_the_depth_scan_ignores_strings_iris_and_comments_and_stays_linear():
    assert nesting_depth('SELECT * WHERE { ?s ?p "{{{(((" FILTER(?s != <http://x/a(b>) } # {{{{') == 2
    assert nesting_depth("SELECT * WHERE { ?s ?p '''{\n{'''  }") == 1
    started = time.monotonic()
    for hostile in ("'a\\" * 33_000, "<" * 100_000, "{" * 100_000, '"""' + 'a"' * 50_000, ":%4" * 33_000):
        nesting_depth(hostile)
        may_contain_keyword(hostile + " service", "service")
    assert time.monotonic() - started < 10, "one linear pass each (the quadratic one took 80 s)"


def test_the_remote_backend_gets_no_deep_query(tmp_path, remote_store):
    client = TestClient(create_app(Settings(store=tmp_path, backend="remote"), remote_store))
    assert_problem(client.get("/sparql", params={"query": nested(5000)}), 400, "5000 deep")
    assert client.get("/sparql", params={"query": nested(3)}).status_code == 200


def test_the_engine_refuses_nesting_it_would_not_survive_on_any_path(tmp_path):
    store = EmbeddedStore(store_directory(SAMPLE, tmp_path / "store"))
    with pytest.raises(QueryTooDeep):
        store.query(nested(ENGINE_MAX_DEPTH * 10))  # CLI, named queries, build: no path segfaults the process
    assert store.query(nested(ENGINE_MAX_DEPTH)).kind == "select"
    store.close()


def test_from_is_found_by_the_lexer_not_by_rdflib():
    """A long query mentioning "from" made rdflib's parser raise RecursionError (a 400 for a valid query)."""
    patterns = " ".join(f"?s ?p{i} ?o{i} ." for i in range(200))
    assert not has_dataset_clause(f'SELECT * WHERE {{ {patterns} ?s ?p "from" }} # from where')
    assert has_dataset_clause(f"SELECT * FROM <https://example.org/g> WHERE {{ {patterns} }}")
    assert not has_dataset_clause("PREFIX fromage: <http://e/> SELECT * WHERE { ?s fromage:p ?o }")


def test_sparql_xml_results_expand_no_declared_entity():
    """The other XML the project parses (a remote endpoint's SPARQL XML results): pyoxigraph refuses the entity."""
    results = (
        '<?xml version="1.0"?><!DOCTYPE sparql [<!ENTITY a "AAAAAAAAAA">]>'
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="x"/></head>'
        '<results><result><binding name="x"><literal>&a;</literal></binding></result></results></sparql>'
    )
    with pytest.raises(SyntaxError, match="entity"):
        list(pyoxigraph.parse_query_results(results.encode(), format=pyoxigraph.QueryResultsFormat.XML))

"""The command line: thin commands over the library modules (build, store, api, export)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="filmgraph: a knowledge graph of film diplomacy.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """filmgraph: build, query, serve and export the film-diplomacy graph."""


# --- build and query (filmgraph.build, filmgraph.named_queries) ------------------------------------------------
@app.command("build")
def build_command(
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Build the graph (ontology, claims, inferences) into the store; a failed build leaves the old store as it was."""
    from .build import build_store  # noqa: PLC0415
    from .errors import FilmgraphError  # noqa: PLC0415

    settings = _serving_settings(store=store_dir)
    try:
        report = build_store(settings.store, settings)
    except FilmgraphError as error:
        raise _fail(error) from error
    for line in report.lines():
        typer.echo(line)


@app.command("ingest")
def ingest_command(
    curation: Path = typer.Argument(..., exists=True, dir_okay=False, help="A curation file (YAML, docs/model.md)"),
    text: Path | None = typer.Option(None, exists=True, dir_okay=False, help="The source text [beside the file]"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be added and removed; change nothing"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Add or replace one source in a built store (its graph, inferences, checks) and copy it into data/.

    Run it while the server is stopped (the embedded store has one writer), or POST the files to /api/sources."""
    from .build import BuildPaths  # noqa: PLC0415
    from .errors import FilmgraphError  # noqa: PLC0415
    from .ingest import ingest_files  # noqa: PLC0415

    settings, store = _existing_store(store_dir, served_by="its POST /api/sources (with the token)")
    try:
        report = ingest_files(store, curation, text, paths=BuildPaths.from_settings(settings), dry_run=dry_run)
    except FilmgraphError as error:
        raise _fail(error) from error
    finally:
        store.close()
    for line in report.lines():
        typer.echo(line)


@app.command("draft")
def draft_command(
    article: Path = typer.Argument(..., exists=True, dir_okay=False, help="The article's text (UTF-8)"),
    published: str = typer.Option(..., "--published", help="Publication date: YYYY, YYYY-MM or YYYY-MM-DD"),
    title: str | None = typer.Option(None, "--title", help="The article's title [its first sentence]"),
    publisher: str | None = typer.Option(None, "--publisher", help="The publisher's existing id (e.g. screen-daily)"),
    url: str | None = typer.Option(None, "--url", help="The article's address"),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Draft a curation file for a new text (entities the store knows, countries, times, candidate claims), for the
    curator to check and then `filmgraph ingest`. It never overwrites a file."""
    from .draft import draft_curation, render_draft  # noqa: PLC0415
    from .errors import FilmgraphError  # noqa: PLC0415

    if output is not None and output.exists():
        raise _fail(f"{output} exists: the draft never overwrites a file (a curator may have edited it)")
    try:
        text = article.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(f"cannot read {article}: {error}") from error
    _, store = _existing_store(store_dir, served_by="a copy of the store directory")
    try:
        draft = draft_curation(text, published, store, file_name=article.name, title=title, publisher=publisher,
                               url=url)
    except FilmgraphError as error:
        raise _fail(error) from error
    finally:
        store.close()
    if output is None:
        typer.echo(render_draft(draft), nl=False)
    else:
        output.write_text(render_draft(draft), encoding="utf-8")
        typer.echo(f"wrote {output}: {len(draft.mentions)} mentions, {len(draft.entities)} new countries, "
                   f"{len(draft.times)} times, {len(draft.claims)} candidate claims", err=True)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise _fail(f"--param takes name=value, got {pair!r}")
        params[name.strip()] = value
    return params


@app.command("query")
def query_command(
    name: str = typer.Argument(..., help="A named research question (a file stem of queries/, e.g. who-heads-what)"),
    param: list[str] = typer.Option([], "--param", "-p", help="name=value (repeatable)"),
    output_format: str = typer.Option("table", "--format", "-f", help="table, json (SPARQL results), xml, csv or tsv"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Run a named research question against the store; `filmgraph query --help` lists the options."""
    import sys  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .formats import RESULTS_FORMATS, named  # noqa: PLC0415
    from .named_queries import get_named_query, render_table, run_named_query, run_named_query_serialized  # noqa: PLC0415

    results_format = named(output_format, "solutions", RESULTS_FORMATS)  # the names `format=` takes on /sparql
    if output_format != "table" and results_format is None:
        raise _fail(f"unknown format {output_format!r}: use table, {', '.join(f.name for f in RESULTS_FORMATS)}")
    settings, store = _existing_store(store_dir)
    try:
        query = get_named_query(settings.queries_dir, name)
        params = _parse_params(param)
        if results_format is None:
            typer.echo(render_table(run_named_query(store, query, params)))
        else:
            for chunk in run_named_query_serialized(store, query, results_format.media_type, params).chunks():
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    except FilmgraphError as error:
        raise _fail(error) from error
    finally:
        store.close()


@app.command("queries")
def queries_command() -> None:
    """List the named research questions and their parameters."""
    from .named_queries import load_named_queries  # noqa: PLC0415

    for query in load_named_queries(_serving_settings().queries_dir).values():
        typer.echo(f"{query.name}: {query.title}")
        for p in query.parameters:
            need = "required" if p.required else f"optional{f', default {p.default}' if p.default else ''}"
            typer.echo(f"    --param {p.name}=<{p.type}>  ({need}) {p.description}")


# --- export and release (filmgraph.export, filmgraph.release) ----------------------------------------------------
def _fail(error: Exception | str) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=2)


def _existing_store(store_dir: Path | None, served_by: str = "its GET /export", **flags: object):
    """Settings and the store to use; an embedded store must exist (exporting nothing helps nobody).
    `served_by` names what a running server offers instead, for when it holds the store."""
    from .errors import is_held_elsewhere  # noqa: PLC0415
    from .store import open_store  # noqa: PLC0415

    settings = _serving_settings(store=store_dir, **flags)
    if settings.backend == "embedded" and _store_is_empty(settings.store):
        raise _fail(f"no store at {settings.store}: run `filmgraph build` first, or pass --store DIR")
    try:
        return settings, open_store(settings)
    except OSError as error:  # RocksDB allows one process per store directory
        in_use = is_held_elsewhere(error)
        hint = f": stop `filmgraph serve`, or use {served_by}" if in_use else ""
        raise _fail(f"cannot open the store {settings.store}{hint} ({error})") from error


@app.command("export")
def export_command(
    format_name: str = typer.Option("turtle", "--format", "-f", help="turtle, ntriples, trig, nquads, jsonld, rdfxml"),
    subset: str = typer.Option(
        "all", "--subset", "-s", help="all, asserted, inferred, ontology, source:<id>, entity:<local-name>"
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory"),
) -> None:
    """Export the graph or one subset of it; progress goes to stderr, the file appears only when complete."""
    import sys  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .export import prepare_export, with_usual_permissions  # noqa: PLC0415

    _, store = _existing_store(store_dir)
    try:
        export = prepare_export(store, format_name, subset)
    except FilmgraphError as error:
        raise _fail(error) from error
    with typer.progressbar(length=export.size, label=f"exporting {export.subset}", file=sys.stderr) as bar:
        if output is None:
            export.write_to(sys.stdout.buffer, bar.update)
            sys.stdout.buffer.flush()
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}-", delete=False) as out:
                try:
                    export.write_to(out, bar.update)
                except BaseException:
                    Path(out.name).unlink()
                    raise
            with_usual_permissions(Path(out.name))
            Path(out.name).replace(output)
    where = output or "standard output"
    typer.echo(f"exported {export.size} quads ({export.subset}) as {export.format.name} to {where}", err=True)


@app.command("release")
def release_command(
    outdir: Path = typer.Argument(..., help="New directory for the release bundle"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory"),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Public URL of the service, for the SPARQL endpoint named [FILMGRAPH_BASE_URL]"
    ),
) -> None:
    """Write a citable release: ontology, data (Turtle, N-Quads), VoID + DCAT, docs, CITATION.cff, SHA256SUMS."""
    import sys  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .release import loopback_warning, write_release  # noqa: PLC0415
    from .vocab import ONTOLOGY_GRAPH  # noqa: PLC0415

    settings, store = _existing_store(store_dir, base_url=base_url)
    if warning := loopback_warning(settings):
        typer.echo(f"warning: {warning}", err=True)
    try:
        quads = 2 * store.count() + store.count(ONTOLOGY_GRAPH)  # the data twice (Turtle, N-Quads), the ontology
        with typer.progressbar(length=quads, label="writing release", file=sys.stderr) as bar:
            write_release(store, outdir, settings, bar.update)
    except FilmgraphError as error:
        raise _fail(error) from error
    typer.echo(f"release written to {outdir} (verify with: cd {outdir} && sha256sum -c SHA256SUMS)", err=True)


@app.command("push")
def push_command(
    to: str = typer.Option(
        ..., "--to", help="The remote engine's Graph Store URL (Oxigraph: …/store, Virtuoso: …/sparql-graph-crud)"
    ),
    query_url: str | None = typer.Option(
        None, "--query-url", help="Its SPARQL query URL, to report graphs only it holds [FILMGRAPH_REMOTE_QUERY_URL]"
    ),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Publish the built graphs to a remote engine, graph by graph (each replaced in one PUT), then check that
    every remote graph holds as many triples as the local one. Interrupted, run it again. Credentials:
    FILMGRAPH_REMOTE_USER / _PASSWORD (FILMGRAPH_REMOTE_AUTH=basic|digest) or FILMGRAPH_REMOTE_TOKEN."""
    import sys  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .push import local_graphs, push  # noqa: PLC0415
    from .store.remote import Endpoints, RemoteStore  # noqa: PLC0415

    settings, store = _existing_store(store_dir, served_by="`filmgraph push` once it is stopped", backend="embedded")
    endpoints = Endpoints(query_url or settings.remote_query_url, graph_store=to)
    target = RemoteStore.from_settings(settings, endpoints)
    try:
        with typer.progressbar(length=sum(local_graphs(store).values()), label=f"pushing to {to}", file=sys.stderr) as bar:
            report = push(store, target, bar.update)
    except FilmgraphError as error:
        raise _fail(error) from error
    finally:
        target.close()
        store.close()
    typer.echo(f"pushed {report.triples} triples in {len(report.pushed)} graphs to {to}; the counts match", err=True)
    for graph in report.remote_only:
        typer.echo(f"left alone: <{graph}> (only the remote holds it)", err=True)


# --- serve and load (filmgraph.api.server, filmgraph.store) ---------------------------------------------------
def _serving_settings(**flags: object):
    """Settings from FILMGRAPH_* variables, overridden by the flags that were given."""
    from .settings import Settings  # noqa: PLC0415

    return Settings(**{name: value for name, value in flags.items() if value is not None})


def _store_is_empty(store_dir: Path) -> bool:
    return not store_dir.exists() or not any(store_dir.iterdir())


def _build_first(settings) -> None:
    """A fresh clone has no store yet: build the graph before serving it."""
    from .build import build_store  # noqa: PLC0415

    typer.echo(f"no store at {settings.store}: building the graph first", err=True)
    build_store(settings.store, settings)


@app.command("serve")
def serve_command(
    host: str | None = typer.Option(None, help="Interface to listen on [FILMGRAPH_HOST, default 127.0.0.1]"),
    port: int | None = typer.Option(None, help="Port [FILMGRAPH_PORT, default 8000]"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
    query_timeout: float | None = typer.Option(None, help="Seconds before a query is stopped [30]"),
    workers: int | None = typer.Option(None, help="Query worker processes [2]"),
    max_query_length: int | None = typer.Option(None, help="Longest query in characters; longer gets 413"),
    max_result_bytes: int | None = typer.Option(None, help="Largest serialised result; larger gets 422"),
    worker_store: str | None = typer.Option(
        None, help="auto (default: memory up to 2M quads), disk or memory: where queries read the graph"
    ),
    cors_origin: list[str] | None = typer.Option(None, help="Origin allowed to query from a browser (repeatable)"),
    base_url: str | None = typer.Option(None, help="Public base URL for links [FILMGRAPH_BASE_URL]"),
    allowed_host: list[str] | None = typer.Option(None, help="Host name links may use when no base URL (repeatable)"),
    timeout_keep_alive: float | None = typer.Option(None, help="Seconds an idle connection stays open [5]"),
    header_timeout: float | None = typer.Option(None, help="Seconds to send request line and headers [10]"),
    body_timeout: float | None = typer.Option(None, help="Seconds to send a body, plus 1 s per 16 KiB [30]"),
    max_connections: int | None = typer.Option(None, help="Open connections before 503 [256]"),
    shutdown_timeout: float | None = typer.Option(None, help="Seconds requests in flight get on SIGTERM [5]"),
    access_log: bool = typer.Option(False, help="Log every request"),
) -> None:
    """Serve SPARQL 1.1, the Graph Store, the REST API and entity pages (builds the graph first if needed).

    The write token comes from FILMGRAPH_TOKEN only (a flag would show in the process list)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from .api.server import serve  # noqa: PLC0415
    from .errors import FilmgraphError  # noqa: PLC0415

    try:
        settings = _serving_settings(
            host=host, port=port, store=store_dir, query_timeout=query_timeout, workers=workers,
            max_query_length=max_query_length, max_result_bytes=max_result_bytes, worker_store=worker_store,
            cors_origins=cors_origin or None, base_url=base_url, allowed_hosts=allowed_host or None,
            timeout_keep_alive=timeout_keep_alive, header_timeout=header_timeout, body_timeout=body_timeout,
            max_connections=max_connections, shutdown_timeout=shutdown_timeout,
        )  # fmt: skip
        if settings.backend == "embedded" and _store_is_empty(settings.store):
            _build_first(settings)
    except (ValidationError, FilmgraphError) as error:
        raise _fail(error) from error
    if settings.backend == "embedded":
        _check_store_opens(settings.store)
    status = serve(settings, access_log=access_log)
    if status:
        raise typer.Exit(status)


def _check_store_opens(store: Path) -> None:
    """Fail with a clear message before serving, rather than in the server process (where uvicorn only logs)."""
    from pyoxigraph import Store as OxStore  # noqa: PLC0415

    try:
        OxStore(str(store))  # not kept: closed again at once, for the server process to open
    except OSError as error:  # RocksDB allows one process per store directory
        raise _fail(_store_open_failure(store, error)) from None


def _store_open_failure(store: Path, error: OSError) -> str:
    from .errors import is_held_elsewhere  # noqa: PLC0415

    if is_held_elsewhere(error):
        return f"the store {store} is in use by another process (a running `filmgraph serve`?): stop it first ({error})"
    return f"cannot open the store {store} ({error})"


@app.command("load")
def load_command(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="RDF files (format from extension)"),
    graph: str | None = typer.Option(None, help="Named graph IRI for all files (default: one graph per file)"),
    replace: bool = typer.Option(False, help="Empty the target graph first (slow on very large graphs)"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory [FILMGRAPH_STORE]"),
) -> None:
    """Bulk-load RDF files into the store; a file that does not parse changes nothing.

    Run it while the server is stopped (the embedded store has one writer), or send files to a running server
    through the Graph Store Protocol with the write token."""
    import sys  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .store import open_store  # noqa: PLC0415
    from .store.rdf_files import DATASET_ONLY, UploadLimits, rdf_format_of  # noqa: PLC0415
    from .vocab import LOADED_GRAPH_PREFIX  # noqa: PLC0415

    from pyoxigraph import NamedNode  # noqa: PLC0415

    if graph is not None:
        try:
            NamedNode(graph)
        except ValueError as error:
            raise _fail(f"--graph must be an absolute IRI, not {graph!r} ({error})") from None
        from .ownership import refuse_owned  # noqa: PLC0415

        try:
            refuse_owned([graph], "filmgraph load")
        except FilmgraphError as error:
            raise _fail(error) from None
    from .ownership import refuse_owned_graphs_in  # noqa: PLC0415

    try:
        for path in files:
            refuse_owned_graphs_in(path)
    except FilmgraphError as error:
        raise _fail(error) from None
    settings = _serving_settings(store=store_dir)
    try:
        store = open_store(settings)
    except OSError as error:
        raise _fail(_store_open_failure(settings.store, error)) from None
    limits = UploadLimits.from_settings(settings)
    try:
        for path in files:
            target = graph or LOADED_GRAPH_PREFIX + path.stem
            with typer.progressbar(length=path.stat().st_size, label=f"checking {path.name}", file=sys.stderr) as bar:
                done = [0]

                def advance(position: int, bar=bar, done=done) -> None:
                    bar.update(position - done[0])
                    done[0] = position

                read = store.load_file(path, target, replace=replace, progress=advance, limits=limits)
            into = "the graphs it names" if rdf_format_of(path) in DATASET_ONLY else f"<{target}>"
            typer.echo(f"loaded {read} statements from {path} into {into}", err=True)
    except (FilmgraphError, OSError) as error:
        raise _fail(error) from error
    finally:
        store.close()


if __name__ == "__main__":
    app()

"""The command line: thin commands over the library modules (build, store, api, export)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="filmgraph: a knowledge graph of film diplomacy.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """filmgraph: build, query, serve and export the film-diplomacy graph."""


# --- export and release (filmgraph.export, filmgraph.release) ----------------------------------------------------
def _export_settings(store_dir: Path | None):
    from .settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    return settings.model_copy(update={"store": store_dir}) if store_dir else settings


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(code=2)


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
    from .export import prepare_export  # noqa: PLC0415
    from .store import open_store  # noqa: PLC0415

    try:
        store = open_store(_export_settings(store_dir))
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
            Path(out.name).replace(output)
    where = output or "standard output"
    typer.echo(f"exported {export.size} quads ({export.subset}) as {export.format.name} to {where}", err=True)


@app.command("release")
def release_command(
    outdir: Path = typer.Argument(..., help="New directory for the release bundle"),
    store_dir: Path | None = typer.Option(None, "--store", help="Embedded store directory"),
) -> None:
    """Write a citable release: ontology, data (Turtle, N-Quads), VoID + DCAT, docs, CITATION.cff, SHA256SUMS."""
    import sys  # noqa: PLC0415

    from .errors import FilmgraphError  # noqa: PLC0415
    from .release import write_release  # noqa: PLC0415
    from .store import open_store  # noqa: PLC0415
    from .vocab import ONTOLOGY_GRAPH  # noqa: PLC0415

    settings = _export_settings(store_dir)
    try:
        store = open_store(settings)
        quads = 2 * store.count() + store.count(ONTOLOGY_GRAPH)  # the data twice (Turtle, N-Quads), the ontology
        with typer.progressbar(length=quads, label="writing release", file=sys.stderr) as bar:
            write_release(store, outdir, settings, bar.update)
    except FilmgraphError as error:
        raise _fail(error) from error
    typer.echo(f"release written to {outdir} (verify with: cd {outdir} && sha256sum -c SHA256SUMS)", err=True)


if __name__ == "__main__":
    app()

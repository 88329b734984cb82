"""The command line: thin commands over the library modules (build, store, api, export)."""

from __future__ import annotations

import typer

app = typer.Typer(help="filmgraph: a knowledge graph of film diplomacy.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """filmgraph: build, query, serve and export the film-diplomacy graph."""


if __name__ == "__main__":
    app()

"""The ``iocflow`` command line: a thin layer over the library, one module per group of commands."""

from __future__ import annotations

import typer

from iocflow import __version__
from iocflow.cli import api, export, extract, store

app = typer.Typer(help="iocflow: extract, collect, serve and share indicators of compromise.", no_args_is_help=True)
app.command("extract")(extract.extract_command)
store.register(app)
api.register(app)
export.register(app)


@app.command()
def version() -> None:
    """Print iocflow's version."""
    typer.echo(__version__)


def main() -> None:  # pragma: no cover - console entry point
    app()

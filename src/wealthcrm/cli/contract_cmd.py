"""`wealthcrm contract`: print the data contract (what every file must contain)."""

from __future__ import annotations

import typer
from rich.markdown import Markdown

from wealthcrm.cli.common import console, fail
from wealthcrm.ingest.contract import BY_NAME
from wealthcrm.ingest.contract_doc import render_all, render_file


def register(app: typer.Typer) -> None:
    @app.command("contract")
    def contract(
        file: str | None = typer.Argument(None, help="One file, e.g. customers; default: all files."),
        markdown: bool = typer.Option(False, "--markdown", help="Print raw Markdown."),
    ) -> None:
        """Show the columns, types, keys and checks of the data-contract files.

        Example: wealthcrm contract aum_monthly
        """
        if file is not None and file not in BY_NAME:
            fail(f"no contract file {file!r}; files: {', '.join(BY_NAME)}")
        text = render_file(BY_NAME[file]) if file else render_all()
        if markdown:
            typer.echo(text)
        else:
            console.print(Markdown(text))

"""The `wealthcrm` command line: set-up, imports, tiers, users. Thin: it parses, calls services, prints."""

from __future__ import annotations

from pathlib import Path

import typer

from wealthcrm import __version__
from wealthcrm.cli import (
    audit_cmd,
    config_cmd,
    contract_cmd,
    db_cmd,
    import_cmd,
    model_cmd,
    nightly_cmd,
    report_cmd,
    scorecard_cmd,
    serve_cmd,
    service_cmd,
    simulate_cmd,
    survey_cmd,
    tiers_cmd,
    user_cmd,
)
from wealthcrm.cli.common import State

app = typer.Typer(
    name="wealthcrm",
    help="wealthcrm: churn early warning and relationship management for a bank branch's RMs.\n\n"
    "Example: wealthcrm db upgrade && wealthcrm import ./extract/",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wealthcrm {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None,
        "--database",
        envvar="WEALTHCRM_DATABASE_URL",
        help="SQLAlchemy database URL; default: a SQLite file in the user data directory.",
        show_envvar=True,
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", help="Settings file (TOML); default: ./wealthcrm.toml if present."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Global options apply to every command."""
    ctx.obj = State(database=database, settings_file=settings_file)


config_cmd.register(app)
db_cmd.register(app)
import_cmd.register(app)
contract_cmd.register(app)
tiers_cmd.register(app)
simulate_cmd.register(app)
serve_cmd.register(app)
model_cmd.register(app)
nightly_cmd.register(app)
user_cmd.register(app)
audit_cmd.register(app)
survey_cmd.register(app)
service_cmd.register(app)
scorecard_cmd.register(app)
report_cmd.register(app)


if __name__ == "__main__":
    app()

"""`wealthcrm db`: create and migrate the database schema."""

from __future__ import annotations

import typer

from wealthcrm import schema
from wealthcrm.cli.common import console, state


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    def upgrade(ctx: typer.Context, revision: str = typer.Option("head", help="Target revision.")) -> None:
        """Create the tables or migrate them to the newest revision (safe to run again).

        Example: wealthcrm --database postgresql://bank@db/crm db upgrade
        """
        st = state(ctx)
        schema.upgrade(st.engine, revision)
        revision_now = schema.current_revision(st.engine)
        console.print(f"database {st.settings.effective_database_url} is at revision {revision_now}")

    @db_app.command("current")
    def current(ctx: typer.Context) -> None:
        """Print the database's schema revision and the newest one.

        Example: wealthcrm db current
        """
        st = state(ctx)
        console.print(f"current: {schema.current_revision(st.engine)}  head: {schema.head_revision()}")

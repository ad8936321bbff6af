"""`wealthcrm user`: manage login accounts."""

from __future__ import annotations

import typer

from wealthcrm.cli.common import console, fail, state
from wealthcrm.db import session_scope
from wealthcrm.errors import DomainError
from wealthcrm.users import service
from wealthcrm.vocab import Role


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(help="Login accounts.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("add")
    def add(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="Login name, e.g. rm01."),
        role: Role = typer.Option(..., "--role", help="Role of the user."),
        staff_id: str | None = typer.Option(
            None, "--staff-id", help="Staff member (required for rm and team_lead)."
        ),
        password: str | None = typer.Option(
            None, "--password", envvar="WEALTHCRM_NEW_PASSWORD", help="Password; asked for when not given."
        ),
    ) -> None:
        """Add a user who can log in.

        Example: wealthcrm user add rm01 --role rm --staff-id S0001
        """
        engine = state(ctx).ready_engine()
        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        try:
            with session_scope(engine) as session:
                user = service.create(
                    session, username=username, password=password, role=role, staff_id=staff_id
                )
                console.print(f"added user {user.username} ({user.role.value})")
        except DomainError as exc:
            fail(str(exc))

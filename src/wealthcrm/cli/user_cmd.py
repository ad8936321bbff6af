"""`wealthcrm user`: manage login accounts. Every change is written to the audit log as done by
``cli:<operating-system user>`` with the role ``admin``."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from wealthcrm.cli.common import JsonOption, console, fail, print_json, state
from wealthcrm.db import session_scope
from wealthcrm.errors import DomainError
from wealthcrm.users import service
from wealthcrm.users.models import User
from wealthcrm.vocab import Role


@dataclass(frozen=True, slots=True)
class CliActor:
    """Who acts from the command line, for the audit log: whoever can run it administers the system."""

    username: str
    role: Role = Role.admin


def cli_actor() -> CliActor:
    try:
        who = getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        who = "unknown"
    return CliActor(f"cli:{who}"[:64])


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(help="Login accounts.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    def change(ctx: typer.Context, action: Callable[[Session], User], done: str) -> None:
        engine = state(ctx).ready_engine()
        try:
            with session_scope(engine) as session:
                user = action(session)
                console.print(
                    done.format(user=user.username, role=user.role.value), soft_wrap=True, highlight=False
                )
        except DomainError as exc:
            fail(str(exc))

    def ask_password(password: str | None) -> str:
        if password is None:
            return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
        return password

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
        state(ctx).ready_engine()
        secret = ask_password(password)
        change(
            ctx,
            lambda s: service.add(
                s, actor=cli_actor(), username=username, password=secret, role=role, staff_id=staff_id
            ),
            "added user {user} ({role})",
        )

    @user_app.command("list")
    def list_(
        ctx: typer.Context,
        role: Role | None = typer.Option(None, "--role", help="Only users of this role."),
        as_json: bool = JsonOption,
    ) -> None:
        """List the users: role, staff member, active, locked.

        Example: wealthcrm user list --role rm --json
        """
        engine = state(ctx).ready_engine()
        with session_scope(engine) as session:
            rows: list[dict[str, Any]] = [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role.value,
                    "staff_id": u.staff_id,
                    "active": u.is_active,
                    "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                }
                for u in service.list_users(session, role=role)
            ]
        if as_json:
            print_json(rows)
            return
        table = Table("user", "name", "role", "staff", "active", "locked until (UTC)")
        for r in rows:
            table.add_row(
                str(r["username"]),
                str(r["display_name"] or ""),
                str(r["role"]),
                str(r["staff_id"] or ""),
                "yes" if r["active"] else "no",
                str(r["locked_until"] or ""),
            )
        console.print(table)

    @user_app.command("set-role")
    def set_role(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="Login name."),
        role: Role = typer.Option(..., "--role", help="The new role."),
        staff_id: str | None = typer.Option(
            None, "--staff-id", help="Staff member (required for rm and team_lead); none unlinks."
        ),
    ) -> None:
        """Change a user's role and staff link.

        Example: wealthcrm user set-role rm01 --role team_lead --staff-id S0002
        """
        change(
            ctx,
            lambda s: service.set_role(s, actor=cli_actor(), username=username, role=role, staff_id=staff_id),
            "{user} is now {role}",
        )

    @user_app.command("deactivate")
    def deactivate(ctx: typer.Context, username: str = typer.Argument(..., help="Login name.")) -> None:
        """Stop a user from logging in and revoke their API tokens (the account and its history stay).

        Example: wealthcrm user deactivate rm07
        """
        change(
            ctx,
            lambda s: service.set_active(s, actor=cli_actor(), username=username, active=False),
            "deactivated {user}",
        )

    @user_app.command("activate")
    def activate(ctx: typer.Context, username: str = typer.Argument(..., help="Login name.")) -> None:
        """Let a deactivated user log in again.

        Example: wealthcrm user activate rm07
        """
        change(
            ctx,
            lambda s: service.set_active(s, actor=cli_actor(), username=username, active=True),
            "activated {user}",
        )

    @user_app.command("reset-password")
    def reset_password(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="Login name."),
        password: str | None = typer.Option(
            None,
            "--password",
            envvar="WEALTHCRM_NEW_PASSWORD",
            help="New password; asked for when not given.",
        ),
    ) -> None:
        """Set a new password, end any lockout and revoke the user's API tokens.

        Example: wealthcrm user reset-password rm01
        """
        state(ctx).ready_engine()
        secret = ask_password(password)
        change(
            ctx,
            lambda s: service.reset_password(s, actor=cli_actor(), username=username, password=secret),
            "new password set for {user}",
        )

    @user_app.command("unlock")
    def unlock(ctx: typer.Context, username: str = typer.Argument(..., help="Login name.")) -> None:
        """End a lockout after too many wrong passwords.

        Example: wealthcrm user unlock rm01
        """
        change(ctx, lambda s: service.unlock(s, actor=cli_actor(), username=username), "unlocked {user}")

"""The command tree, for the docs test and `wealthcrm --help` consumers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer


def iter_commands(app: typer.Typer) -> Iterator[tuple[str, Any]]:
    """Every leaf command as ("db upgrade", click command)."""
    root = typer.main.get_command(app)

    def walk(command: Any, path: list[str], ctx: Any) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                yield from walk(sub, [*path, name], type(ctx)(sub, parent=ctx, info_name=name))
        else:
            yield " ".join(path), command

    yield from walk(root, [], typer.Context(root, info_name="wealthcrm"))

"""What every command shares: settings and database from the global options, output, errors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine

from wealthcrm.config import Settings, load_settings
from wealthcrm.db import make_engine

console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    database: str | None = None
    settings_file: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides: dict[str, Any] = {"database_url": self.database} if self.database else {}
            try:
                self._settings = load_settings(self.settings_file, **overrides)
            except (FileNotFoundError, ValueError) as exc:
                fail(f"settings: {exc}")
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.effective_database_url)
        return self._engine

    def ready_engine(self) -> Engine:
        """The engine, after checking the schema is current (so commands fail with advice, not SQL errors)."""
        from wealthcrm import schema

        engine = self.engine
        current, head = schema.current_revision(engine), schema.head_revision()
        if current != head:
            where = self.settings.effective_database_url
            if current is None:
                fail(f"the database at {where} is not set up: run `wealthcrm db upgrade` first")
            fail(f"the database at {where} is at revision {current}, not {head}: run `wealthcrm db upgrade`")
        return engine


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):
        obj = State()
        ctx.find_root().obj = obj
    return obj


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables.")

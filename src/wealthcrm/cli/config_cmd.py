"""`wealthcrm config`: show the effective settings."""

from __future__ import annotations

import typer
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, print_json, state
from wealthcrm.config import find_settings_file, iter_setting_fields


def _flatten(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Settings.", no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("show")
    def show(ctx: typer.Context, as_json: bool = JsonOption) -> None:
        """Print every setting in force, its value and where defaults were overridden.

        Example: wealthcrm config show --json
        """
        st = state(ctx)
        settings = st.settings
        effective = _flatten(settings.model_dump(mode="json"))
        effective["database_url"] = settings.effective_database_url
        if settings.field_key is not None:
            effective["field_key"] = "********"
        if as_json:
            print_json(
                {"settings_file": str(find_settings_file(st.settings_file) or ""), "settings": effective}
            )
            return
        source = find_settings_file(st.settings_file)
        console.print(f"settings file: {source or '(none: defaults and environment)'}")
        table = Table("setting", "value", "default", "meaning")
        for name, default, description in iter_setting_fields():
            value = effective.get(name)
            changed = "" if str(value) == str(default) or name in ("database_url", "data_dir") else " *"
            table.add_row(name, f"{value}{changed}", str(default), description)
        console.print(table)

"""The data contract rendered as Markdown: the tables of docs/data-contract.md and `wealthcrm contract`."""

from __future__ import annotations

from wealthcrm.ingest.contract import FILES, Column, FileSpec

_TYPE_TEXT = {
    "str": "text",
    "int": "whole number",
    "money": "amount (CNY, 2 decimals; `1,234.50` accepted)",
    "date": "date `YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYYMMDD`)",
    "month": "month `YYYY-MM` (also `YYYYMM`)",
    "datetime": "date-time `YYYY-MM-DD HH:MM[:SS]`",
    "bool": "yes/no: `1`/`0` (also true/false, y/n, 是/否)",
    "enum": "one of the allowed values",
    "national_id": "18-character resident ID",
    "mobile": "mobile number",
}


def _rules(col: Column) -> str:
    parts: list[str] = []
    if col.allowed:
        parts.append("allowed: " + ", ".join(f"`{a}`" for a in col.allowed))
    if col.ref:
        parts.append(f"must exist in `{col.ref[0]}.{col.ref[1]}`")
    if col.min_value is not None:
        parts.append(f"> {col.min_value:g}" if col.min_exclusive else f"≥ {col.min_value:g}")
    if col.max_value is not None:
        parts.append(f"≤ {col.max_value:g}")
    if col.max_length:
        parts.append(f"at most {col.max_length} characters")
    if col.type == "datetime":
        parts.append("local time, stored in UTC" if col.utc else "local time, stored as written")
    if col.not_future:
        parts.append("not after today")
    if col.default is not None:
        parts.append(f"default `{col.default}` for new rows when the column is absent")
    return "; ".join(parts)


def render_file(spec: FileSpec) -> str:
    lines = [
        f"### `{spec.name}`",
        "",
        spec.description,
        "",
        f"Table `{spec.table}`; key: {', '.join(f'`{k}`' for k in spec.key)}.",
        "",
        "| column | type | required | meaning | rules |",
        "|---|---|---|---|---|",
    ]
    for col in spec.columns:
        req = "yes" if col.required else "no"
        lines.append(f"| `{col.name}` | {_TYPE_TEXT[col.type]} | {req} | {col.description} | {_rules(col)} |")
    if spec.checks:
        lines += ["", "Checks across columns:", ""]
        lines += [f"- {check}" for check in spec.checks]
    return "\n".join(lines) + "\n"


def render_all() -> str:
    return "\n".join(render_file(spec) for spec in FILES)

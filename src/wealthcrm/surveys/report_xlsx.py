"""The report's tables as an XLSX workbook (openpyxl): a cover sheet, then one worksheet per section.

Each table is written as its title (bold), a header row in the report's language and its rows, with
numbers stored as numbers (unrounded) and shown with the report's number formats; the section's
sentences (the "what to do" list, the notes) are written as text. Reading a table back: find its
title in column A, the header is the next row, the rows follow until a blank row.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from wealthcrm.surveys.report import Kind, Report, Table, missing_value

NUMBER_FORMATS: dict[Kind, str] = {
    "text": "@",
    "int": "#,##0",
    "num1": "0.0",
    "num2": "0.00",
    "num3": "0.000",
    "p": '[<0.001]"<0.001";0.000',
    "pct": "0.0%",
    "signed1": "+0.0;-0.0;0.0",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
_MAX_WIDTH = 60
_HEADER_FILL = PatternFill("solid", fgColor="EEF2F6")
_FLAG_FILL = PatternFill("solid", fgColor="FFFAEB")
_RULE = Border(bottom=Side(style="thin", color="1D2939"))


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique worksheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub(" ", title).strip()[:_SHEET_NAME_MAX] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: _SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def _width(value: Any) -> int:
    """Display width of a cell: CJK characters count double."""
    text = str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _cell_value(value: Any) -> Any:
    return None if missing_value(value) else value


def _write_table(ws: Worksheet, row: int, table: Table, widths: dict[int, int]) -> int:
    ws.cell(row, 1, table.title).font = Font(bold=True)
    row += 1
    for j, column in enumerate(table.columns, start=1):
        cell = ws.cell(row, j, column.label)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _RULE
        cell.alignment = Alignment(horizontal="left" if column.kind == "text" else "right", wrap_text=True)
        widths[j] = max(widths.get(j, 0), min(_width(column.label), 24))
    for r, values in enumerate(table.rows):
        row += 1
        flagged = table.mark(r, -1) == "flag"
        for j, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            cell = ws.cell(row, j, _cell_value(value))
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                cell.number_format = NUMBER_FORMATS[column.kind]
            if flagged or table.mark(r, j - 1) == "flag":
                cell.fill = _FLAG_FILL
            if table.mark(r, j - 1) == "strong" or table.mark(r, -1) == "strong":
                cell.font = Font(bold=True)
            if value is not None:
                widths[j] = max(
                    widths.get(j, 0), min(_width(value) if isinstance(value, str) else 8, _MAX_WIDTH)
                )
    for note in table.notes:
        row += 1
        ws.cell(row, 1, note).font = Font(italic=True, color="667085")
    return row + 2


def build_workbook(report: Report) -> Workbook:
    wb = Workbook()
    cover = wb.active
    assert cover is not None  # a new workbook has its first sheet
    taken: set[str] = set()
    cover.title = sheet_name(report.subtitle, taken)
    cover.cell(1, 1, report.title).font = Font(bold=True, size=14)
    cover.cell(2, 1, report.subtitle)
    for i, (label, value) in enumerate(report.facts, start=4):
        cover.cell(i, 1, label).font = Font(bold=True)
        cover.cell(i, 2, value)
    cover.column_dimensions["A"].width = 28
    cover.column_dimensions["B"].width = 40
    for section in report.sections:
        ws = wb.create_sheet(sheet_name(section.title, taken))
        ws.cell(1, 1, section.title).font = Font(bold=True, size=13)
        row = 3
        for text in [*section.paragraphs, *(f"• {b}" for b in section.bullets)]:
            ws.cell(row, 1, text).alignment = Alignment(wrap_text=False)
            row += 1
        if section.paragraphs or section.bullets:
            row += 1
        widths: dict[int, int] = {}
        for table in section.tables:
            if table.rows:
                row = _write_table(ws, row, table, widths)
        for j, width in widths.items():
            ws.column_dimensions[get_column_letter(j)].width = max(width + 2, 8)
    return wb


def write_xlsx(report: Report, target: str | Path | IO[bytes]) -> None:
    """Write the workbook to a path or a binary stream."""
    build_workbook(report).save(target)


def xlsx_bytes(report: Report) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()

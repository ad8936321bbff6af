"""The report as an XLSX workbook (openpyxl): a contents sheet, then one worksheet per section.

A section's sheet holds its headline figures (label, value), then each table (its title in bold, a
header row, the rows), then the definitions. Numbers are stored as numbers — counts as integers,
amounts in CNY, shares as fractions shown as percentages — so they can be summed and charted; only
the labels are in the workbook's language.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from wealthcrm.reports import document as doc
from wealthcrm.reports.i18n import Translator, say

FORMATS: dict[doc.Kind, str] = {
    "label": "@",
    "text": "@",
    "int": "#,##0",
    "cny": "#,##0.00",
    "pct": "0.0%",
    "num1": "0.0",
    "num2": "0.00",
}
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14, color="14284B")
HEAD = Font(bold=True, color="667085")
HEAD_FILL = PatternFill("solid", fgColor="EEF2F6")
_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(number: int, title: str) -> str:
    return f"{number} {_BAD.sub(' ', title)}"[:31]


def _value(value: Any, kind: doc.Kind, tr: Translator) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if kind == "label":
        return tr(str(value))
    if kind == "text":
        return str(value)
    if kind == "int":
        return int(value)
    return float(value)


def _write_row(ws: Any, row: int, values: list[Any], kinds: list[doc.Kind]) -> None:
    for col, (value, kind) in enumerate(zip(values, kinds, strict=True), start=1):
        cell = ws.cell(row=row, column=col, value=value)
        cell.number_format = FORMATS[kind]


def _section_sheet(ws: Any, section: doc.Section, number: int, tr: Translator) -> None:
    ws.cell(row=1, column=1, value=f"{number}. {tr(section.title)}").font = TITLE
    row = 3
    for f in section.figures:
        _write_row(ws, row, [tr(f.title), _value(f.value, f.kind, tr)], ["label", f.kind])
        row += 1
    for note in section.notes:
        ws.cell(row=row, column=1, value=say(note, tr)).font = Font(italic=True, color="667085")
        row += 1
    widths: dict[int, int] = {1: 28}
    for table in section.tables:
        row += 1
        ws.cell(row=row, column=1, value=tr(table.title)).font = BOLD
        row += 1
        for col, c in enumerate(table.columns, start=1):
            cell = ws.cell(row=row, column=col, value=tr(c.title))
            cell.font, cell.fill = HEAD, HEAD_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            widths[col] = max(widths.get(col, 10), min(40, len(tr(c.title)) + 4))
        row += 1
        kinds = [c.kind for c in table.columns]
        for values in table.rows:
            _write_row(ws, row, [_value(v, k, tr) for v, k in zip(values, kinds, strict=True)], kinds)
            row += 1
    if section.definitions:
        row += 1
        for term, text in section.definitions:
            ws.cell(row=row, column=1, value=tr(term)).font = BOLD
            ws.cell(row=row, column=2, value=say(text, tr))
            row += 1
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"


def render_xlsx(report: doc.Report, tr: Translator) -> bytes:
    """The report as XLSX bytes."""
    wb = Workbook()
    contents = wb.active
    contents.title = tr("Contents")[:31]
    contents.cell(row=1, column=1, value=f"{tr(report.title)} · {report.month:%Y-%m}").font = TITLE
    contents.cell(row=2, column=1, value=tr("Generated on"))
    contents.cell(row=2, column=2, value=report.generated_on).number_format = "yyyy-mm-dd"
    contents.column_dimensions["A"].width = 36
    for number, section in enumerate(report.sections, start=1):
        name = _sheet_name(number, tr(section.title))
        contents.cell(row=3 + number, column=1, value=name)
        _section_sheet(wb.create_sheet(name), section, number, tr)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

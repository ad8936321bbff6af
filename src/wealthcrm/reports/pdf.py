"""The report as a PDF (ReportLab), in either language, with the Chinese font embedded.

**Why ReportLab.** It installs from PyPI as wheels and needs nothing from the system, so the PDF
works wherever ``pip install`` worked (WeasyPrint needs the system's Pango, which the install command
cannot bring). ReportLab's built-in CID fonts (STSong-Light) are *not* embedded, so a viewer without
that font — PDFium, a locked-down bank PC — draws no Chinese; the report therefore embeds a TrueType
font: WenQuanYi Micro Hei (Apache-2.0, from Debian's ``fonts-wqy-microhei``), cut down to the GB 2312
character set (6,763 hanzi plus Latin and punctuation, 1.3 MB; see fonts/README.md). ReportLab
embeds only the glyphs a report uses. A character outside GB 2312 (a rare name character) shows as
an empty box in the PDF; the HTML and XLSX show it.

Charts are ReportLab's own vector charts, drawn from the same :class:`~.document.Chart` data as the
HTML page's ECharts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart  # type: ignore[import-untyped]
from reportlab.graphics.charts.legends import Legend  # type: ignore[import-untyped]
from reportlab.graphics.charts.linecharts import HorizontalLineChart  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, String  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wealthcrm.reports import document as doc
from wealthcrm.reports.i18n import Translator, fmt, say

FONT = "WQYMicroHei"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei-gb2312.ttf"
NAVY = colors.HexColor("#14284b")
ACCENT = colors.HexColor("#c8962e")
MUTED = colors.HexColor("#667085")
LINE = colors.HexColor("#e4e7ec")
SHADE = colors.HexColor("#f3f5f8")
SERIES = [colors.HexColor(c) for c in ("#14284b", "#c8962e", "#2f6db5", "#1f7a4d", "#b42318")]
PAGE = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN


@cache
def register_font() -> str:
    """The embedded CJK font's name (registered once per process)."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    font = register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontSize=18, leading=24, textColor=NAVY),
        "sub": ParagraphStyle("sub", base, textColor=MUTED),
        "h2": ParagraphStyle(
            "h2", base, fontSize=13, leading=18, textColor=NAVY, spaceBefore=6, spaceAfter=4
        ),
        "h3": ParagraphStyle("h3", base, fontSize=10, leading=14, spaceBefore=4, spaceAfter=2),
        "small": ParagraphStyle("small", base, fontSize=7.5, leading=10, textColor=MUTED),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.5),
        "head": ParagraphStyle("head", base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "fig_label": ParagraphStyle("fig_label", base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "fig_value": ParagraphStyle("fig_value", base, fontSize=12, leading=15),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _figures(figures: Sequence[doc.Figure], tr: Translator, st: dict[str, ParagraphStyle]) -> Table:
    per_row = 6
    cells: list[list[Any]] = []
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for i in range(0, len(figures), per_row):
        chunk = figures[i : i + per_row]
        row = len(cells)
        cells.append(
            [
                [
                    Paragraph(_esc(tr(f.title)), st["fig_label"]),
                    Paragraph(_esc(fmt(f.value, f.kind, tr)), st["fig_value"]),
                ]
                for f in chunk
            ]
            + [""] * (per_row - len(chunk))
        )
        last = len(chunk) - 1
        style += [
            ("BACKGROUND", (0, row), (last, row), SHADE),
            ("LINEBEFORE", (0, row), (last, row), 3, NAVY),
        ]
    table = Table(cells, colWidths=[WIDTH / per_row] * per_row, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _table(table: doc.Table, tr: Translator, st: dict[str, ParagraphStyle]) -> Table:
    numeric = [c.kind not in ("label", "text") for c in table.columns]
    right = ParagraphStyle("right", st["cell"], alignment=2)
    head_right = ParagraphStyle("head_right", st["head"], alignment=2)
    rows: list[list[Any]] = [
        [
            Paragraph(_esc(tr(c.title)), head_right if n else st["head"])
            for c, n in zip(table.columns, numeric, strict=True)
        ]
    ]
    for row in table.rows:
        rows.append(
            [
                Paragraph(_esc(fmt(v, c.kind, tr)), right if n else st["cell"])
                for c, v, n in zip(table.columns, row, numeric, strict=True)
            ]
        )
    wide = len(table.columns) > 8
    first = 30 * mm if wide else min(48 * mm, WIDTH * 0.3)
    texts = [16 * mm if wide else 32 * mm for c in table.columns[1:] if c.kind in ("label", "text")]
    numbers = len(table.columns) - 1 - len(texts)
    rest = (WIDTH - first - sum(texts)) / max(1, numbers)
    widths = [first] + [
        (16 * mm if wide else 32 * mm) if c.kind in ("label", "text") else min(rest, 32 * mm)
        for c in table.columns[1:]
    ]
    out = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    out.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, LINE),
                ("BACKGROUND", (0, 0), (-1, 0), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return out


def _axis_label(unit: doc.Kind, tr: Translator) -> Any:
    def label(value: float) -> str:
        if unit == "pct":
            return f"{value:.0f}%"
        if unit in ("num1", "num2"):
            return f"{value:,.1f}"
        return f"{value:,.0f}"

    return label


def _chart(chart: doc.Chart, tr: Translator) -> Drawing:
    font = register_font()
    width, height = WIDTH / 2 - 6 * mm, 62 * mm
    drawing = Drawing(width, height)
    scale, unit_note = 1.0, ""
    if chart.unit == "pct":
        scale = 100.0
    elif chart.unit == "cny":
        scale, unit_note = (1e-4, "万元") if tr.lang == "zh_CN" else (1e-6, "CNY m")
    data = [tuple(0.0 if v is None else float(v) * scale for v in s.values) for s in chart.series]
    names = [tr(c) if chart.categories_kind == "label" else c for c in chart.categories]
    plot: Any = HorizontalLineChart() if chart.kind == "line" else VerticalBarChart()
    plot.x, plot.y = 40, 28
    plot.width, plot.height = width - 56, height - 48
    plot.data = data or [(0.0,)]
    plot.categoryAxis.categoryNames = names
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 7
    plot.categoryAxis.labelAxisMode = "low"  # below the plot, also when bars go negative
    if len(names) > 8:
        plot.categoryAxis.labels.angle = 30
        plot.categoryAxis.labels.boxAnchor = "ne"
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.labels.fontSize = 7
    if all(v >= 0 for row in data for v in row):
        plot.valueAxis.valueMin = 0
    plot.valueAxis.labelTextFormat = _axis_label(chart.unit, tr)
    plot.valueAxis.gridStrokeColor = LINE
    plot.valueAxis.visibleGrid = True
    for i in range(len(data)):
        if chart.kind == "line":
            plot.lines[i].strokeColor = SERIES[i % len(SERIES)]
            plot.lines[i].strokeWidth = 1.6
        else:
            plot.bars[i].fillColor = SERIES[i % len(SERIES)]
            plot.bars[i].strokeColor = None
    if chart.kind == "stack":
        plot.categoryAxis.style = "stacked"
    drawing.add(plot)
    drawing.add(String(0, height - 10, tr(chart.title), fontName=font, fontSize=9, fillColor=NAVY))
    if unit_note:
        drawing.add(String(0, height - 20, unit_note, fontName=font, fontSize=7, fillColor=MUTED))
    if len(data) > 1:
        legend = Legend()
        legend.x, legend.y = width - 150, height - 6
        legend.fontName, legend.fontSize = font, 7
        legend.colorNamePairs = [(SERIES[i % len(SERIES)], tr(s.name)) for i, s in enumerate(chart.series)]
        legend.columnMaximum = 1
        legend.alignment = "right"
        legend.dx = legend.dy = 6
        legend.deltay = 8
        drawing.add(legend)
    return drawing


def _section(section: doc.Section, number: int, tr: Translator, st: dict[str, ParagraphStyle]) -> list[Any]:
    head: list[Any] = [Paragraph(f"{number}. {_esc(tr(section.title))}", st["h2"])]
    if section.figures:
        head += [_figures(section.figures, tr, st), Spacer(1, 3 * mm)]
    story: list[Any] = [CondPageBreak(70 * mm), KeepTogether(head)]
    story += [Paragraph(_esc(say(n, tr)), st["small"]) for n in section.notes]
    charts = [_chart(c, tr) for c in section.charts]
    for i in range(0, len(charts), 2):
        pair = charts[i : i + 2]
        grid = Table([pair + [""] * (2 - len(pair))], colWidths=[WIDTH / 2] * 2, hAlign="LEFT")
        story += [grid, Spacer(1, 2 * mm)]
    for table in section.tables:
        story.append(KeepTogether([Paragraph(_esc(tr(table.title)), st["h3"]), _table(table, tr, st)]))
    if section.definitions:
        story.append(Spacer(1, 2 * mm))
        story += [
            Paragraph(f"<b>{_esc(tr(term))}</b>: {_esc(say(text, tr))}", st["small"])
            for term, text in section.definitions
        ]
    story.append(Spacer(1, 5 * mm))
    return story


def render_pdf(report: doc.Report, tr: Translator) -> bytes:
    """The report as PDF bytes (A4 landscape)."""
    st = _styles()
    title = f"{tr(report.title)} · {report.month:%Y-%m}"
    buffer = io.BytesIO()

    def footer(canvas: Any, page: Any) -> None:
        canvas.saveState()
        canvas.setFont(register_font(), 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 8 * mm, f"wealthcrm · {title}")
        canvas.drawRightString(PAGE[0] - MARGIN, 8 * mm, f"{page.page}")
        canvas.setStrokeColor(ACCENT)
        canvas.line(MARGIN, PAGE[1] - MARGIN + 4 * mm, PAGE[0] - MARGIN, PAGE[1] - MARGIN + 4 * mm)
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="wealthcrm",
        lang=tr.html_lang,
    )
    story: list[Any] = [
        Paragraph(_esc(title), st["title"]),
        Paragraph(_esc(f"{tr('Generated on')} {report.generated_on.isoformat()}"), st["sub"]),
        Spacer(1, 4 * mm),
    ]
    for number, section in enumerate(report.sections, start=1):
        story += _section(section, number, tr, st)
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

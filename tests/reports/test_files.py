"""The report's files open: the PDF renders to PNG pages that are not blank (PDFium) with the Chinese
font embedded, the XLSX reads back with numbers as numbers, the HTML is one self-contained file; and
every word the report shows has its Chinese translation."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from openpyxl import load_workbook
from sqlalchemy import Engine, create_engine

from wealthcrm import schema
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.reports import monthly
from wealthcrm.reports.document import Label, Report, Text
from wealthcrm.reports.files import write_files
from wealthcrm.reports.html import render_standalone
from wealthcrm.reports.i18n import Translator, translator
from wealthcrm.reports.pdf import FONT_FILE, render_pdf
from wealthcrm.reports.xlsx import render_xlsx

from .data import OCT, SEP, load_report_branch


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Report]:
    """The hand-made branch's report of 2026-10 (on SQLite: the files do not depend on the database)."""
    engine: Engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'r.db'}")
    schema.upgrade(engine)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with session_scope(engine) as session:
        load_report_branch(session)
        yield monthly.build(session, month=OCT, settings=settings, today=date(2026, 11, 2))
    engine.dispose()


def _pages(pdf: bytes) -> list[tuple[int, int, float, str]]:
    """Per page: width, height (px at 1×), the share of non-white pixels, and the page's text."""
    doc = pdfium.PdfDocument(pdf)
    out = []
    try:
        for page in doc:
            image = page.render(scale=1).to_pil().convert("L")
            inked = float((np.asarray(image) < 200).mean())
            text = page.get_textpage().get_text_range()
            out.append((image.width, image.height, inked, text))
    finally:
        doc.close()
    return out


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_pdf_renders_to_pages_that_are_not_blank(report: Report, lang: str, tmp_path: Path) -> None:
    tr = translator(lang)  # type: ignore[arg-type]
    pdf = render_pdf(report, tr)
    assert pdf.startswith(b"%PDF-")
    pages = _pages(pdf)
    assert len(pages) >= 3
    assert all(w > h for w, h, _, _ in pages)  # A4 landscape
    assert all(inked > 0.01 for _, _, inked, _ in pages), [p[2] for p in pages]
    text = "".join(p[3] for p in pages)
    words = ("经营月报", "各层级客户与资产", "流失预警成效", "客户经理记分卡", "王经理")
    english = ("Monthly management report", "Early-warning effectiveness", "RM scorecards", "王经理")
    for word in words if lang == "zh_CN" else english:
        assert word in text, word
    assert b"/FontFile2" in pdf  # the TrueType font is embedded, not a CID font the viewer must have
    if lang == "zh_CN":  # save one page to look at
        doc = pdfium.PdfDocument(pdf)
        doc[0].render(scale=1.5).to_pil().save(tmp_path / "page1.png")
        doc.close()


def test_the_font_has_a_glyph_for_every_character_shown(report: Report) -> None:
    """A character missing from the embedded subset would print as an empty box: none is missing."""
    cmap = TTFont(FONT_FILE).getBestCmap()
    text = "".join(p[3] for p in _pages(render_pdf(report, translator("zh_CN"))))
    missing = sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})
    assert missing == []


def _figures(sheet: Any) -> dict[str, Any]:
    """The headline figures at the top of a section's sheet: label → value, down to the first gap."""
    out = {}
    for label, value in sheet.iter_rows(min_row=3, max_col=2, values_only=True):
        if label is None:
            break
        out[label] = value
    return out


def test_the_xlsx_reads_back_with_numbers(report: Report) -> None:
    data = render_xlsx(report, translator("en"))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [
        "Contents",
        "1 Customers and AUM by tier",
        "2 Tier migration",
        "3 Losses and saves",
        "4 Early-warning effectiveness",
        "5 Service",
        "6 Surveys",
        "7 RM scorecards",
    ]
    tiers = wb["1 Customers and AUM by tier"]
    values = _figures(tiers)
    assert values["Customers"] == 8 and isinstance(values["Customers"], int)
    assert values["AUM"] == 21_030_000
    header = next(r for r in tiers.iter_rows(values_only=True) if r[0] == "Tier")
    assert header == ("Tier", "Customers", "Share of customers", "AUM", "Share of AUM")
    rows = list(tiers.iter_rows(values_only=True))
    start = rows.index(header) + 1
    table = {r[0]: r[1:5] for r in rows[start : start + 6]}
    assert table["Sunflower"] == (4, 0.5, 2_900_000, pytest.approx(2.9 / 21.03))
    assert table["Total"] == (8, 1, 21_030_000, 1)
    cell = next(c for c in tiers["D"] if c.value == 2_900_000)
    assert cell.number_format == "#,##0.00"
    service = wb["5 Service"]
    figures = _figures(service)
    assert figures["Resolved within SLA"] == 0.5
    assert figures["Mean rating"] == pytest.approx(11 / 3)
    zh = load_workbook(io.BytesIO(render_xlsx(report, translator("zh_CN"))))
    assert zh.sheetnames[1] == "1 各层级客户与资产"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_html_is_one_self_contained_file(report: Report, lang: str) -> None:
    html = render_standalone(report, translator(lang))  # type: ignore[arg-type]
    assert html.startswith("<!doctype html>")
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html), "everything must be inlined"
    assert "echarts" in html and 'id="report-charts"' in html
    assert html.count('class="mr-chart"') == 6  # tiers 2, trend, lead time, SLA, scorecards
    assert ("经营月报" if lang == "zh_CN" else "Monthly management report") in html


def test_write_files_per_language(report: Report, tmp_path: Path) -> None:
    written = write_files(report, tmp_path, ["zh_CN", "en"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "en/report.html", "en/report.pdf", "en/report.xlsx",
        "zh_CN/report.html", "zh_CN/report.pdf", "zh_CN/report.xlsx",
    ]  # fmt: skip
    assert all(p.stat().st_size > 1000 for p in written)


def _msgids(report: Report) -> set[str]:
    ids = {report.title, "Generated on", "Contents"}

    def text(t: Text) -> None:
        ids.add(t.msgid)
        ids.update(v.msgid for v in t.params.values() if isinstance(v, Label))

    for s in report.sections:
        ids.add(s.title)
        ids.update(f.title for f in s.figures)
        for t in s.tables:
            ids.add(t.title)
            ids.update(c.title for c in t.columns)
            for row in t.rows:
                ids.update(str(v) for c, v in zip(t.columns, row, strict=True) if c.kind == "label" and v)
        for c in s.charts:
            ids.add(c.title)
            ids.update(x.name for x in c.series)
            if c.categories_kind == "label":
                ids.update(c.categories)
        for term, t in s.definitions:
            ids.add(term)
            text(t)
        for n in s.notes:
            text(n)
    return ids


def test_every_word_of_the_report_is_translated(
    report: Report, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'empty.db'}")
    schema.upgrade(engine)
    with session_scope(engine) as session:
        load_report_branch(session)
        # September: no scorecards stored; a month without survey answers, first month notes
        others = [monthly.build(session, month=m, settings=Settings()) for m in (SEP, date(2026, 7, 1))]
    engine.dispose()
    zh = translator("zh_CN")
    wanted = set().union(*(_msgids(r) for r in (report, *others)))
    missing = sorted(m for m in wanted if zh(m) == m)
    assert missing == []
    catalog = {k for k in zh.messages if not k.startswith("metric")}
    assert sorted(catalog - wanted - OPTIONAL) == [], "unused msgids in reports.po"
    assert Translator("en")("metric:saves") == "Saves"
    assert zh("metric-def:saves").startswith("当月")


#: notes only some databases produce (no nightly results, no answers stored at all)
OPTIONAL = {
    "No nightly results for this month yet: run the nightly batch for it.",
    "No survey answers are stored yet.",
}

"""The report's files: ``report.html``, ``report.pdf`` and ``report.xlsx`` in one folder per language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from wealthcrm.reports.document import Report
from wealthcrm.reports.html import render_standalone
from wealthcrm.reports.i18n import Lang, Translator, translator
from wealthcrm.reports.pdf import render_pdf
from wealthcrm.reports.xlsx import render_xlsx

FORMATS = ("html", "pdf", "xlsx")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(report: Report, tr: Translator, fmt: str) -> bytes:
    """One file's bytes: ``fmt`` is html, pdf or xlsx."""
    renderers: dict[str, Callable[[Report, Translator], bytes]] = {
        "html": lambda r, t: render_standalone(r, t).encode("utf-8"),
        "pdf": render_pdf,
        "xlsx": render_xlsx,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt](report, tr)


def write_files(report: Report, out: Path, langs: Sequence[Lang]) -> list[Path]:
    """Write ``<out>/<lang>/report.html``, ``.pdf`` and ``.xlsx`` for each language; the paths written."""
    written = []
    for lang in langs:
        tr = translator(lang)
        folder = out / lang
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            path = folder / f"report.{fmt}"
            path.write_bytes(render(report, tr, fmt))
            written.append(path)
    return written

"""The report as HTML: one body (:func:`render_body`) shared by the standalone file and the web page.

The standalone file (:func:`render_standalone`) inlines the report's CSS, the vendored ECharts and
the report's chart script, so it opens offline from a disk or an e-mail with every chart drawn. The web
page links the same CSS and script instead (its Content-Security-Policy forbids inline script).
"""

from __future__ import annotations

import base64
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from fontTools import subset  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from wealthcrm.reports.document import Kind, Report, Text
from wealthcrm.reports.i18n import Translator, chart_dict, fmt, say
from wealthcrm.reports.pdf import FONT_FILE

TEMPLATES = Path(__file__).parent / "templates"
#: the vendored ECharts the web app serves (a file read, not an import: the report needs no web stack)
ECHARTS = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "echarts.min.js"
CSS = TEMPLATES / "report.css"
JS = TEMPLATES / "report.js"


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=False
    )
    env.globals["zip"] = zip
    return env


def chart_payload(report: Report, tr: Translator) -> dict[str, Any]:
    """What report.js draws: every chart of the report with its words in ``tr``'s language."""
    return {"lang": tr.lang, "charts": [chart_dict(c, tr) for s in report.sections for c in s.charts]}


def chart_json(report: Report, tr: Translator) -> Markup:
    """:func:`chart_payload` as JSON safe inside ``<script type="application/json">``."""
    text = json.dumps(chart_payload(report, tr), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render_body(report: Report, tr: Translator) -> Markup:
    """The report's sections as HTML (no script, no style)."""

    def _fmt(value: Any, kind: Kind) -> str:
        return fmt(value, kind, tr)

    def _say(text: Text) -> str:
        return say(text, tr)

    body = _env().get_template("monthly_body.html").render(report=report, tr=tr, fmt=_fmt, say=_say)
    return Markup(body)


#: the embedded font's family (first in report.css's list; it holds only characters beyond ASCII)
FONT_FAMILY = "WealthcrmCJK"


def font_face(text: str) -> str:
    """A CSS ``@font-face`` carrying the vendored CJK font cut down to the characters of ``text``
    beyond ASCII (a few hundred glyphs, tens of kB): the file shows Chinese on a computer without a
    Chinese font too, page and charts alike."""
    wanted = {ord(ch) for ch in text if ord(ch) > 0x7F}
    if not wanted:
        return ""
    options = subset.Options()
    options.hinting = False
    options.drop_tables += ["FFTM"]
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=wanted)
    font = subset.load_font(str(FONT_FILE), options)
    cutter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-display: block; '
        f'src: url("data:font/ttf;base64,{data}") format("truetype"); }}'
    )


def render_standalone(report: Report, tr: Translator) -> str:
    """One self-contained HTML file: styles, the CJK glyphs it uses, ECharts and the chart script
    inlined; works offline."""
    body = render_body(report, tr)
    charts = chart_json(report, tr)
    title = f"{tr(report.title)} · {report.month:%Y-%m}"
    css = font_face(body + charts + title) + "\n" + CSS.read_text(encoding="utf-8")
    template = _env().get_template("monthly.html")
    return template.render(
        report=report,
        tr=tr,
        body=body,
        css=Markup(css),
        charts=charts,
        echarts=Markup(ECHARTS.read_text(encoding="utf-8")),
        js=Markup(JS.read_text(encoding="utf-8")),
    )

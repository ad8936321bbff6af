"""The reports' words in zh_CN and en, and numbers as bank staff read them.

The report's own catalog (``reports/locale/<locale>/LC_MESSAGES/reports.po``, read with Babel, no
compile step) keeps the reports independent of the web package, so the CLI renders them without it.
Amounts follow the glossary: ``¥1,234,567`` in English, ``123.46 万元`` in Chinese from 1 万 up — the
same rules as the web layer's ``format.py``, written again here because domain packages never import
``web``. Rounding is half-up, as on bank statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from wealthcrm.reports.document import Chart, Kind, Label, Num, Report, Section, Table, Text

Lang = Literal["zh_CN", "en"]
LANGS: tuple[Lang, ...] = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
WAN = Decimal(10_000)
MISSING = "–"


#: msgids of the RM scorecard's figures: their words live with the figures, in both languages
METRIC_PREFIXES = ("metric:", "metric-def:")


def _metric_text(msgid: str, lang: Lang) -> str:
    """``metric:<key>`` → the figure's name, ``metric-def:<key>`` → its definition."""
    from wealthcrm.scorecards.metrics import METRICS

    kind, _, key = msgid.partition(":")
    found = METRICS.get(key)
    if found is None:
        return msgid
    return found.label(lang) if kind == "metric" else found.definition(lang)


@dataclass(frozen=True, slots=True)
class Translator:
    lang: Lang
    messages: dict[str, str] = field(default_factory=dict)

    def __call__(self, msgid: str) -> str:
        if msgid.startswith(METRIC_PREFIXES):
            return _metric_text(msgid, self.lang)
        return self.messages.get(msgid) or msgid

    @property
    def html_lang(self) -> str:
        return self.lang.replace("_", "-")


@cache
def translator(lang: Lang) -> Translator:
    """The report catalog of ``lang`` (English is the msgids themselves)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "reports.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    messages = {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }
    return Translator(lang, messages)


def _round(value: float | Decimal, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_cny(amount: float, lang: Lang) -> str:
    value = Decimal(str(amount))
    if lang == "zh_CN":
        if abs(value) >= WAN:
            return f"{format_decimal(_round(value / WAN, 2), format='#,##0.00', locale=lang)} 万元"
        return f"{format_decimal(_round(value, 0), format='#,##0', locale=lang)} 元"
    rounded = _round(value, 0)
    sign = "-" if rounded < 0 else ""
    return f"{sign}¥{format_decimal(abs(rounded), format='#,##0', locale=lang)}"


def fmt(value: Any, kind: Kind, tr: Translator) -> str:
    """One value as text in the translator's language."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if kind == "label":
        return tr(str(value))
    if kind == "text":
        return str(value)
    if kind == "cny":
        return format_cny(float(value), tr.lang)
    if kind == "pct":
        return f"{format_decimal(_round(float(value) * 100, 1), format='#,##0.0', locale=tr.lang)}%"
    if kind == "num1":
        return format_decimal(_round(float(value), 1), format="#,##0.0", locale=tr.lang)
    if kind == "num2":
        return format_decimal(_round(float(value), 2), format="#,##0.00", locale=tr.lang)
    return format_decimal(int(value), format="#,##0", locale=tr.lang)


def say(text: Text, tr: Translator) -> str:
    """A sentence in the translator's language, its parameters translated or formatted."""
    params = {}
    for name, value in text.params.items():
        if isinstance(value, Label):
            params[name] = tr(value.msgid)
        elif isinstance(value, Num):
            params[name] = fmt(value.value, value.kind, tr)
        else:
            params[name] = str(value)
    words = tr(text.msgid)
    return words.format(**params) if params else words


# --- JSON ------------------------------------------------------------------------------------------------


def _cell(value: Any, kind: Kind, tr: Translator | None) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if kind == "label" and tr is not None and value is not None:
        return tr(str(value))
    return value


def table_dict(table: Table, tr: Translator | None = None) -> dict[str, Any]:
    t = tr or Translator("en")
    return {
        "key": table.key,
        "title": t(table.title),
        "columns": [{"key": c.key, "title": t(c.title), "kind": c.kind} for c in table.columns],
        "rows": [
            {c.key: _cell(v, c.kind, tr) for c, v in zip(table.columns, row, strict=True)}
            for row in table.rows
        ],
    }


def chart_dict(chart: Chart, tr: Translator | None = None) -> dict[str, Any]:
    t = tr or Translator("en")
    cats = [t(c) if chart.categories_kind == "label" else c for c in chart.categories]
    return {
        "key": chart.key,
        "title": t(chart.title),
        "kind": chart.kind,
        "unit": chart.unit,
        "categories": cats,
        "series": [{"name": t(s.name), "values": list(s.values)} for s in chart.series],
    }


def section_dict(section: Section, tr: Translator | None = None) -> dict[str, Any]:
    t = tr or Translator("en")
    return {
        "key": section.key,
        "title": t(section.title),
        "figures": {f.key: f.value for f in section.figures},
        "figure_titles": {f.key: t(f.title) for f in section.figures},
        "tables": [table_dict(x, tr) for x in section.tables],
        "charts": [chart_dict(c, tr) for c in section.charts],
        "definitions": [{"term": t(term), "definition": say(text, t)} for term, text in section.definitions],
        "notes": [say(n, t) for n in section.notes],
    }


def report_dict(report: Report, tr: Translator | None = None) -> dict[str, Any]:
    """The report as JSON: raw numbers, words in ``tr``'s language (English without one)."""
    t = tr or Translator("en")
    return {
        "report": report.key,
        "title": t(report.title),
        "month": report.month.strftime("%Y-%m"),
        "generated_on": report.generated_on.isoformat(),
        "lang": t.lang,
        "sections": [section_dict(s, tr) for s in report.sections],
    }

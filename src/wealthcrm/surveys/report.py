"""The survey analysis as a report: the results chapter of a study, in Simplified Chinese or English.

:func:`build_report` turns the JSON-ready result of :func:`wealthcrm.surveys.analysis.analyze` into a
:class:`Report` — sections of tables (raw numbers plus a display kind per column), charts and plain
sentences, every word already in the chosen language. The same :class:`Report` is rendered three
ways, so the numbers can never differ between them:

* :func:`render_html`: one self-contained HTML file (CSS, the vendored ECharts and the chart script
  inlined; it opens from disk with no network);
* :func:`render_fragment`: the report's body, for the web app's page (which loads the same script
  and CSS from the app's own URLs, as its content security policy wants);
* :func:`wealthcrm.surveys.report_xlsx.write_xlsx`: one worksheet per section, numbers as numbers.

Translations are the web app's Babel catalogs (msgids in English; this area's strings are in
``web/locale/<locale>/LC_MESSAGES/survey_report.po``), read here with Babel directly: the report is a
domain artefact also written by the CLI, so it does not import the web package.

>>> report = build_report(result, questionnaire, locale="en")  # doctest: +SKIP
>>> Path("report.html").write_text(render_html(report), encoding="utf-8")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import jinja2
from babel.messages.pofile import read_po
from markupsafe import Markup

from wealthcrm.errors import Invalid
from wealthcrm.surveys.data import BLANKS, SurveyData
from wealthcrm.surveys.questionnaire import Questionnaire

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh_CN", "en")
#: how a column's values are shown (HTML) and formatted (XLSX)
Kind = Literal["text", "int", "num1", "num2", "num3", "p", "pct", "signed1"]

_PACKAGE = resources.files("wealthcrm")
LOCALE_DIR: Traversable = _PACKAGE.joinpath("web", "locale")
ECHARTS: Traversable = _PACKAGE.joinpath("web", "static", "vendor", "echarts.min.js")
TEMPLATES: Traversable = _PACKAGE.joinpath("surveys", "templates")
#: the chart script and style sheet, inlined in the file and served by the web page
ASSETS = {"report.js": "text/javascript", "report.css": "text/css"}
DASH = "–"
#: columns of the answers that the sample profile describes when they are there (besides the groups)
PROFILE_COLUMNS = ("tier", "age_band", "rm_id", "wave")


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def parse_locale(value: str) -> Locale:
    """``zh_CN`` / ``en`` (also ``zh``, ``zh-CN``), else :class:`Invalid`."""
    wanted = value.strip().replace("-", "_")
    for loc in LOCALES:
        if wanted.lower() in (loc.lower(), loc.split("_")[0]):
            return loc
    raise Invalid(f"language {value!r}: use zh_CN or en")


# --- translations -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Translator:
    """One locale's messages; calling it translates (a missing message stays English)."""

    locale: Locale
    messages: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, message: str) -> str:
        return self.messages.get(message) or message

    @property
    def html_lang(self) -> str:
        return self.locale.replace("_", "-")

    @property
    def zh(self) -> bool:
        return self.locale == "zh_CN"


@cache
def translator(locale: Locale) -> Translator:
    """The merged ``.po`` catalogs of ``locale`` (as the web app merges them), read once."""
    messages: dict[str, str] = {}
    folder = LOCALE_DIR.joinpath(locale, "LC_MESSAGES")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for m in catalog:
            if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy:
                messages[m.id] = m.string
    return Translator(locale, messages)


# --- the report's structure ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    kind: Kind = "text"


@dataclass(slots=True)
class Table:
    """Rows of raw values (str, int, float or None) under typed columns."""

    id: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: (row, column) → CSS class; column -1 marks the whole row ("flag", "strong", "muted", "sub")
    marks: dict[tuple[int, int], str] = field(default_factory=dict)

    def mark(self, row: int, col: int) -> str:
        return self.marks.get((row, col), "")

    def column(self, key: str) -> list[Any]:
        """The values of one column (tests and the XLSX writer read tables by key)."""
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart the report's script draws with ECharts: ``kind`` selects the drawing, ``data`` feeds it."""

    id: str
    kind: str
    title: str
    data: dict[str, Any]


@dataclass(slots=True)
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    locale: Locale
    title: str
    subtitle: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    generated_on: date

    def section(self, section_id: str) -> Section:
        return next(s for s in self.sections if s.id == section_id)

    def table(self, table_id: str) -> Table:
        return next(t for s in self.sections for t in s.tables if t.id == table_id)

    def charts(self) -> list[dict[str, Any]]:
        return [
            {"id": c.id, "kind": c.kind, "title": c.title, "data": c.data}
            for s in self.sections
            for c in s.charts
        ]


# --- numbers as people read them ----------------------------------------------------------------------


def missing_value(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt(value: Any, kind: Kind) -> str:
    """A cell as shown: 3 decimals for coefficients, 2 for means, ``< 0.001`` for tiny p values."""
    if missing_value(value):
        return DASH
    if kind == "text" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "✓" if value else ""
    number = float(value)
    match kind:
        case "int":
            return f"{round(number):,}"
        case "num1":
            return f"{number:.1f}"
        case "num2":
            return f"{number:.2f}"
        case "num3":
            return f"{number:.3f}"
        case "p":
            return "< 0.001" if number < 0.001 else f"{number:.3f}"
        case "pct":
            return f"{100 * number:.1f}%"
        case "signed1":
            return f"{number:+.1f}"


def p_text(value: Any) -> str:
    """``p < 0.001`` or ``p = 0.034`` (for sentences)."""
    if missing_value(value):
        return f"p {DASH}"
    return "p < 0.001" if float(value) < 0.001 else f"p = {float(value):.3f}"


# --- building ------------------------------------------------------------------------------------------


def build_report(
    result: Mapping[str, Any],
    questionnaire: Questionnaire,
    *,
    locale: Locale = "zh_CN",
    profile: Mapping[str, Mapping[str, int]] | None = None,
    title: str | None = None,
    source: str | None = None,
    generated_on: date | None = None,
) -> Report:
    """The report of one analysis: ``result`` as :func:`~wealthcrm.surveys.analysis.analyze` returned
    it; ``profile`` the respondents per value of each group column (:func:`sample_profile`; default:
    the group sizes in ``result``); ``source`` names the answers (a file, "stored answers")."""
    # imported here: the section modules import this module's building blocks (Table, fmt, N_…)
    from wealthcrm.surveys import (
        report_advice,
        report_groups,
        report_outcomes,
        report_sections,
        report_validity,
    )

    _ = translator(locale)
    ctx = report_sections.Context(_, questionnaire, result)
    found = (
        report_sections.sample(ctx, profile),
        report_sections.reliability(ctx),
        report_validity.validity(ctx),
        report_groups.descriptives(ctx),
        report_groups.groups(ctx),
        report_outcomes.nps(ctx),
        report_outcomes.ipa(ctx),
        report_outcomes.drivers(ctx),
        report_outcomes.structural(ctx),
        report_outcomes.gaps(ctx),
    )
    sections = [s for s in found if s is not None]
    sections.append(report_advice.what_to_do(ctx))
    notes = report_sections.notes(ctx)
    if notes is not None:
        sections.append(notes)
    q_title = questionnaire.title
    default_title = (q_title.zh if _.zh else q_title.en) if q_title else questionnaire.id
    on = generated_on or date.today()
    facts = [
        (_("Questionnaire"), f"{questionnaire.id} v{questionnaire.version}"),
        (_("Respondents"), fmt(result.get("n_respondents"), "int")),
        (_("Missing answers"), ctx.missing_rule_label()),
        (_("Generated on"), on.isoformat()),
    ]
    if source:
        facts.insert(0, (_("Answers"), source))
    return Report(
        locale=locale,
        title=title or default_title,
        subtitle=_("Survey analysis report"),
        facts=facts,
        sections=sections,
        generated_on=on,
    )


def sample_profile(data: SurveyData, columns: Sequence[str]) -> dict[str, dict[str, int]]:
    """Respondents per value of each of ``columns`` (columns of the answers' extra data), the unanswered
    counted under ``""``; columns that are not there are skipped."""
    out: dict[str, dict[str, int]] = {}
    for name in columns:
        if name not in data.extra.columns:
            continue
        text = data.extra[name].astype("string").str.strip()
        text = text.mask(text.isin(BLANKS)).fillna("")
        counts = text.value_counts()
        out[name] = {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}
    return out


# --- rendering -----------------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    env.globals["fmt"] = fmt
    return env


def _load_template(name: str) -> str:
    entry = TEMPLATES.joinpath(*name.split("/"))
    if not entry.is_file():
        raise jinja2.TemplateNotFound(name)
    return entry.read_text(encoding="utf-8")


def asset(name: str) -> str:
    """The text of the report's ``report.js`` or ``report.css``."""
    if name not in ASSETS:
        raise KeyError(name)
    return TEMPLATES.joinpath("report", name).read_text(encoding="utf-8")


def _script(text: str) -> Markup:
    """JavaScript safe inside a ``<script>`` element (no ``</script`` can end it early)."""
    return Markup(re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE))


def render_fragment(report: Report) -> Markup:
    """The report's body (sections, tables, chart placeholders and their data), for a page of the app."""
    html = _environment().get_template("report/body.html").render(report=report, _=translator(report.locale))
    return Markup(html)  # rendered by an autoescaping environment


def render_html(report: Report) -> str:
    """The whole report as one HTML document that needs no network: styles, ECharts and script inlined."""
    return (
        _environment()
        .get_template("report/standalone.html")
        .render(
            report=report,
            _=translator(report.locale),
            body=render_fragment(report),
            css=Markup(asset("report.css").replace("</style", "<\\/style")),
            echarts=_script(ECHARTS.read_text(encoding="utf-8")),
            script=_script(asset("report.js")),
        )
    )


def write_report(
    result: Mapping[str, Any],
    questionnaire: Questionnaire,
    *,
    locale: Locale,
    data: SurveyData | None = None,
    groups: Sequence[str] = (),
    source: str | None = None,
    html: Path | None = None,
    xlsx: Path | None = None,
) -> list[Path]:
    """Write the HTML report and/or the XLSX workbook of one analysis; the paths written.

    ``data`` (the answers analysed) gives the sample profile: respondents per value of ``groups`` and
    of :data:`PROFILE_COLUMNS`. Raises :class:`OSError` when a file cannot be written.
    """
    from wealthcrm.surveys.report_xlsx import write_xlsx

    profile = None if data is None else sample_profile(data, list(dict.fromkeys([*groups, *PROFILE_COLUMNS])))
    built = build_report(result, questionnaire, locale=locale, profile=profile, source=source)
    written: list[Path] = []
    if html is not None:
        html.write_text(render_html(built), encoding="utf-8")
        written.append(html)
    if xlsx is not None:
        write_xlsx(built, xlsx)
        written.append(xlsx)
    return written

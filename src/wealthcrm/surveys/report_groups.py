"""The report's descriptive statistics and group differences (the test used, statistic, p, effect size).

Effect-size words follow Cohen (1988): d 0.2 / 0.5 / 0.8; η² 0.01 / 0.06 / 0.14, also used for ε².
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wealthcrm.surveys.report import N_, Chart, Column, Section, Table, fmt, missing_value
from wealthcrm.surveys.report_sections import SIGNIFICANT, Context

TEST_LABELS = {
    "welch_t": N_("Welch's t test"),
    "anova": N_("One-way ANOVA"),
    "welch_anova": N_("Welch's ANOVA"),
    "kruskal_wallis": N_("Kruskal–Wallis H test"),
}
#: effect size → (label, small, medium, large) thresholds (Cohen 1988; η² bands also for ε²)
EFFECTS = {
    "cohen_d": (N_("Cohen's d"), 0.2, 0.5, 0.8),
    "eta_squared": (N_("η²"), 0.01, 0.06, 0.14),
    "epsilon_squared": (N_("ε²"), 0.01, 0.06, 0.14),
}
MAGNITUDES = (N_("negligible"), N_("small"), N_("medium"), N_("large"))


def magnitude(kind: str, value: float | None) -> str | None:
    """The words for an effect size (negligible … large), None when it is unknown."""
    if value is None or kind not in EFFECTS:
        return None
    _, small, medium, large = EFFECTS[kind]
    size = abs(value)
    return MAGNITUDES[sum(size >= cut for cut in (small, medium, large))]


# --- descriptives -------------------------------------------------------------------------------------


def _describe_columns(ctx: Context, first: Column) -> list[Column]:
    _ = ctx._
    return [
        first,
        Column("n", _("Respondents"), "int"),
        Column("missing", _("Missing"), "int"),
        Column("mean", _("Mean"), "num2"),
        Column("sd", _("SD"), "num2"),
        Column("median", _("Median"), "num2"),
        Column("min", _("Min"), "num2"),
        Column("max", _("Max"), "num2"),
        Column("skewness", _("Skewness"), "num2"),
        Column("kurtosis", _("Kurtosis"), "num2"),
    ]


def _describe_row(label: str, d: Mapping[str, Any]) -> list[Any]:
    keys = ("n", "missing", "mean", "sd", "median", "min", "max", "skewness", "kurtosis")
    return [label, *(d.get(k) for k in keys)]


def descriptives(ctx: Context) -> Section | None:
    _, r = ctx._, ctx.r
    items = r.get("items") or {}
    if not items:
        return None
    s = Section("descriptives", _("Descriptive statistics"))
    scores = Table(
        "scores",
        _("Scale scores"),
        _describe_columns(ctx, Column("score", _("Score"))),
        notes=[_("A scale score is the mean of its (reverse-keyed) items; kurtosis is excess kurtosis.")],
    )
    chart: dict[str, list[Any]] = {"categories": [], "values": [], "sd": []}
    for d, rel in ctx.dims().items():
        score = rel.get("score") or {}
        scores.rows.append(_describe_row(ctx.dim(d), score))
        chart["categories"].append(ctx.dim(d))
        chart["values"].append(score.get("mean"))
        chart["sd"].append(score.get("sd"))
    outcomes = r.get("outcomes") or {}
    for key in ("satisfaction", "loyalty"):
        if outcomes.get(key):
            scores.rows.append(_describe_row(ctx.target(key), outcomes[key]))
    table = Table(
        "item_descriptives",
        _("Items"),
        [
            Column("item", _("Item")),
            Column("text", _("Wording")),
            Column("dimension", _("Dimension")),
            *_describe_columns(ctx, Column("item", ""))[1:],
        ],
    )
    for item_id, d in items.items():
        if d.get("type") not in ("likert", "nps"):
            continue
        table.rows.append([item_id, ctx.item_text(item_id), ctx.dim_of(item_id), *_describe_row("", d)[1:]])
    s.tables += [scores, table]
    if chart["categories"]:
        scale = ctx.q.scale
        s.charts.append(
            Chart(
                "means",
                "hbar",
                _("Mean scale scores"),
                chart | {"min": scale.min, "max": scale.max, "series": _("Mean")},
            )
        )
    return s


# --- group differences ----------------------------------------------------------------------------------


def _df_text(df: Any) -> str:
    if isinstance(df, list):
        return ", ".join(fmt(v, "int" if float(v).is_integer() else "num1") for v in df)
    if missing_value(df):
        return fmt(None, "text")
    return fmt(df, "int" if float(df).is_integer() else "num1")


def _effect(test: Mapping[str, Any]) -> tuple[str | None, float | None]:
    effect = test.get("effect") or {}
    for kind in ("cohen_d", "eta_squared", "epsilon_squared"):
        if kind in effect:
            return kind, effect[kind]
    return None, None


def groups(ctx: Context) -> Section | None:
    _ = ctx._
    found = ctx.r.get("groups") or {}
    if not found:
        return None
    s = Section("groups", _("Differences between groups"))
    s.paragraphs.append(
        _(
            "Two groups: Welch's t test; three or more: one-way ANOVA, or Welch's ANOVA when variances "
            "differ (Levene); Kruskal–Wallis when a group's scores are far from normal. Groups of fewer "
            "than 5 respondents are left out."
        )
    )
    for column, targets in found.items():
        labels = sorted({g for t in targets.values() for g in t.get("groups", {})})
        table = Table(
            f"groups_{column}",
            _("Differences by {group}").format(group=ctx.group_name(column)),
            [
                Column("score", _("Score")),
                *(Column(f"mean:{g}", ctx.group_value(column, g), "num2") for g in labels),
                Column("test", _("Test")),
                Column("statistic", _("Statistic"), "num2"),
                Column("df", _("df")),
                Column("p", _("p"), "p"),
                Column("effect", _("Effect size")),
                Column("effect_size", _("Value"), "num3"),
                Column("magnitude", _("Magnitude")),
            ],
            notes=[_("Group columns are mean scores; bold rows differ at p < 0.05.")],
        )
        left_out: set[str] = set()
        for target, t in targets.items():
            kind, size = _effect(t)
            row = len(table.rows)
            table.rows.append(
                [
                    ctx.target(target),
                    *((t.get("groups", {}).get(g) or {}).get("mean") for g in labels),
                    _(TEST_LABELS[t["test"]]) if t.get("test") in TEST_LABELS else _("not tested"),
                    t.get("statistic"),
                    _df_text(t.get("df")),
                    t.get("p"),
                    _(EFFECTS[kind][0]) if kind else None,
                    size,
                    _(m) if (m := magnitude(kind or "", size)) else None,
                ]
            )
            if t.get("p") is not None and t["p"] < SIGNIFICANT:
                table.marks[(row, -1)] = "strong"
            left_out.update(t.get("left_out") or [])
        if left_out:
            table.notes.append(
                _("Left out (fewer than 5 respondents): {groups}.").format(
                    groups=", ".join(ctx.group_value(column, g) for g in sorted(left_out))
                )
            )
        s.tables.append(table)
    return s

"""The report's outcome sections: NPS, importance–performance, key drivers, the structural model, gaps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wealthcrm.surveys.report import N_, Chart, Column, Section, Table, fmt, p_text
from wealthcrm.surveys.report_sections import SIGNIFICANT, Context
from wealthcrm.surveys.report_validity import fit_table

QUADRANT_LABELS = {
    "keep_up_the_good_work": N_("Keep up the good work"),
    "concentrate_here": N_("Concentrate here"),
    "low_priority": N_("Low priority"),
    "possible_overkill": N_("Possible overkill"),
}
VIF_HIGH = 5.0


def _outcomes(ctx: Context) -> Mapping[str, Any]:
    found: Mapping[str, Any] = ctx.r.get("outcomes") or {}
    return found


def nps(ctx: Context) -> Section | None:
    _ = ctx._
    found = _outcomes(ctx).get("nps")
    if not found or found.get("nps") is None:
        return None
    n = found["n"]
    s = Section("nps", _("Net Promoter Score"))
    shares = {k: found[k] / n for k in ("promoters", "passives", "detractors")}
    lo, hi = found.get("ci") or [None, None]
    s.paragraphs.append(
        _(
            "NPS is {nps} (95% CI {low} to {high}, n = {n}): {promoters} promoters (9–10), {passives} "
            "passives (7–8) and {detractors} detractors (0–6)."
        ).format(
            nps=fmt(found["nps"], "signed1"),
            low=fmt(lo, "signed1"),
            high=fmt(hi, "signed1"),
            n=fmt(n, "int"),
            promoters=fmt(shares["promoters"], "pct"),
            passives=fmt(shares["passives"], "pct"),
            detractors=fmt(shares["detractors"], "pct"),
        )
    )
    table = Table(
        "nps",
        _("Net Promoter Score with its 95% confidence interval"),
        [
            Column("n", _("Respondents"), "int"),
            Column("promoters", _("Promoters"), "int"),
            Column("passives", _("Passives"), "int"),
            Column("detractors", _("Detractors"), "int"),
            Column("promoter_share", _("Promoters, share"), "pct"),
            Column("detractor_share", _("Detractors, share"), "pct"),
            Column("nps", _("NPS"), "signed1"),
            Column("ci_low", _("95% CI low"), "signed1"),
            Column("ci_high", _("95% CI high"), "signed1"),
        ],
        notes=[_("NPS = % promoters − % detractors; Wald interval of the +1/0/−1 score.")],
    )
    table.rows.append(
        [
            n,
            found["promoters"],
            found["passives"],
            found["detractors"],
            shares["promoters"],
            shares["detractors"],
            found["nps"],
            lo,
            hi,
        ]
    )
    s.tables.append(table)
    s.charts.append(
        Chart(
            "nps",
            "stack",
            _("Promoters, passives and detractors"),
            {
                "series": [
                    {"name": _("Detractors"), "value": shares["detractors"], "color": "#d92d20"},
                    {"name": _("Passives"), "value": shares["passives"], "color": "#98a2b3"},
                    {"name": _("Promoters"), "value": shares["promoters"], "color": "#079455"},
                ],
                "label": _("NPS {nps}").format(nps=fmt(found["nps"], "signed1")),
            },
        )
    )
    return s


def ipa(ctx: Context) -> Section | None:
    _ = ctx._
    found = _outcomes(ctx).get("ipa")
    if not found:
        return None
    s = Section("ipa", _("Importance–performance analysis"))
    s.paragraphs.append(
        _(
            "Performance is a dimension's mean score; importance is its correlation with overall "
            "satisfaction. The quadrants split at the mean importance ({importance}) and the mean "
            "performance ({performance})."
        ).format(
            importance=fmt(found.get("importance_mean"), "num3"),
            performance=fmt(found.get("performance_mean"), "num2"),
        )
    )
    table = Table(
        "ipa",
        _("Importance and performance of the dimensions"),
        [
            Column("dimension", _("Dimension")),
            Column("performance", _("Performance (mean)"), "num2"),
            Column("importance", _("Importance (r)"), "num3"),
            Column("beta", _("β"), "num3"),
            Column("quadrant", _("Quadrant")),
        ],
    )
    points = []
    for dim, d in (found.get("dimensions") or {}).items():
        quadrant = d.get("quadrant")
        if quadrant == "concentrate_here":
            table.marks[(len(table.rows), -1)] = "flag"
        table.rows.append(
            [
                ctx.dim(dim),
                d.get("performance"),
                d.get("importance"),
                d.get("beta"),
                _(QUADRANT_LABELS[quadrant]) if quadrant in QUADRANT_LABELS else None,
            ]
        )
        points.append(
            {"name": ctx.dim(dim), "x": d.get("performance"), "y": d.get("importance"), "quadrant": quadrant}
        )
    s.tables.append(table)
    s.charts.append(
        Chart(
            "ipa",
            "quadrant",
            _("Importance–performance quadrants"),
            {
                "points": points,
                "x_mean": found.get("performance_mean"),
                "y_mean": found.get("importance_mean"),
                "x_name": _("Performance (mean)"),
                "y_name": _("Importance (r)"),
                "quadrants": {k: _(v) for k, v in QUADRANT_LABELS.items()},
            },
        )
    )
    return s


def drivers(ctx: Context) -> Section | None:
    _ = ctx._
    found = _outcomes(ctx).get("drivers")
    if not found:
        return None
    s = Section("drivers", _("Key drivers of satisfaction"))
    s.paragraphs.append(
        _(
            "A regression of overall satisfaction on the standardised dimension scores explains R² = {r2} "
            "(adjusted {adj}; F = {f}, {p}; n = {n}, {excluded} respondents with missing scores left out). "
            "Relative importance splits R² among the dimensions (LMG)."
        ).format(
            r2=fmt(found.get("r2"), "num3"),
            adj=fmt(found.get("adj_r2"), "num3"),
            f=fmt(found.get("f"), "num2"),
            p=p_text(found.get("p")),
            n=fmt(found.get("n"), "int"),
            excluded=fmt(found.get("n_excluded"), "int"),
        )
    )
    table = Table(
        "drivers",
        _("Key-driver regression (standardised)"),
        [
            Column("dimension", _("Dimension")),
            Column("beta", _("β"), "num3"),
            Column("se", _("SE"), "num3"),
            Column("t", _("t"), "num2"),
            Column("p", _("p"), "p"),
            Column("r", _("r with satisfaction"), "num3"),
            Column("vif", _("VIF"), "num2"),
            Column("lmg", _("Relative importance"), "num3"),
            Column("share", _("Share of R²"), "pct"),
        ],
        notes=[_("Bold: p < 0.05. Highlighted VIF: above 5, the dimensions overlap.")],
    )
    coefficients = found.get("coefficients") or {}
    ranked = sorted(coefficients.items(), key=lambda kv: -(kv[1].get("relative_importance") or 0.0))
    for dim, c in ranked:
        row = len(table.rows)
        table.rows.append(
            [
                ctx.dim(dim),
                c.get("beta"),
                c.get("se"),
                c.get("t"),
                c.get("p"),
                c.get("r"),
                c.get("vif"),
                c.get("relative_importance"),
                c.get("relative_share"),
            ]
        )
        if c.get("p") is not None and c["p"] < SIGNIFICANT:
            table.marks[(row, 1)] = "strong"
        if c.get("vif") is not None and c["vif"] > VIF_HIGH:
            table.marks[(row, 6)] = "flag"
    s.tables.append(table)
    s.charts.append(
        Chart(
            "drivers",
            "hbar",
            _("Share of explained satisfaction by dimension"),
            {
                "categories": [ctx.dim(d) for d, _c in ranked],
                "values": [c.get("relative_share") for _d, c in ranked],
                "series": _("Share of R²"),
                "percent": True,
            },
        )
    )
    return s


def structural(ctx: Context) -> Section | None:
    _ = ctx._
    found = _outcomes(ctx).get("structural_model")
    if not found:
        return None
    s = Section("sem", _("From satisfaction to loyalty: structural model"))
    paths = found.get("paths") or {}
    sat_to_loy = next(
        (v for k, v in paths.items() if k.split(" -> ")[1] in ("loyalty", *ctx.q.outcomes.loyalty)), None
    )
    if sat_to_loy:
        s.paragraphs.append(
            _(
                "The dimensions shape overall satisfaction, and satisfaction carries to loyalty with a "
                "standardised path of {beta} ({p})."
            ).format(beta=fmt(sat_to_loy.get("std"), "num3"), p=p_text(sat_to_loy.get("p")))
        )
    s.tables.append(fit_table(ctx, "sem_fit", _("Structural model: fit"), found.get("fit") or {}))
    table = Table(
        "sem_paths",
        _("Paths"),
        [
            Column("source", _("Predictor")),
            Column("target", _("Outcome variable")),
            Column("std", _("Standardised"), "num3"),
            Column("estimate", _("Estimate"), "num3"),
            Column("p", _("p"), "p"),
        ],
        notes=[_("Bold: p < 0.05.")],
    )
    for path, v in paths.items():
        source, target = path.split(" -> ")
        if v.get("p") is not None and v["p"] < SIGNIFICANT:
            table.marks[(len(table.rows), -1)] = "strong"
        table.rows.append(
            [_sem_name(ctx, source), _sem_name(ctx, target), v.get("std"), v.get("estimate"), v.get("p")]
        )
    r2 = Table(
        "sem_r2",
        _("Variance explained"),
        [Column("variable", _("Variable")), Column("r2", _("R²"), "num3")],
    )
    r2.rows = [[_sem_name(ctx, k), v] for k, v in (found.get("r2") or {}).items()]
    s.tables += [table, r2]
    return s


def _sem_name(ctx: Context, name: str) -> str:
    if name == "satisfaction" or name in ctx.q.outcomes.satisfaction:
        return ctx.target("satisfaction")
    if name == "loyalty" or name in ctx.q.outcomes.loyalty:
        return ctx.target("loyalty")
    return ctx.dim(name)


def gaps(ctx: Context) -> Section | None:
    _ = ctx._
    found: Mapping[str, Any] = ctx.r.get("gaps") or {}
    if not found:
        return None
    s = Section("gaps", _("SERVQUAL gaps"))
    s.paragraphs.append(
        _(
            "Gap = perception − expectation: below zero, the service falls short of what customers expect. "
            "Paired t test; effect size Cohen's d_z."
        )
    )

    def columns(first: list[Column]) -> list[Column]:
        return [
            *first,
            Column("perception", _("Perception"), "num2"),
            Column("expectation", _("Expectation"), "num2"),
            Column("gap", _("Gap"), "num2"),
            Column("t", _("t"), "num2"),
            Column("df", _("df"), "int"),
            Column("p", _("p"), "p"),
            Column("dz", _("d_z"), "num2"),
            Column("n", _("Respondents"), "int"),
        ]

    def values(g: Mapping[str, Any]) -> list[Any]:
        return [g.get(k) for k in ("perception", "expectation", "gap", "t", "df", "p", "cohen_dz", "n")]

    dims = Table("gaps", _("Gaps by dimension"), columns([Column("dimension", _("Dimension"))]))
    items = Table(
        "gap_items",
        _("Gaps by item"),
        columns([Column("dimension", _("Dimension")), Column("item", _("Item"))]),
    )
    chart: dict[str, list[Any]] = {"categories": [], "values": []}
    for dim, g in found.items():
        d = g.get("dimension") or {}
        if (d.get("gap") or 0) < 0 and (d.get("p") or 1) < SIGNIFICANT:
            dims.marks[(len(dims.rows), -1)] = "flag"
        dims.rows.append([ctx.dim(dim), *values(d)])
        chart["categories"].append(ctx.dim(dim))
        chart["values"].append(d.get("gap"))
        for item_id, it in (g.get("items") or {}).items():
            items.rows.append([ctx.dim(dim), item_id, *values(it)])
    s.tables += [dims, items]
    s.charts.append(
        Chart("gaps", "hbar", _("Perception − expectation by dimension"), chart | {"series": _("Gap")})
    )
    return s

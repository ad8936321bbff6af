"""The report's validity section: KMO and Bartlett, factors to retain, EFA loadings, CFA fit, CR, AVE.

The words for the numbers follow the usual references: Kaiser (1974) for KMO, Hu & Bentler (1999) for
CFI/TLI ≥ 0.95 (≥ 0.90 acceptable), RMSEA ≤ 0.06 (≤ 0.08 acceptable) and SRMR ≤ 0.08, Fornell &
Larcker (1981) for CR ≥ 0.70, AVE ≥ 0.50 and √AVE above the factor correlations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from wealthcrm.surveys.report import DASH, N_, Chart, Column, Section, Table, fmt, p_text
from wealthcrm.surveys.report_sections import Context

KMO_OK = 0.60
KMO_BANDS = (
    (0.9, N_("marvellous")),
    (0.8, N_("meritorious")),
    (0.7, N_("middling")),
    (0.6, N_("mediocre")),
    (0.5, N_("miserable")),
    (float("-inf"), N_("unacceptable")),
)
LOADING_SHOWN = 0.30
CR_OK, AVE_OK, LOADING_OK = 0.70, 0.50, 0.50
MAX_RETENTION_ROWS = 15


def kmo_band(value: float) -> str:
    return next(label for floor, label in KMO_BANDS if value >= floor)


def fit_verdict(fit: Mapping[str, Any]) -> str:
    """good / acceptable / poor by the Hu & Bentler cut-offs (as msgids)."""
    values = [fit.get(k) for k in ("cfi", "tli", "rmsea", "srmr")]
    if any(v is None for v in values):
        return N_("not judged")
    cfi, tli, rmsea, srmr = (float(v) for v in values if v is not None)
    if cfi >= 0.95 and tli >= 0.95 and rmsea <= 0.06 and srmr <= 0.08:
        return N_("good")
    if cfi >= 0.90 and tli >= 0.90 and rmsea <= 0.08 and srmr <= 0.10:
        return N_("acceptable")
    return N_("poor")


def fit_table(ctx: Context, table_id: str, title: str, fit: Mapping[str, Any]) -> Table:
    _ = ctx._
    table = Table(
        table_id,
        title,
        [
            Column("n", _("Respondents"), "int"),
            Column("chi2", _("χ²"), "num1"),
            Column("df", _("df"), "int"),
            Column("p", _("p"), "p"),
            Column("cfi", _("CFI"), "num3"),
            Column("tli", _("TLI"), "num3"),
            Column("rmsea", _("RMSEA"), "num3"),
            Column("srmr", _("SRMR"), "num3"),
            Column("verdict", _("Fit")),
        ],
        notes=[_("Good fit: CFI and TLI ≥ 0.95, RMSEA ≤ 0.06, SRMR ≤ 0.08 (Hu & Bentler 1999).")],
    )
    keys = ("n", "chi2", "df", "p", "cfi", "tli", "rmsea", "srmr")
    table.rows.append([*(fit.get(k) for k in keys), _(fit_verdict(fit))])
    return table


def validity(ctx: Context) -> Section | None:
    _, r = ctx._, ctx.r
    if not any(k in r for k in ("kmo", "efa", "cfa")):
        return None
    s = Section("validity", _("Validity analysis"))
    if "kmo" in r:
        _adequacy(ctx, s)
    efa = r.get("efa")
    if efa:
        _efa(ctx, s, efa)
    cfa = r.get("cfa")
    if cfa:
        _cfa(ctx, s, cfa)
    return s


def _adequacy(ctx: Context, s: Section) -> None:
    _ = ctx._
    kmo, bartlett = ctx.r["kmo"], ctx.r.get("bartlett") or {}
    s.paragraphs.append(
        _(
            "Sampling adequacy is {band} (KMO = {kmo}, n = {n}); Bartlett's test of sphericity gives "
            "χ² = {chi2}, df = {df}, {p}."
        ).format(
            band=_(kmo_band(kmo["overall"])),
            kmo=fmt(kmo["overall"], "num3"),
            n=fmt(kmo.get("n"), "int"),
            chi2=fmt(bartlett.get("chi2"), "num1"),
            df=fmt(bartlett.get("df"), "int"),
            p=p_text(bartlett.get("p")),
        )
    )
    table = Table(
        "adequacy",
        _("KMO and Bartlett's test of sphericity"),
        [
            Column("kmo", _("KMO"), "num3"),
            Column("kmo_rating", _("Rating")),
            Column("n", _("Respondents"), "int"),
            Column("chi2", _("Bartlett's χ²"), "num1"),
            Column("df", _("df"), "int"),
            Column("p", _("p"), "p"),
        ],
        notes=[_("On the respondents who answered every dimension item.")],
    )
    table.rows.append(
        [
            kmo["overall"],
            _(kmo_band(kmo["overall"])),
            kmo.get("n"),
            bartlett.get("chi2"),
            bartlett.get("df"),
            bartlett.get("p"),
        ]
    )
    items = Table(
        "kmo_items",
        _("KMO per item"),
        [Column("item", _("Item")), Column("dimension", _("Dimension")), Column("kmo", _("KMO"), "num3")],
        notes=[_("Highlighted: below 0.60, the item shares little with the others.")],
    )
    for item_id, value in kmo.get("items", {}).items():
        if value is not None and value < KMO_OK:
            items.marks[(len(items.rows), -1)] = "flag"
        items.rows.append([item_id, ctx.dim_of(item_id), value])
    s.tables += [table, items]


def _efa(ctx: Context, s: Section, efa: Mapping[str, Any]) -> None:
    _ = ctx._
    retention = efa.get("factor_retention") or {}
    eig = retention.get("eigenvalues") or []
    if eig:
        p95 = retention.get("random_p95") or [None] * len(eig)
        mean = retention.get("random_mean") or [None] * len(eig)
        n_par, n_kai = retention.get("n_factors_parallel", 0), retention.get("n_factors_kaiser", 0)
        s.paragraphs.append(
            _(
                "Parallel analysis retains {parallel} factors and the eigenvalue-greater-than-1 rule "
                "{kaiser}; the exploratory factor analysis (minimum residual) extracts {k}."
            ).format(parallel=n_par, kaiser=n_kai, k=efa.get("n_factors", DASH))
        )
        table = Table(
            "factor_retention",
            _("Factors to retain"),
            [
                Column("factor", _("Factor"), "int"),
                Column("eigenvalue", _("Eigenvalue"), "num3"),
                Column("random_mean", _("Random data, mean"), "num3"),
                Column("random_p95", _("Random data, 95th percentile"), "num3"),
                Column("parallel", _("Kept by parallel analysis")),
                Column("kaiser", _("Eigenvalue > 1")),
            ],
            notes=[
                _(
                    "Parallel analysis: {iterations} random normal data sets of the same size (seed {seed})."
                ).format(iterations=retention.get("iterations", DASH), seed=retention.get("seed", DASH))
            ],
        )
        for j, value in enumerate(eig[:MAX_RETENTION_ROWS]):
            table.rows.append(
                [j + 1, value, mean[j], p95[j], "✓" if j < n_par else "", "✓" if value > 1 else ""]
            )
        s.tables.append(table)
        s.charts.append(
            Chart(
                "scree",
                "scree",
                _("Scree plot and parallel analysis"),
                {
                    "categories": list(range(1, len(eig) + 1)),
                    "series": [
                        {"name": _("Eigenvalue"), "values": eig},
                        {"name": _("Random data, 95th percentile"), "values": p95},
                    ],
                    "threshold": 1,
                },
            )
        )
    for rotation, title in (
        ("varimax", _("EFA loadings, varimax rotation")),
        ("oblimin", _("EFA loadings, oblimin rotation")),
    ):
        found = efa.get(rotation)
        if found:
            s.tables.append(_loadings(ctx, rotation, title, found, int(efa.get("n_factors") or 0)))
    phi = (efa.get("oblimin") or {}).get("factor_correlations")
    if phi:
        k = len(phi)
        table = Table(
            "efa_factor_correlations",
            _("Factor correlations (oblimin)"),
            [Column("factor", _("Factor")), *(Column(f"F{j + 1}", f"F{j + 1}", "num3") for j in range(k))],
        )
        table.rows = [[f"F{i + 1}", *row] for i, row in enumerate(phi)]
        s.tables.append(table)


def _loadings(ctx: Context, rotation: str, title: str, found: Mapping[str, Any], k: int) -> Table:
    _ = ctx._
    table = Table(
        f"efa_{rotation}",
        title,
        [
            Column("item", _("Item")),
            Column("dimension", _("Dimension")),
            *(Column(f"F{j + 1}", f"F{j + 1}", "num3") for j in range(k)),
            Column("h2", _("Communality h²"), "num3"),
        ],
        notes=[
            _("n = {n}. Bold: the item's largest loading; grey: |loading| below 0.30.").format(
                n=fmt(ctx.r["efa"].get("n"), "int")
            )
        ],
    )
    communalities = found.get("communalities") or {}
    for item_id, row in (found.get("loadings") or {}).items():
        r = len(table.rows)
        table.rows.append([item_id, ctx.dim_of(item_id), *row, communalities.get(item_id)])
        top = max(range(len(row)), key=lambda j: abs(row[j]) if row[j] is not None else -1.0)
        for j, value in enumerate(row):
            if value is not None and abs(value) < LOADING_SHOWN:
                table.marks[(r, 2 + j)] = "muted"
            elif j == top:
                table.marks[(r, 2 + j)] = "strong"
    for key, label in (
        ("ss_loadings", _("Sum of squared loadings")),
        ("proportion_variance", _("Proportion of variance")),
        ("cumulative_variance", _("Cumulative proportion")),
    ):
        values = found.get(key)
        if values:
            table.marks[(len(table.rows), -1)] = "sub"
            table.rows.append([label, "", *values, None])
    return table


def _cfa(ctx: Context, s: Section, cfa: Mapping[str, Any]) -> None:
    _ = ctx._
    fit = cfa.get("fit") or {}
    s.paragraphs.append(
        _(
            "The confirmatory factor analysis of the questionnaire's dimensions fits {verdict}: CFI = {cfi}, "
            "TLI = {tli}, RMSEA = {rmsea}, SRMR = {srmr} (n = {n})."
        ).format(
            verdict=_(fit_verdict(fit)),
            cfi=fmt(fit.get("cfi"), "num3"),
            tli=fmt(fit.get("tli"), "num3"),
            rmsea=fmt(fit.get("rmsea"), "num3"),
            srmr=fmt(fit.get("srmr"), "num3"),
            n=fmt(fit.get("n"), "int"),
        )
    )
    s.tables.append(fit_table(ctx, "cfa_fit", _("Confirmatory factor analysis: fit"), fit))
    factors = cfa.get("factors") or {}
    correlations = cfa.get("factor_correlations") or {}
    conv = Table(
        "cfa_factors",
        _("Convergent and discriminant validity"),
        [
            Column("dimension", _("Dimension")),
            Column("k", _("Items"), "int"),
            Column("cr", _("Composite reliability"), "num3"),
            Column("ave", _("AVE"), "num3"),
            Column("sqrt_ave", _("√AVE"), "num3"),
            Column("max_r", _("Largest correlation with another factor"), "num3"),
            Column("discriminant", _("√AVE above it")),
        ],
        notes=[
            _("Convergent validity: CR ≥ 0.70 and AVE ≥ 0.50; discriminant: √AVE above every correlation.")
        ],
    )
    loads = Table(
        "cfa_loadings",
        _("Standardised loadings"),
        [
            Column("dimension", _("Dimension")),
            Column("item", _("Item")),
            Column("loading", _("Loading"), "num3"),
        ],
        notes=[_("Highlighted: below 0.50.")],
    )
    for factor, f in factors.items():
        others = [abs(v) for pair, v in correlations.items() if factor in pair.split("~~") and v is not None]
        max_r = max(others) if others else None
        ave = f.get("ave")
        root = math.sqrt(ave) if ave is not None and ave >= 0 else None
        row = len(conv.rows)
        fine = None if root is None or max_r is None else root > max_r
        conv.rows.append(
            [
                ctx.dim(factor),
                len(f.get("loadings") or {}),
                f.get("composite_reliability"),
                ave,
                root,
                max_r,
                "" if fine is None else ("✓" if fine else "✗"),
            ]
        )
        cr = f.get("composite_reliability")
        if (cr is not None and cr < CR_OK) or (ave is not None and ave < AVE_OK) or fine is False:
            conv.marks[(row, -1)] = "flag"
        for item_id, value in (f.get("loadings") or {}).items():
            if value is not None and value < LOADING_OK:
                loads.marks[(len(loads.rows), -1)] = "flag"
            loads.rows.append([ctx.dim(factor), item_id, value])
    s.tables += [conv, loads]

"""The report's "what to do": plain sentences drawn from the results, most pressing first.

Each rule reads one part of the result and says what a branch manager would do about it:

1. a small sample (fewer than ``SMALL_SAMPLE`` respondents): read the rest as indicative;
2. detractors (NPS 0–6): their share, and a service-recovery call from the RM;
3. dimensions in the *concentrate here* quadrant (important, below-average performance): improve first;
4. the strongest key driver (largest share of R²);
5. the largest significant SERVQUAL gap below zero;
6. group differences of overall satisfaction (or loyalty) that are significant and at least medium;
7. what the structural model says about satisfaction → loyalty;
8. *possible overkill* dimensions: hold, do not invest more;
9. measurement: scales with α below 0.70 (and the item whose removal helps), KMO below 0.60, a CFA
   that fits poorly, dimensions with AVE below 0.50.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wealthcrm.surveys.report import Section, fmt
from wealthcrm.surveys.report_groups import magnitude
from wealthcrm.surveys.report_sections import ALPHA_OK, SIGNIFICANT, Context
from wealthcrm.surveys.report_validity import AVE_OK, KMO_OK, fit_verdict

SMALL_SAMPLE = 100
DETRACTORS_HIGH = 0.20
MAX_GROUP_SENTENCES = 3


def _names(ctx: Context, dims: list[str]) -> str:
    sep = "、" if ctx._.zh else ", "
    return sep.join(ctx.dim(d) for d in dims)


def what_to_do(ctx: Context) -> Section:
    _ = ctx._
    s = Section("advice", _("What to do"))
    n = int(ctx.r.get("n_respondents") or 0)
    if n < SMALL_SAMPLE:
        s.bullets.append(
            _(
                "Only {n} respondents answered: read the results as indicative and survey more customers "
                "before acting on small differences."
            ).format(n=fmt(n, "int"))
        )
    outcomes: Mapping[str, Any] = ctx.r.get("outcomes") or {}
    s.bullets += _nps(ctx, outcomes.get("nps"))
    s.bullets += _ipa(ctx, outcomes.get("ipa"), outcomes.get("drivers"))
    s.bullets += _gaps(ctx)
    s.bullets += _groups(ctx)
    s.bullets += _loyalty(ctx, outcomes.get("structural_model"))
    s.bullets += _measurement(ctx)
    if not s.bullets:
        s.bullets.append(
            _("No result calls for action: keep the service as it is and survey again next wave.")
        )
    return s


def _nps(ctx: Context, nps: Mapping[str, Any] | None) -> list[str]:
    _ = ctx._
    if not nps or not nps.get("n"):
        return []
    share = nps["detractors"] / nps["n"]
    out = [
        _(
            "{share} of respondents are detractors (0–6 on recommending the bank): each should get a "
            "service-recovery call from their relationship manager, and what they complain about should "
            "be followed up."
        ).format(share=fmt(share, "pct"))
    ]
    if nps["detractors"] > nps["promoters"]:
        out.append(
            _(
                "NPS is {nps}: detractors outnumber promoters, so word of mouth is working against the "
                "branch."
            ).format(nps=fmt(nps.get("nps"), "signed1"))
        )
    elif share >= DETRACTORS_HIGH:
        out.append(
            _("With one detractor in five or more, recovering detractors comes before winning promoters.")
        )
    return out


def _ipa(ctx: Context, ipa: Mapping[str, Any] | None, drivers: Mapping[str, Any] | None) -> list[str]:
    _ = ctx._
    out: list[str] = []
    dims: Mapping[str, Any] = (ipa or {}).get("dimensions") or {}
    focus = [d for d, v in dims.items() if v.get("quadrant") == "concentrate_here"]
    if focus:
        out.append(
            _(
                "Concentrate on {dims}: they matter more than average to overall satisfaction but score "
                "below average. Improve them first."
            ).format(dims=_names(ctx, focus))
        )
    coefficients: Mapping[str, Any] = (drivers or {}).get("coefficients") or {}
    ranked = sorted(coefficients.items(), key=lambda kv: -(kv[1].get("relative_share") or 0.0))
    if ranked and ranked[0][1].get("relative_share") is not None:
        dim, c = ranked[0]
        out.append(
            _(
                "{dim} is the strongest driver of satisfaction ({share} of the explained variance, "
                "β = {beta}): an improvement there moves overall satisfaction most."
            ).format(dim=ctx.dim(dim), share=fmt(c["relative_share"], "pct"), beta=fmt(c.get("beta"), "num2"))
        )
    overkill = [d for d, v in dims.items() if v.get("quadrant") == "possible_overkill"]
    if overkill:
        out.append(
            _(
                "{dims} score above average but matter less to satisfaction: hold their level rather than "
                "invest more there."
            ).format(dims=_names(ctx, overkill))
        )
    return out


def _gaps(ctx: Context) -> list[str]:
    _ = ctx._
    short = [
        (d, g["dimension"])
        for d, g in (ctx.r.get("gaps") or {}).items()
        if (g.get("dimension") or {}).get("gap") is not None
        and g["dimension"]["gap"] < 0
        and (g["dimension"].get("p") or 1) < SIGNIFICANT
    ]
    if not short:
        return []
    dim, g = min(short, key=lambda dg: dg[1]["gap"])
    return [
        _(
            "Close the largest service gap, {dim}: what customers get falls short of what they expect by "
            "{gap} points."
        ).format(dim=ctx.dim(dim), gap=fmt(-g["gap"], "num2"))
    ]


def _groups(ctx: Context) -> list[str]:
    _ = ctx._
    out: list[str] = []
    for column, targets in (ctx.r.get("groups") or {}).items():
        for target in ("satisfaction", "loyalty", *ctx.dims()):
            t = targets.get(target)
            if not t or t.get("p") is None or t["p"] >= SIGNIFICANT:
                continue
            effect = t.get("effect") or {}
            kind = next((k for k in ("cohen_d", "eta_squared", "epsilon_squared") if k in effect), "")
            if magnitude(kind, effect.get(kind)) not in ("medium", "large"):
                continue
            means = {g: v["mean"] for g, v in t["groups"].items() if v.get("mean") is not None}
            low, high = min(means, key=means.__getitem__), max(means, key=means.__getitem__)
            out.append(
                _(
                    "{score} differs by {group}: lowest among {low} (mean {low_mean}), highest among {high} "
                    "({high_mean}). Find out what the {low} customers miss."
                ).format(
                    score=ctx.target(target),
                    group=ctx.group_name(column, in_sentence=True),
                    low=ctx.group_value(column, low),
                    low_mean=fmt(means[low], "num2"),
                    high=ctx.group_value(column, high),
                    high_mean=fmt(means[high], "num2"),
                )
            )
            break  # one sentence per grouping: the first score that differs
        if len(out) >= MAX_GROUP_SENTENCES:
            break
    return out


def _loyalty(ctx: Context, sem: Mapping[str, Any] | None) -> list[str]:
    _ = ctx._
    if not sem:
        return []
    loyalty = ("loyalty", *ctx.q.outcomes.loyalty)
    path = next((v for k, v in (sem.get("paths") or {}).items() if k.split(" -> ")[1] in loyalty), None)
    if not path or path.get("std") is None:
        return []
    if path["std"] > 0 and (path.get("p") or 1) < SIGNIFICANT:
        return [
            _(
                "Satisfaction carries to loyalty (standardised path {beta}): raising satisfaction is a lever "
                "for keeping customers and their assets."
            ).format(beta=fmt(path["std"], "num2"))
        ]
    return [
        _(
            "Satisfaction does not clearly carry to loyalty here (standardised path {beta}): look for other "
            "reasons customers leave, such as rates and competitors' offers."
        ).format(beta=fmt(path["std"], "num2"))
    ]


def _measurement(ctx: Context) -> list[str]:
    _ = ctx._
    out: list[str] = []
    scales = dict(ctx.dims())
    loyalty = ((ctx.r.get("outcomes") or {}).get("loyalty") or {}).get("reliability")
    if loyalty:
        scales["loyalty"] = loyalty
    for dim, rel in scales.items():
        alpha = rel.get("alpha")
        if alpha is None or alpha >= ALPHA_OK:
            continue
        items = rel.get("items") or {}
        better = [
            (i, v["alpha_if_deleted"]) for i, v in items.items() if (v.get("alpha_if_deleted") or 0) > alpha
        ]
        sentence = _(
            "The {dim} scale is not reliable enough (α = {alpha}, below 0.70): revise its items before its "
            "score is used for decisions."
        ).format(dim=ctx.target(dim), alpha=fmt(alpha, "num3"))
        if better:
            item, value = max(better, key=lambda iv: iv[1])
            sentence += " " + _("Dropping {item} would raise α to {alpha}.").format(
                item=item, alpha=fmt(value, "num3")
            )
        out.append(sentence)
    kmo = (ctx.r.get("kmo") or {}).get("overall")
    if kmo is not None and kmo < KMO_OK:
        out.append(
            _(
                "The items share too little for a factor analysis (KMO = {kmo}, below 0.60): read the factor "
                "structure with caution."
            ).format(kmo=fmt(kmo, "num3"))
        )
    cfa = ctx.r.get("cfa") or {}
    if cfa.get("fit") and fit_verdict(cfa["fit"]) == "poor":
        out.append(
            _(
                "The questionnaire's dimensions fit the answers poorly (CFI = {cfi}, RMSEA = {rmsea}): check "
                "in the EFA loadings which items load on another dimension, and reword or move them."
            ).format(cfi=fmt(cfa["fit"].get("cfi"), "num3"), rmsea=fmt(cfa["fit"].get("rmsea"), "num3"))
        )
    weak = [d for d, f in (cfa.get("factors") or {}).items() if (f.get("ave") or 1) < AVE_OK]
    if weak:
        out.append(
            _(
                "The items of {dims} share less than half their variance with their dimension (AVE below "
                "0.50): reword the items with the lowest loadings."
            ).format(dims=_names(ctx, weak))
        )
    return out

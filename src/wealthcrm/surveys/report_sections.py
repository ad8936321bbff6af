"""The report's :class:`Context` and its first sections: sample profile, reliability, notes.

Every section function reads the analysis result through a :class:`Context` (the translator, the
questionnaire and the result) and returns a :class:`~wealthcrm.surveys.report.Section`, or None when
the result holds nothing for it. Validity is in :mod:`~wealthcrm.surveys.report_validity`,
descriptives and group differences in :mod:`~wealthcrm.surveys.report_groups`, the outcomes (NPS,
IPA, drivers, SEM, gaps) in :mod:`~wealthcrm.surveys.report_outcomes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.report import N_, Chart, Column, Section, Table, Translator, fmt

#: Nunnally's threshold of an acceptable α; George & Mallery's (2003) words for the bands
ALPHA_OK = 0.70
ALPHA_BANDS = (
    (0.9, N_("excellent")),
    (0.8, N_("good")),
    (0.7, N_("acceptable")),
    (0.6, N_("questionable")),
    (0.5, N_("poor")),
    (float("-inf"), N_("unacceptable")),
)
ITEM_TOTAL_OK = 0.30
GROUP_LABELS = {
    "tier": N_("Tier"),
    "age_band": N_("Age band"),
    "rm_id": N_("Relationship manager"),
    "wave": N_("Wave"),
    "gender": N_("Gender"),
}
TIER_LABELS = {
    "mass": N_("Mass"),
    "gold": N_("Gold"),
    "sunflower": N_("Sunflower"),
    "diamond": N_("Diamond"),
    "private": N_("Private banking"),
}
SIGNIFICANT = 0.05


def alpha_band(alpha: float) -> str:
    return next(label for floor, label in ALPHA_BANDS if alpha >= floor)


@dataclass(frozen=True, slots=True)
class Context:
    """What every section needs: the words (``_``), the questionnaire (``q``) and the result (``r``)."""

    _: Translator
    q: Questionnaire
    r: Mapping[str, Any]

    def dim(self, dim_id: str) -> str:
        """A dimension's name in the report's language (its id when it has none)."""
        if dim_id in {d.id for d in self.q.dimensions}:
            name = self.q.dimension(dim_id).name
            if name is not None:
                return name.zh if self._.zh else name.en
        return dim_id

    def item_text(self, item_id: str) -> str:
        item = self.q.item_map().get(item_id)
        if item is None or item.text is None:
            return ""
        return item.text.zh if self._.zh else item.text.en

    def dim_of(self, item_id: str) -> str:
        for d in self.q.dimensions:
            if item_id in d.items or item_id in d.expectations.values():
                return self.dim(d.id)
        return ""

    def target(self, name: str) -> str:
        """A score compared between groups or explained: a dimension, satisfaction, loyalty, NPS."""
        _ = self._
        words = {
            "satisfaction": _("Overall satisfaction"),
            "loyalty": _("Loyalty intentions"),
            "nps_score": _("Likelihood to recommend (0–10)"),
        }
        return words.get(name) or self.dim(name)

    def group_name(self, column: str, *, in_sentence: bool = False) -> str:
        """A grouping's name ("Tier"); inside an English sentence in lower case ("differs by tier")."""
        if column not in GROUP_LABELS:
            return column
        name = self._(GROUP_LABELS[column])
        return name.lower() if in_sentence and not self._.zh else name

    def group_value(self, column: str, value: str) -> str:
        if value == "":
            return self._("Not answered")
        if column == "tier" and value in TIER_LABELS:
            return self._(TIER_LABELS[value])
        return value

    def missing_rule_label(self) -> str:
        _ = self._
        return _("pairwise") if self.r.get("missing") == "pairwise" else _("listwise")

    def dims(self) -> dict[str, Any]:
        found: dict[str, Any] = self.r.get("dimensions") or {}
        return found


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


# --- sample ---------------------------------------------------------------------------------------------


def sample(ctx: Context, profile: Mapping[str, Mapping[str, int]] | None) -> Section:
    _, r = ctx._, ctx.r
    s = Section("sample", _("Sample profile"))
    n = int(r.get("n_respondents") or 0)
    complete = r.get("complete_cases") or {}
    s.paragraphs.append(
        _(
            "{n} respondents answered questionnaire {q}; {complete} of them answered every dimension item."
        ).format(n=fmt(n, "int"), q=ctx.q.id, complete=fmt(complete.get("n"), "int"))
    )
    if r.get("missing") == "pairwise":
        s.paragraphs.append(
            _(
                "Missing answers are handled pairwise: each covariance uses the respondents who answered "
                "both items, and a dimension score is the mean of the items answered when at least half were."
            )
        )
    else:
        s.paragraphs.append(
            _(
                "Missing answers are handled listwise: a dimension's reliability and score use only the "
                "respondents who answered all of its items."
            )
        )
    overview = Table(
        "sample_overview",
        _("Respondents"),
        [Column("measure", _("Measure")), Column("value", _("Value"), "int")],
    )
    overview.rows = [
        [_("Respondents"), n],
        [_("Answered every dimension item"), complete.get("n")],
        [_("Skipped at least one dimension item"), complete.get("n_excluded")],
        [_("Questionnaire items not in the answers"), len(r.get("items_absent") or [])],
    ]
    s.tables.append(overview)
    if profile is None:
        profile = _profile_from_groups(r)
    for column, counts in profile.items():
        total = sum(counts.values())
        table = Table(
            f"profile_{column}",
            _("Respondents by {group}").format(group=ctx.group_name(column)),
            [
                Column("group", ctx.group_name(column)),
                Column("n", _("Respondents"), "int"),
                Column("share", _("Share"), "pct"),
            ],
        )
        table.rows = [[ctx.group_value(column, k), v, _share(v, total)] for k, v in counts.items()]
        s.tables.append(table)
    items = r.get("items") or {}
    for item_id in ctx.q.profile:
        freq = (items.get(item_id) or {}).get("frequencies")
        item = ctx.q.item_map().get(item_id)
        if not freq or item is None:
            continue
        labels = {f"{o.code:g}": (o.label.zh if _.zh else o.label.en) for o in item.options}
        total = sum(freq.values())
        table = Table(
            f"profile_{item_id}",
            ctx.item_text(item_id) or item_id,
            [
                Column("answer", _("Answer")),
                Column("n", _("Respondents"), "int"),
                Column("share", _("Share"), "pct"),
            ],
        )
        table.rows = [[labels.get(code, code), count, _share(count, total)] for code, count in freq.items()]
        s.tables.append(table)
    return s


def _profile_from_groups(r: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Group sizes as the group comparisons counted them (respondents with the first score)."""
    out: dict[str, dict[str, int]] = {}
    for column, targets in (r.get("groups") or {}).items():
        first = next(iter(targets.values()), None)
        if first:
            out[column] = {g: int(v["n"]) for g, v in first["groups"].items()}
    return out


# --- reliability ----------------------------------------------------------------------------------------


def reliability(ctx: Context) -> Section | None:
    _ = ctx._
    dims = dict(ctx.dims())
    loyalty = ((ctx.r.get("outcomes") or {}).get("loyalty") or {}).get("reliability")
    if loyalty:
        dims["__loyalty__"] = loyalty
    if not dims:
        return None
    s = Section("reliability", _("Reliability analysis"))
    label = {d: (_("Loyalty intentions") if d == "__loyalty__" else ctx.dim(d)) for d in dims}
    main = Table(
        "reliability",
        _("Internal consistency (Cronbach's α)"),
        [
            Column("dimension", _("Dimension")),
            Column("k", _("Items"), "int"),
            Column("n", _("Respondents"), "int"),
            Column("alpha", _("α raw"), "num3"),
            Column("alpha_std", _("α standardised"), "num3"),
            Column("ci_low", _("95% CI low"), "num3"),
            Column("ci_high", _("95% CI high"), "num3"),
            Column("r_bar", _("Mean inter-item r"), "num3"),
            Column("rating", _("Rating")),
        ],
        notes=[_("α of 0.70 or more is acceptable (Nunnally); highlighted rows fall short.")],
    )
    items = Table(
        "reliability_items",
        _("Items: corrected item–total correlation and α if deleted"),
        [
            Column("dimension", _("Dimension")),
            Column("item", _("Item")),
            Column("reversed", _("Reverse-keyed")),
            Column("n", _("Respondents"), "int"),
            Column("mean", _("Mean"), "num2"),
            Column("sd", _("SD"), "num2"),
            Column("item_total_r", _("Item–total r"), "num3"),
            Column("alpha_if_deleted", _("α if deleted"), "num3"),
        ],
        notes=[
            _("Reverse-keyed items are reversed before analysis (min + max − answer)."),
            _("Highlighted: item–total r below 0.30, or α rising when the item is deleted."),
        ],
    )
    missing = Table(
        "reliability_missing",
        _("Missing answers in the reliability analysis"),
        [
            Column("dimension", _("Dimension")),
            Column("rule", _("Rule")),
            Column("n", _("Respondents used"), "int"),
            Column("n_complete", _("Answered every item"), "int"),
            Column("n_excluded", _("Not counted"), "int"),
            Column("n_min_pairwise", _("Fewest answers to a pair of items"), "int"),
        ],
    )
    chart: dict[str, list[Any]] = {"categories": [], "values": []}
    for d, rel in dims.items():
        alpha = rel.get("alpha")
        ci = rel.get("alpha_ci") or [None, None]
        row = len(main.rows)
        main.rows.append(
            [
                label[d],
                rel.get("k"),
                rel.get("n"),
                alpha,
                rel.get("alpha_std"),
                ci[0],
                ci[1],
                rel.get("mean_inter_item_r"),
                _(alpha_band(alpha)) if alpha is not None else rel.get("note"),
            ]
        )
        if alpha is None or alpha < ALPHA_OK:
            main.marks[(row, -1)] = "flag"
        chart["categories"].append(label[d])
        chart["values"].append(alpha)
        rule = _("pairwise") if rel.get("missing") == "pairwise" else _("listwise")
        missing.rows.append(
            [
                label[d],
                rule,
                rel.get("n"),
                rel.get("n_complete"),
                rel.get("n_excluded"),
                rel.get("n_min_pairwise"),
            ]
        )
        for item_id, it in (rel.get("items") or {}).items():
            row = len(items.rows)
            items.rows.append(
                [
                    label[d],
                    item_id,
                    "®" if it.get("reversed") else "",
                    it.get("n"),
                    it.get("mean"),
                    it.get("sd"),
                    it.get("item_total_r"),
                    it.get("alpha_if_deleted"),
                ]
            )
            itr, deleted = it.get("item_total_r"), it.get("alpha_if_deleted")
            if itr is not None and itr < ITEM_TOTAL_OK:
                items.marks[(row, 6)] = "flag"
            if deleted is not None and alpha is not None and deleted > alpha:
                items.marks[(row, 7)] = "flag"
    alphas = [a for a in chart["values"] if a is not None]
    if alphas:
        s.paragraphs.append(
            _("Cronbach's α ranges from {low} to {high}; {ok} of {k} scales reach 0.70.").format(
                low=fmt(min(alphas), "num3"),
                high=fmt(max(alphas), "num3"),
                ok=sum(a >= ALPHA_OK for a in alphas),
                k=len(chart["values"]),
            )
        )
    s.tables += [main, items, missing]
    s.charts.append(
        Chart("alpha", "bar", _("Cronbach's α by scale"), chart | {"threshold": ALPHA_OK, "min": 0, "max": 1})
    )
    return s


# --- notes ------------------------------------------------------------------------------------------------


def notes(ctx: Context) -> Section | None:
    _ = ctx._
    warnings = list(ctx.r.get("warnings") or [])
    absent = ctx.r.get("items_absent") or []
    s = Section("notes", _("Notes on the analysis"))
    if absent:
        s.bullets.append(
            _("Items of the questionnaire not in the answers: {items}.").format(items=", ".join(absent))
        )
    s.bullets += warnings
    s.paragraphs.append(
        _(
            "Every statistic is defined, with the library that computes it, in the documentation "
            "(docs/surveys.md). Numbers are rounded for display; the XLSX workbook holds them unrounded."
        )
    )
    return s

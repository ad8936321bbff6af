"""`wealthcrm survey`: check a questionnaire, analyse answers (reliability, validity, NPS, drivers…).

The statistics libraries (pingouin, factor_analyzer, semopy) are imported inside the commands, so
they cost nothing to the other commands' start.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from wealthcrm.cli.common import JsonOption, console, err_console, fail, print_json
from wealthcrm.errors import DomainError

survey_app = typer.Typer(help="Satisfaction and loyalty surveys.", no_args_is_help=True)

ALPHA_OK = 0.70  # Nunnally's threshold, flagged in the tables
KMO_OK = 0.60
LOADING_SHOWN = 0.30


def _f(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(value: Any) -> str:
    if value is None:
        return "–"
    return "<.001" if value < 0.001 else f"{value:.3f}"


@survey_app.command("validate")
def validate(
    questionnaire: Path = typer.Argument(..., help="The questionnaire, a YAML file."),
    as_json: bool = JsonOption,
) -> None:
    """Check a questionnaire file; list every problem with its line and YAML path.

    Prints the dimensions with their items (reverse-keyed ones marked ®), the outcomes and the profile
    items; --json prints the questionnaire as validated, with defaults filled in.

    Example: wealthcrm survey validate branch_default.yaml
    """
    from wealthcrm.surveys.questionnaire import load_questionnaire

    try:
        q = load_questionnaire(questionnaire)
    except DomainError as exc:
        fail(str(exc))
    if as_json:
        print_json(q.model_dump(mode="json"))
        return
    title = q.title.en if q.title else q.id
    console.print(
        f"[bold]{q.id}[/] v{q.version}: {title} — scale {q.scale.min}–{q.scale.max}", highlight=False
    )
    table = Table("dimension", "items", title="Dimensions")
    for d in q.dimensions:
        marked = [f"{i}®" if i in d.reverse else i for i in d.items]
        table.add_row(d.id, " ".join(marked))
    console.print(table)
    o = q.outcomes
    console.print(
        f"outcomes: satisfaction {', '.join(o.satisfaction) or '–'}; loyalty {', '.join(o.loyalty) or '–'}; "
        f"NPS {o.nps or '–'}; profile: {', '.join(q.profile) or '–'}; {len(q.item_map())} items in all",
        highlight=False,
    )
    console.print("[green]valid[/]")


@survey_app.command("analyze")
def analyze(
    ctx: typer.Context,
    answers: Path = typer.Argument(
        ..., help="Answers: CSV, XLSX or Parquet, wide (a column per item) or long (survey_answers)."
    ),
    questionnaire: Path | None = typer.Option(
        None, "--questionnaire", "-q", help="Questionnaire YAML; default: the shipped branch_default."
    ),
    missing: str = typer.Option(
        "pairwise", "--missing", help="Missing answers in reliability and scores: pairwise or listwise."
    ),
    group: list[str] = typer.Option(
        [],
        "--group",
        "-g",
        help="Compare respondents by this column (repeatable), e.g. tier, rm_id, age_band.",
    ),
    customers: Path | None = typer.Option(
        None, "--customers", help="customers.csv/.parquet to join by customer_id (adds rm_id, age_band…)."
    ),
    factors: int | None = typer.Option(
        None, "--factors", min=1, help="Number of EFA factors; default: parallel analysis."
    ),
    models: bool = typer.Option(True, "--models/--no-models", help="Fit the CFA and the structural model."),
    seed: int = typer.Option(0, "--seed", help="Seed of the parallel analysis's random draws."),
    report: Path | None = typer.Option(
        None, "--report", help="Also write the report as one HTML file (charts included, opens offline)."
    ),
    xlsx: Path | None = typer.Option(
        None, "--xlsx", help="Also write the report's tables as an XLSX workbook."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of --report and --xlsx: zh_CN or en; default: the settings' locale."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Reliability, validity, descriptives, group differences, NPS, IPA, key drivers and SEM of a survey.

    Per dimension: Cronbach's α raw and standardised with its 95% interval, α if item deleted,
    corrected item–total r. KMO and Bartlett's test, EFA (factors by parallel analysis; varimax and
    oblimin), CFA of the dimensions (CFI, TLI, RMSEA, SRMR, CR, AVE). NPS with its interval,
    importance–performance quadrants, standardised key-driver regression with relative importance,
    dimensions → satisfaction → loyalty model, group tests with effect sizes. Methods: docs/surveys.md.
    --report writes all of it as a study's results chapter (HTML with charts, with what to do), --xlsx
    its tables, in --lang.

    Example: wealthcrm survey analyze answers.csv --questionnaire bfi.yaml --missing listwise --json

    Example: wealthcrm survey analyze answers.csv -g tier --report survey.html --xlsx survey.xlsx --lang en
    """
    from wealthcrm.cli.common import state
    from wealthcrm.surveys.analysis import MISSING_RULES
    from wealthcrm.surveys.analysis import analyze as run_analysis
    from wealthcrm.surveys.data import attach_customers, prepare, read_answers
    from wealthcrm.surveys.questionnaire import load_questionnaire, shipped_questionnaire
    from wealthcrm.surveys.report import parse_locale, write_report

    if missing not in MISSING_RULES:
        fail(f"--missing: {missing!r}; use pairwise or listwise")
    try:
        locale = (parse_locale(lang) if lang else state(ctx).settings.locale) if report or xlsx else None
        q = load_questionnaire(questionnaire) if questionnaire else shipped_questionnaire()
        data = prepare(read_answers(answers), q)
        if customers is not None:
            data = attach_customers(data, read_answers(customers))
        with nullcontext() if as_json else err_console.status(f"analysing {answers.name}"):
            result = run_analysis(
                data, q, missing=missing, groups=group, n_factors=factors, models=models, seed=seed
            )
    except DomainError as exc:
        fail(str(exc))
    if locale is not None:
        try:
            written = write_report(
                result, q, data=data, groups=group, source=answers.name, locale=locale, html=report, xlsx=xlsx
            )
        except OSError as exc:
            fail(f"cannot write the report: {exc.strerror or exc} ({exc.filename or ''})")
        for path in written:  # on stderr, so that --json output stays clean
            err_console.print(f"written: {path}", highlight=False, soft_wrap=True)
    if as_json:
        print_json(result)
        return
    _print(result)


def _print(r: dict[str, Any]) -> None:
    console.print(
        f"[bold]{r['questionnaire']['id']}[/]: {r['n_respondents']:,} respondents ({r['form']} form), "
        f"missing answers {r['missing']}; {r['complete_cases']['n']:,} complete on every dimension item",
        highlight=False,
    )
    if r["items_absent"]:
        console.print(f"items not in the data: {', '.join(r['items_absent'])}", highlight=False)
    _print_reliability(r)
    _print_validity(r)
    _print_outcomes(r.get("outcomes", {}))
    for name, targets in r.get("groups", {}).items():
        table = Table("score", "groups (n, mean)", "test", "statistic", "p", "effect", title=f"By {name}")
        for target, c in targets.items():
            groups = "\n".join(f"{g}: {v['n']:,}, {v['mean']:.2f}" for g, v in c["groups"].items())
            effect = ", ".join(
                f"{k} {_f(v, 2)}" for k, v in (c.get("effect") or {}).items() if k != "direction"
            )
            table.add_row(
                target, groups, c.get("test") or "–", _f(c.get("statistic"), 2), _p(c.get("p")), effect
            )
        console.print(table)
    for warning in r["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def _print_reliability(r: dict[str, Any]) -> None:
    table = Table("dimension", "k", "n", "α", "α std", "95% CI", "mean", "sd", title="Reliability")
    items = Table("item", "dimension", "n", "mean", "sd", "r item–total", "α if deleted", title="Items")
    for dim, d in r["dimensions"].items():
        alpha = _f(d["alpha"])
        if d["alpha"] is not None and d["alpha"] < ALPHA_OK:
            alpha = f"[yellow]{alpha}[/]"
        ci = "–" if not d["alpha_ci"] else f"{d['alpha_ci'][0]:.3f}–{d['alpha_ci'][1]:.3f}"
        score = d["score"]
        table.add_row(
            dim,
            str(d["k"]),
            f"{d['n']:,}",
            alpha,
            _f(d["alpha_std"]),
            ci,
            _f(score.get("mean"), 2),
            _f(score.get("sd"), 2),
        )
        for item, i in d["items"].items():
            deleted = _f(i.get("alpha_if_deleted"))
            if d["alpha"] is not None and (i.get("alpha_if_deleted") or 0) > d["alpha"]:
                deleted = f"[yellow]{deleted}[/]"
            name = f"{item}®" if i["reversed"] else item
            items.add_row(
                name, dim, f"{i['n']:,}", _f(i["mean"], 2), _f(i["sd"], 2), _f(i.get("item_total_r")), deleted
            )
    console.print(table)
    console.print(items)
    console.print("® reverse-keyed (reversed before analysis); yellow: α < 0.70, or α rises without the item")


def _print_validity(r: dict[str, Any]) -> None:
    if "kmo" in r:
        kmo, b = r["kmo"], r["bartlett"]
        low = [i for i, v in kmo["items"].items() if v < KMO_OK]
        console.print(
            f"KMO {kmo['overall']:.3f} (n = {kmo['n']:,})"
            + (f"; items below {KMO_OK}: {', '.join(low)}" if low else "")
            + f"; Bartlett χ² = {b['chi2']:,.1f}, df = {b['df']}, p {_p(b['p'])}",
            highlight=False,
        )
    efa = r.get("efa")
    if efa:
        fr = efa["factor_retention"]
        eig = ", ".join(f"{v:.2f}" for v in fr["eigenvalues"][:8])
        console.print(
            f"factors to retain: {fr['n_factors_parallel']} by parallel analysis, "
            f"{fr['n_factors_kaiser']} by eigenvalue > 1 (eigenvalues {eig}…)",
            highlight=False,
        )
        if "oblimin" in efa:
            k = efa["n_factors"]
            table = Table(
                "item", *(f"F{j + 1}" for j in range(k)), "h²", title=f"EFA, minres + oblimin, {k} factors"
            )
            for item, row in efa["oblimin"]["loadings"].items():
                top = max(range(k), key=lambda j: abs(row[j]))
                cells = [
                    ("[bold]" if j == top else "") + f"{v:.2f}" + ("[/]" if j == top else "")
                    if abs(v) >= LOADING_SHOWN
                    else ""
                    for j, v in enumerate(row)
                ]
                table.add_row(item, *cells, f"{efa['oblimin']['communalities'][item]:.2f}")
            console.print(table)
    cfa = r.get("cfa")
    if cfa:
        fit = cfa["fit"]
        console.print(
            f"CFA (n = {fit['n']:,}): χ² = {fit['chi2']:,.1f}, df = {fit['df']}, p {_p(fit['p'])}; "
            f"CFI {fit['cfi']:.3f}, TLI {fit['tli']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR {fit['srmr']:.3f}",
            highlight=False,
        )
        table = Table("factor", "loadings (std)", "CR", "AVE", title="CFA: convergent validity")
        for factor, f in cfa["factors"].items():
            loads = " ".join(f"{i} {v:.2f}" for i, v in f["loadings"].items())
            table.add_row(factor, loads, _f(f["composite_reliability"]), _f(f["ave"]))
        console.print(table)


def _print_outcomes(o: dict[str, Any]) -> None:
    nps = o.get("nps")
    if nps and nps.get("nps") is not None:
        console.print(
            f"NPS {nps['nps']:+.1f} (95% CI {nps['ci'][0]:+.1f} to {nps['ci'][1]:+.1f}; n = {nps['n']:,}: "
            f"{nps['promoters']:,} promoters, {nps['passives']:,} passives, "
            f"{nps['detractors']:,} detractors)",
            highlight=False,
        )
    drivers, ipa = o.get("drivers"), o.get("ipa")
    if drivers and ipa:
        title = f"Key drivers of satisfaction (R² = {drivers['r2']:.3f}, n = {drivers['n']:,})"
        table = Table(
            "dimension", "performance", "importance r", "β", "p", "LMG share", "VIF", "quadrant", title=title
        )
        for dim, c in drivers["coefficients"].items():
            i = ipa["dimensions"][dim]
            table.add_row(
                dim,
                _f(i["performance"], 2),
                _f(i["importance"]),
                _f(c["beta"]),
                _p(c["p"]),
                _f(c["relative_share"], 2),
                _f(c["vif"], 2),
                i["quadrant"].replace("_", " "),
            )
        console.print(table)
    sem = o.get("structural_model")
    if sem:
        fit = sem["fit"]
        paths = "; ".join(f"{k} {v['std']:.2f}" for k, v in sem["paths"].items())
        r2 = ", ".join(f"{k} {v:.2f}" for k, v in sem["r2"].items())
        console.print(
            f"structural model (n = {fit['n']:,}; CFI {fit['cfi']:.3f}, RMSEA {fit['rmsea']:.3f}, SRMR "
            f"{fit['srmr']:.3f}): {paths}; R² {r2}",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")


# --- importing answers collected elsewhere (issue 6, distribution) ------------------------------------


@survey_app.command("import")
def import_answers(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="Answers, wide: customer_id, answered_on, [response_id,] one column per item (CSV/XLSX)."
    ),
    questionnaire: Path | None = typer.Option(
        None,
        "--questionnaire",
        "-q",
        help="Questionnaire YAML; default: the wave's questionnaire, else the shipped branch_default.",
    ),
    wave: int | None = typer.Option(
        None, "--wave", min=1, help="The survey wave the answers belong to: marks its invitations answered."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Store survey answers collected elsewhere (paper, phone), checked like every import: all or nothing.

    Each row is one response: customer_id, answered_on (YYYY-MM-DD) and one column per item id; blank
    cells are missing answers. A file with any problem is rejected whole (exit status 2) with every
    problem listed by file, row and column, and nothing stored changes. Importing the same file again
    changes nothing. Detractors (NPS ≤ alerts.detractor_max_score) get their RM's recovery task.

    Example: wealthcrm survey import paper_answers.xlsx --questionnaire branch_default.yaml --wave 3
    """
    from datetime import date

    from wealthcrm.cli.common import state
    from wealthcrm.cli.import_cmd import EXIT_REJECTED, _report_problems
    from wealthcrm.db import session_scope, utcnow
    from wealthcrm.ingest.problems import ImportRejected
    from wealthcrm.surveys.importer import import_answers as run_import
    from wealthcrm.surveys.models import SurveyWave
    from wealthcrm.surveys.questionnaire import Questionnaire, load_questionnaire, shipped_questionnaire

    st = state(ctx)
    engine = st.ready_engine()
    try:
        with session_scope(engine) as session:
            if questionnaire is not None:
                q = load_questionnaire(questionnaire)
            else:
                found = session.get(SurveyWave, wave) if wave is not None else None
                q = Questionnaire.model_validate(found.questionnaire) if found else shipped_questionnaire()
            result = run_import(
                session,
                path=file,
                questionnaire=q,
                today=date.today(),
                settings=st.settings,
                wave_id=wave,
                now=utcnow(),
            )
    except ImportRejected as exc:
        _report_problems(exc.problems, as_json)
        raise typer.Exit(EXIT_REJECTED) from None
    except DomainError as exc:
        fail(str(exc))
    if as_json:
        print_json(result.to_dict())
        return
    console.print(
        f"{result.file}: {result.rows:,} rows; {result.responses:,} new responses "
        f"({result.answers:,} answers) to {result.questionnaire_id}"
        + (f", wave {result.wave_id}" if result.wave_id is not None else "")
        + f"; {result.unchanged:,} already stored; {result.tasks:,} recovery tasks raised",
        highlight=False,
    )

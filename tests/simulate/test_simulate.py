"""The synthetic branch: deterministic, contract-exact, importable, and plausible where it matters."""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from wealthcrm.config import ChurnSettings, Settings, TierSettings
from wealthcrm.ingest.contract import FILES
from wealthcrm.security.pii import is_valid_mobile, is_valid_national_id
from wealthcrm.simulate import SimParams, SimulationSummary, simulate_branch
from wealthcrm.simulate.run import roc_auc
from wealthcrm.tiers.matrix import customer_loss_matrix, tier_matrix

from .conftest import CUSTOMERS, END, MONTHS, TODAY, run


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def test_same_seed_gives_byte_identical_files(
    runs: dict[int, tuple[Path, SimulationSummary]], tmp_path: Path
) -> None:
    run(tmp_path, 1)
    first = digests(runs[1][0])
    assert digests(tmp_path) == first
    expected = {f"{spec.name}.csv" for spec in FILES} | {"ground_truth.csv", "ground_truth_rms.csv"}
    assert set(first) == expected


def test_different_seeds_give_different_data(runs: dict[int, tuple[Path, SimulationSummary]]) -> None:
    one, two = digests(runs[1][0]), digests(runs[2][0])
    for name in ("customers.csv", "aum_monthly.csv", "transactions.csv", "ground_truth.csv"):
        assert one[name] != two[name]


def test_columns_are_exactly_the_contract(runs: dict[int, tuple[Path, SimulationSummary]]) -> None:
    folder, summary = runs[1]
    for spec in FILES:
        assert header(folder / f"{spec.name}.csv") == list(spec.column_names), spec.name
        assert summary.rows[spec.name] > 0
    first_line = (folder / "ground_truth.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line == "customer_id,month,p_loss_3m,lost_within_3m"  # literally, no quotes
    assert header(folder / "ground_truth_rms.csv") == ["staff_id", "skill"]
    assert summary.rows["customers"] == CUSTOMERS


def test_parquet_has_the_contract_columns(tmp_path: Path) -> None:
    summary = run(tmp_path, 5, customers=300, months=6, fmt="parquet")
    for spec in FILES:
        assert pq.read_schema(tmp_path / f"{spec.name}.parquet").names == list(spec.column_names)
        assert pq.read_metadata(tmp_path / f"{spec.name}.parquet").num_rows == summary.rows[spec.name]
    assert (tmp_path / "ground_truth.csv").exists()


def test_formats_and_identifiers(runs: dict[int, tuple[Path, SimulationSummary]]) -> None:
    folder = runs[1][0]
    customers = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    assert customers["customer_id"].str.fullmatch(r"C\d{8}").all()
    assert customers["national_id"].map(is_valid_national_id).all()
    assert customers["national_id"].is_unique
    assert customers["mobile"].map(is_valid_mobile).all()
    assert set(customers["consent_sms"]) <= {"0", "1"}
    assert (customers["branch_id"] == "B001").all()
    staff = pd.read_csv(folder / "staff.csv", dtype=str, keep_default_na=False)
    assert staff["staff_id"].str.fullmatch(r"S\d{4}").all()
    assert (staff.loc[staff["status"] == "left", "left_on"] != "").all()
    products = pd.read_csv(folder / "products.csv", dtype=str, keep_default_na=False)
    assert products["product_code"].str.fullmatch(r"(DD|TD|WMP|FND|INS|BND|GLD|CST)\d{4}").all()
    wmp_terms = products.loc[products["product_type"] == "wmp", "term_months"].astype(int)
    assert wmp_terms.between(3, 12).all()
    aum = pd.read_csv(folder / "aum_monthly.csv", dtype=str)
    assert aum["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert aum["avg_daily_balance"].str.fullmatch(r"\d+\.\d{2}").all()  # never 1.2e+07
    inter = pd.read_csv(folder / "interactions.csv", dtype=str)
    assert inter["occurred_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}").all()


def test_no_date_after_today_but_maturities(runs: dict[int, tuple[Path, SimulationSummary]]) -> None:
    folder = runs[1][0]
    for spec in FILES:
        frame = pd.read_csv(folder / f"{spec.name}.csv", dtype=str)
        for col in spec.columns:
            if col.type in ("date", "datetime") and col.name != "maturity_on":
                values = pd.to_datetime(frame[col.name].dropna())
                assert (values <= pd.Timestamp(TODAY)).all(), (spec.name, col.name)
    months = pd.read_csv(folder / "aum_monthly.csv", usecols=["month"])["month"]
    assert months.max() == END
    assert months.nunique() == MONTHS


def _tiers_from_files(folder: Path) -> tuple[pd.DataFrame, np.ndarray, list[str], pd.Index]:
    """The effective tier per customer and month from aum_monthly alone, as a reader would get it."""
    aum = pd.read_csv(folder / "aum_monthly.csv", usecols=["customer_id", "month", "avg_daily_balance"])
    total = aum.groupby(["customer_id", "month"])["avg_daily_balance"].sum().unstack("month")
    months = sorted(total.columns)
    total = total[months]
    matrix = tier_matrix(total.to_numpy(), TierSettings())
    return total, matrix.tier, months, total.index


def test_ground_truth_rows_are_the_sunflower_plus_customer_months(
    runs: dict[int, tuple[Path, SimulationSummary]],
) -> None:
    folder = runs[1][0]
    _, tier, months, ids = _tiers_from_files(folder)
    customers = pd.read_csv(folder / "customers.csv", usecols=["customer_id", "closed_on"]).set_index(
        "customer_id"
    )
    closed_month = customers["closed_on"].reindex(ids).str[:7]
    month_arr = np.array(months)
    before_close = closed_month.isna().to_numpy()[:, None] | (
        month_arr[None, :] < closed_month.fillna("9999").to_numpy()[:, None]
    )
    rows, cols = np.nonzero((tier >= 2) & before_close)
    expected = set(zip(ids[rows], month_arr[cols], strict=True))
    truth = pd.read_csv(folder / "ground_truth.csv")
    assert set(zip(truth["customer_id"], truth["month"], strict=True)) == expected
    assert truth["p_loss_3m"].between(0, 1).all()
    assert set(truth["lost_within_3m"]) <= {0, 1}


def test_labels_match_the_losses_visible_in_the_files(
    runs: dict[int, tuple[Path, SimulationSummary]],
) -> None:
    """For months whose 3-month future lies inside the files, lost_within_3m is what the files show."""
    folder = runs[1][0]
    total, tier, months, ids = _tiers_from_files(folder)
    customers = pd.read_csv(folder / "customers.csv", usecols=["customer_id", "closed_on"]).set_index(
        "customer_id"
    )
    closed = customers["closed_on"].reindex(ids).str[:7]
    closed_idx = np.array([months.index(c) if isinstance(c, str) else -1 for c in closed])
    loss = customer_loss_matrix(tier, closed_idx, ChurnSettings())
    ahead = np.cumsum(loss, axis=1)
    truth = pd.read_csv(folder / "ground_truth.csv")
    truth = truth[truth["month"] <= months[-4]]
    r = ids.get_indexer(pd.Index(truth["customer_id"]))
    c = np.array([months.index(x) for x in truth["month"]])
    from_files = (ahead[r, c + 3] - ahead[r, c]) > 0
    assert (from_files == truth["lost_within_3m"].astype(bool).to_numpy()).all()
    assert len(total) == CUSTOMERS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_loss_rate_and_oracle_auc_are_plausible(
    runs: dict[int, tuple[Path, SimulationSummary]], seed: int
) -> None:
    folder, summary = runs[seed]
    assert 0.08 <= summary.annual_loss_rate <= 0.15
    truth = pd.read_csv(folder / "ground_truth.csv")
    auc = roc_auc_score(truth["lost_within_3m"], truth["p_loss_3m"])
    assert 0.80 <= auc <= 0.95
    assert summary.oracle_auc == pytest.approx(auc, abs=1e-3)
    # p_loss_3m is a probability: on average it matches what happened
    assert truth["p_loss_3m"].mean() == pytest.approx(truth["lost_within_3m"].mean(), rel=0.25)


def test_tier_mix_and_concentration_look_like_a_branch(
    runs: dict[int, tuple[Path, SimulationSummary]],
) -> None:
    for _, summary in runs.values():
        mix = summary.tier_mix
        assert mix["gold"] > 0.6
        assert 0.18 <= mix["sunflower"] + mix["diamond"] + mix["private"] <= 0.32
        assert 0 < mix["diamond"] + mix["private"] < 0.03
        assert 0.4 <= summary.top10_share <= 0.8


def test_rm_ground_truth_covers_the_rms(runs: dict[int, tuple[Path, SimulationSummary]]) -> None:
    folder = runs[1][0]
    rms = pd.read_csv(folder / "ground_truth_rms.csv")
    staff = pd.read_csv(folder / "staff.csv")
    assert set(rms["staff_id"]) == set(staff.loc[staff["role"] == "rm", "staff_id"])
    assert rms["skill"].between(0, 1).all()
    customers = pd.read_csv(folder / "customers.csv")
    assert set(customers["rm_id"]) <= set(rms["staff_id"])
    assert (staff["status"] == "left").any()  # RMs leave over two years


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_file_passes_the_importers_validation(tmp_path: Path, fmt: str) -> None:
    importer = pytest.importorskip("wealthcrm.ingest.importer")
    from wealthcrm import schema
    from wealthcrm.db import make_engine

    out = tmp_path / "out"
    run(out, 11, customers=1_500, fmt=fmt)
    engine = make_engine(f"sqlite:///{tmp_path / 'v.db'}")
    schema.upgrade(engine)
    settings = Settings(data_dir=tmp_path / "data", field_key=base64.b64encode(bytes(range(32))).decode())
    problems = importer.validate_path(engine, out, settings=settings, today=TODAY)
    engine.dispose()
    assert problems == []


def test_end_month_defaults_to_the_last_complete_month(tmp_path: Path) -> None:
    summary = simulate_branch(customers=50, months=6, seed=1, out=tmp_path, today=date(2026, 3, 1))
    assert summary.end_month == "2026-02"
    with pytest.raises(ValueError, match="not a complete month"):
        simulate_branch(
            customers=50, months=6, seed=1, out=tmp_path, end_month="2026-03", today=date(2026, 3, 31)
        )
    with pytest.raises(ValueError, match="at least 3"):
        run(tmp_path, 1, customers=50, months=6, params=SimParams(hidden_months=2))


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    run(tmp_path, 1, customers=50, months=6, progress=lambda *a: calls.append(a))
    assert calls == [("simulate", 1, 1)]


def test_rank_auc_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    score = np.round(rng.random(2_000), 2)  # many ties
    label = (rng.random(2_000) < score).astype(np.int8)
    assert roc_auc(score, label) == pytest.approx(roc_auc_score(label, score), abs=1e-12)


def test_every_parameter_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(SimParams) if f"`{f.name}`" not in doc]
    assert missing == []


@pytest.mark.slow
def test_output_does_not_depend_on_the_number_of_workers(tmp_path: Path) -> None:
    """Blocks draw from their own seed streams, so two processes write what one does."""
    run(tmp_path / "one", 3, customers=17_000, workers=1)
    run(tmp_path / "two", 3, customers=17_000, workers=2)
    assert digests(tmp_path / "one") == digests(tmp_path / "two")

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from wealthcrm.config import Settings, iter_setting_fields, load_settings
from wealthcrm.vocab import Tier


def test_defaults_are_the_spec() -> None:
    s = Settings()
    assert s.tiers.thresholds() == [0.0, 50_000, 500_000, 5_000_000, 10_000_000]
    assert (s.tiers.grace(Tier.sunflower), s.tiers.grace(Tier.private)) == (3, 6)
    assert (s.churn.asset_loss_drop, s.churn.asset_loss_lookback_months, s.churn.horizon_months) == (
        0.3,
        3,
        3,
    )
    assert (s.cadence.sunflower_days, s.cadence.diamond_days, s.cadence.private_days) == (30, 14, 7)
    assert (s.alerts.large_outflow_amount, s.alerts.large_outflow_share, s.alerts.reinvest_days) == (
        200_000,
        0.3,
        7,
    )


def test_file_then_environment_then_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "wealthcrm.toml"
    path.write_text(
        'locale = "en"\n[tiers]\ngrace_months = 4\nsunflower_min = 600000\n[alerts]\nreinvest_days = 5\n'
    )
    monkeypatch.setenv("WEALTHCRM_ALERTS__REINVEST_DAYS", "9")

    s = load_settings(path, database_url="sqlite:///x.db")

    assert (s.locale, s.tiers.grace_months, s.tiers.sunflower_min) == ("en", 4, 600_000)
    assert s.alerts.reinvest_days == 9  # environment beats the file
    assert s.effective_database_url == "sqlite:///x.db"


def test_settings_file_from_environment_and_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wealthcrm.toml").write_text("[cadence]\nsunflower_days = 20\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().cadence.sunflower_days == 20
    other = tmp_path / "other.toml"
    other.write_text("[cadence]\nsunflower_days = 25\n")
    monkeypatch.setenv("WEALTHCRM_SETTINGS_FILE", str(other))
    assert load_settings().cadence.sunflower_days == 25
    monkeypatch.setenv("WEALTHCRM_SETTINGS_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        load_settings()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tiers]\nsunflower_min = 40000\n", "tier thresholds must rise"),
        ("[tiers]\ngrace_monts = 4\n", "Extra inputs are not permitted"),
        ("[churn]\nasset_loss_drop = 1.5\n", "less than 1"),
        ('locale = "fr"\n', "zh_CN"),
    ],
)
def test_impossible_settings_are_rejected(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ValidationError, match=message):
        load_settings(path)


def test_every_setting_has_a_description() -> None:
    fields = iter_setting_fields()
    assert len(fields) >= 30
    assert [name for name, _, description in fields if not description] == []

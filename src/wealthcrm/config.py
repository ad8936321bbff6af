"""Settings: every business rule a bank would tune, in one class, read from one TOML file.

Precedence, highest first: keyword arguments, environment variables (``WEALTHCRM_…``, nested with
``__``, e.g. ``WEALTHCRM_TIERS__GRACE_MONTHS=4``), the settings file, the defaults below.
The settings file is ``--settings PATH`` / ``WEALTHCRM_SETTINGS_FILE``, else ``./wealthcrm.toml``, else
``wealthcrm.toml`` in the user data directory, if either exists. Nothing is read at import time:
call :func:`load_settings`.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from wealthcrm.vocab import TIER_ORDER, Tier

SETTINGS_FILE_ENV = "WEALTHCRM_SETTINGS_FILE"
SETTINGS_FILE_NAME = "wealthcrm.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("wealthcrm", appauthor=False))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierSettings(_Section):
    """Tier thresholds on month-average daily AUM (CNY) and the downgrade grace period."""

    gold_min: float = Field(50_000, gt=0, description="Lowest month-average AUM of gold (CNY).")
    sunflower_min: float = Field(
        500_000, gt=0, description="Lowest month-average AUM of sunflower (CNY); CMB's published band."
    )
    diamond_min: float = Field(5_000_000, gt=0, description="Lowest month-average AUM of diamond (CNY).")
    private_min: float = Field(
        10_000_000, gt=0, description="Lowest month-average AUM of private banking (CNY); CMB's band."
    )
    grace_months: int = Field(
        3, ge=1, le=24, description="Consecutive months below the tier before a downgrade (gold to diamond)."
    )
    private_grace_months: int = Field(
        6,
        ge=1,
        le=24,
        description="Consecutive months below the tier before a private customer is downgraded.",
    )

    @model_validator(mode="after")
    def _ascending(self) -> TierSettings:
        mins = [self.gold_min, self.sunflower_min, self.diamond_min, self.private_min]
        if any(a >= b for a, b in itertools.pairwise(mins)):
            raise ValueError(
                "tier thresholds must rise: gold_min < sunflower_min < diamond_min < private_min"
            )
        return self

    def threshold(self, tier: Tier) -> float:
        """The lowest AUM of a tier (0 for mass)."""
        return {
            Tier.mass: 0.0,
            Tier.gold: self.gold_min,
            Tier.sunflower: self.sunflower_min,
            Tier.diamond: self.diamond_min,
            Tier.private: self.private_min,
        }[tier]

    def thresholds(self) -> list[float]:
        """Lowest AUM of each tier in ``TIER_ORDER``."""
        return [self.threshold(t) for t in TIER_ORDER]

    def grace(self, tier: Tier) -> int:
        return self.private_grace_months if tier is Tier.private else self.grace_months


class ChurnSettings(_Section):
    """What counts as customer loss and asset loss, and the prediction horizon."""

    customer_loss_min_tier: Tier = Field(
        Tier.sunflower, description="Customers at or above this tier count when they fall below it or close."
    )
    asset_loss_drop: float = Field(
        0.30, gt=0, lt=1, description="Asset loss: total AUM falls by at least this share …"
    )
    asset_loss_lookback_months: int = Field(3, ge=1, le=12, description="… against this many months earlier.")
    horizon_months: int = Field(
        3, ge=1, le=12, description="Prediction target: customer loss within this many months."
    )
    zero_aum_max: float = Field(
        1_000, ge=0, description="A customer whose month-average AUM is at most this (CNY) counts as AUM ≈ 0."
    )


class LifecycleSettings(_Section):
    """Thresholds of the monthly lifecycle stage."""

    onboarding_months: int = Field(
        6, ge=1, le=36, description="Months in tier during which a customer is onboarding."
    )
    declining_drop: float = Field(0.20, gt=0, lt=1, description="Declining: AUM down at least this share …")
    declining_lookback_months: int = Field(3, ge=1, le=12, description="… over this many months.")
    growing_rise: float = Field(
        0.05, gt=0, lt=1, description="Growing: AUM up at least this share over the declining look-back."
    )


class CadenceSettings(_Section):
    """Minimum meaningful contacts per tier (days between contacts); overdue contacts become tasks."""

    sunflower_days: int = Field(
        30, ge=1, description="Sunflower customers: at least one contact every N days."
    )
    diamond_days: int = Field(14, ge=1, description="Diamond customers: every N days.")
    private_days: int = Field(7, ge=1, description="Private banking customers: every N days.")
    gold_prospect_days: int = Field(
        90, ge=1, description="Gold prospects (see gold_prospect_min_aum): every N days."
    )
    gold_prospect_min_aum: float = Field(
        300_000, ge=0, description="A gold customer with at least this AUM and rising is a prospect."
    )


class AlertSettings(_Section):
    """Early-warning thresholds."""

    large_outflow_amount: float = Field(
        200_000, gt=0, description="A single outflow of at least this (CNY) alerts …"
    )
    large_outflow_share: float = Field(0.30, gt=0, le=1, description="… or of at least this share of AUM.")
    reinvest_days: int = Field(7, ge=1, description="A matured product not reinvested within N days alerts.")
    other_bank_min_amount: float = Field(
        50_000, ge=0, description="A month's transfers out to other banks alert from this total (CNY)."
    )
    near_threshold_margin: float = Field(
        0.10, gt=0, lt=1, description="AUM within this share above the tier threshold and falling alerts."
    )
    activity_collapse_ratio: float = Field(
        0.5, gt=0, lt=1, description="Logins or transactions below this share of their 3-month average alert."
    )
    detractor_max_score: int = Field(
        6, ge=0, le=10, description="NPS answers up to this score are detractors."
    )


class SuitabilitySettings(_Section):
    """Investor suitability (投资者适当性)."""

    assessment_valid_months: int = Field(
        12, ge=1, le=36, description="A risk assessment is valid this many months."
    )
    recording_required_types: list[str] = Field(
        default_factory=lambda: ["wmp", "fund", "insurance", "precious_metal"],
        description="Product types whose in-branch sale needs an audio-video recording (双录).",
    )


class ImportSettings(_Section):
    """The data-contract importer."""

    max_future_days: int = Field(0, ge=0, description="Dates up to this many days after today are accepted.")
    fallback_encoding: str = Field(
        "gb18030", description="Encoding tried for a CSV that is not valid UTF-8 (GB18030 covers GBK/GB2312)."
    )


class WebSettings(_Section):
    """The web application: login sessions and account lockout."""

    session_secret: SecretStr | None = Field(
        None,
        description="Key that signs the session cookie; default: a random key file created in data_dir.",
    )
    session_max_age_minutes: int = Field(
        480, ge=5, le=7 * 24 * 60, description="A login lasts this many minutes; then the user logs in again."
    )
    lockout_attempts: int = Field(
        5, ge=1, le=100, description="Wrong passwords in a row that lock an account …"
    )
    lockout_minutes: int = Field(15, ge=1, le=24 * 60, description="… for this many minutes.")
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (set true when served behind TLS)."
    )


class Settings(BaseSettings):
    """The effective settings of one wealthcrm installation."""

    model_config = SettingsConfigDict(
        env_prefix="WEALTHCRM_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str | None = Field(None, description="SQLAlchemy URL; default: a SQLite file in data_dir.")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the default database and keys live."
    )
    field_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte key for PII encrypted at rest; default: a key file created in data_dir.",
    )
    locale: Literal["zh_CN", "en"] = Field(
        "zh_CN", description="Default language of pages and reports: zh_CN or en."
    )
    tiers: TierSettings = Field(default_factory=TierSettings)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    cadence: CadenceSettings = Field(default_factory=CadenceSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    suitability: SuitabilitySettings = Field(default_factory=SuitabilitySettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'wealthcrm.db'}"


def find_settings_file(explicit: Path | None = None) -> Path | None:
    """The settings file in force: explicit, then $WEALTHCRM_SETTINGS_FILE, ./wealthcrm.toml, data dir."""
    if explicit is not None:
        if not explicit.is_file():
            raise FileNotFoundError(f"settings file not found: {explicit}")
        return explicit
    env = os.environ.get(SETTINGS_FILE_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise FileNotFoundError(f"{SETTINGS_FILE_ENV} names a missing file: {path}")
        return path
    for candidate in (Path.cwd() / SETTINGS_FILE_NAME, default_data_dir() / SETTINGS_FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the effective settings (see module docstring for precedence)."""
    path = find_settings_file(settings_file)
    if path is None:
        return Settings(**overrides)

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return _FromFile(**overrides)


def iter_setting_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, Any, str]]:
    """Every leaf setting as (dotted name, default, description): the source of `config show` and the docs."""
    out: list[tuple[str, Any, str]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(iter_setting_fields(ann, f"{prefix}{name}."))
        else:
            default = (
                field.get_default(call_default_factory=True) if name != "data_dir" else "<user data dir>"
            )
            out.append((f"{prefix}{name}", default, field.description or ""))
    return out

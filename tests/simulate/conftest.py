"""Simulated branches shared by the simulator tests: seeds 1, 2, 3 at 6,000 customers × 24 months."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from wealthcrm.simulate import SimulationSummary, simulate_branch

TODAY = date(2026, 11, 28)
END = "2026-10"
CUSTOMERS = 6_000  # large enough that three seeds land well inside the plausibility ranges
MONTHS = 24


def run(out: Path, seed: int, **kwargs: object) -> SimulationSummary:
    return simulate_branch(
        customers=kwargs.pop("customers", CUSTOMERS),  # type: ignore[arg-type]
        months=kwargs.pop("months", MONTHS),  # type: ignore[arg-type]
        seed=seed,
        out=out,
        end_month=kwargs.pop("end_month", END),  # type: ignore[arg-type]
        today=TODAY,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, SimulationSummary]]:
    """Seeds 1, 2, 3 at 6,000 customers × 24 months, CSV."""
    out = {}
    for seed in (1, 2, 3):
        folder = tmp_path_factory.mktemp(f"seed{seed}")
        out[seed] = (folder, run(folder, seed))
    return out

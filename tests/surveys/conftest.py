"""Survey data for the tests: the psych package's bfi, and the simulator's answers with blanks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wealthcrm.simulate.survey import ITEM_IDS, answers
from wealthcrm.surveys.data import read_answers
from wealthcrm.surveys.questionnaire import Questionnaire, load_questionnaire

BFI = Path("/work/shared/datasets/bfi.csv")
DATA = Path(__file__).parent / "data"
BFI_REVERSED = ("A1", "C4", "C5", "E1", "E2", "O2", "O5")
BFI_ITEMS = [f"{s}{i}" for s in "ACENO" for i in range(1, 6)]


@pytest.fixture(scope="session")
def bfi_q() -> Questionnaire:
    return load_questionnaire(DATA / "bfi.yaml")


@pytest.fixture(scope="session")
def bfi_raw() -> pd.DataFrame:
    """bfi as the CLI reads it (text cells)."""
    return read_answers(BFI)


@pytest.fixture(scope="session")
def bfi_keyed() -> pd.DataFrame:
    """bfi's 25 items as numbers, reverse-keyed items reversed (7 − x), straight from pandas."""
    frame = pd.read_csv(BFI, index_col=0)[BFI_ITEMS].astype(float)
    for item in BFI_REVERSED:
        frame[item] = 7 - frame[item]
    return frame


def simulated(n: int, seed: int, blanks: float = 0.05) -> pd.DataFrame:
    """Wide answers from the simulator's factor model, with extra blanks, a tier and an RM column."""
    rng = np.random.default_rng(seed)
    sat = rng.standard_normal(n)
    scores = answers(sat, rng.standard_normal(n), rng.standard_normal(n), rng.random(n) < 0.1, rng)
    scores[rng.random(scores.shape) < blanks] = np.nan
    frame = pd.DataFrame(scores, columns=list(ITEM_IDS))
    frame.insert(0, "respondent", [f"V{i:05d}" for i in range(n)])
    # tier shifts satisfaction a little so group tests have something to find
    tier = np.where(sat > 0.8, "private", np.where(sat > -0.3, "diamond", "sunflower"))
    frame.insert(1, "tier", tier)
    frame.insert(2, "rm_id", rng.choice(["S0001", "S0002"], n))
    return frame


@pytest.fixture(scope="session")
def sim_wide() -> pd.DataFrame:
    return simulated(800, seed=11)

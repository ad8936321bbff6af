"""The branch questionnaire (``branch_default``) and the factor model that answers it.

The item ids are the contract with the survey module, which ships the matching questionnaire:
SERVQUAL's five dimensions (4 items each), the relationship manager, digital channels and perceived
value (3 each), overall satisfaction, two loyalty intentions, all on a 1–7 Likert scale, and the
Net Promoter question (0–10).

Answers come from the customer's hidden satisfaction through a factor model: each dimension is a
latent factor correlated with (standardised) satisfaction, each item ``loading × factor + noise``,
rounded and clipped to the scale; about 2% of answers are missing.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

QUESTIONNAIRE_ID = "branch_default"
NPS_ITEM = "NPS"
LIKERT_MIN, LIKERT_MAX = 1, 7
NPS_MIN, NPS_MAX = 0, 10

#: (item id, dimension), in questionnaire order.
ITEMS: tuple[tuple[str, str], ...] = (
    *((f"TAN{i}", "tangibles") for i in range(1, 5)),
    *((f"REL{i}", "reliability") for i in range(1, 5)),
    *((f"RES{i}", "responsiveness") for i in range(1, 5)),
    *((f"ASS{i}", "assurance") for i in range(1, 5)),
    *((f"EMP{i}", "empathy") for i in range(1, 5)),
    *((f"RM{i}", "relationship_manager") for i in range(1, 4)),
    *((f"DIG{i}", "digital") for i in range(1, 4)),
    *((f"VAL{i}", "value") for i in range(1, 4)),
    ("SAT1", "satisfaction"),
    ("LOY1", "loyalty"),
    ("LOY2", "loyalty"),
    (NPS_ITEM, "nps"),
)
ITEM_IDS: tuple[str, ...] = tuple(item for item, _ in ITEMS)
#: Dimension → its items, in order.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    d: tuple(i for i, dim in ITEMS if dim == d) for d in dict.fromkeys(dim for _, dim in ITEMS)
}
SERVQUAL = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")

#: Correlation of each multi-item dimension's factor with satisfaction, and the mean item answer.
_FACTOR_SAT = {
    "tangibles": 0.45,
    "reliability": 0.75,
    "responsiveness": 0.7,
    "assurance": 0.65,
    "empathy": 0.7,
    "relationship_manager": 0.55,
    "digital": 0.45,
    "value": 0.6,
}
_MEAN = {
    "tangibles": 5.4,
    "reliability": 5.2,
    "responsiveness": 5.0,
    "assurance": 5.3,
    "empathy": 5.1,
    "relationship_manager": 5.3,
    "digital": 5.0,
    "value": 4.8,
}
_SD = 1.2  # item spread on the Likert scale before rounding
#: Item loadings on their factor (fixed, so reliabilities are stable from run to run).
_LOADING = np.array([0.78, 0.82, 0.74, 0.8, 0.85, 0.81, 0.77, 0.83, 0.8, 0.76, 0.83, 0.79, 0.81, 0.84, 0.75,
                     0.8, 0.82, 0.78, 0.8, 0.76, 0.84, 0.86, 0.8, 0.8, 0.84, 0.78, 0.82, 0.85,
                     0.8])  # fmt: skip
MISSING = 0.02
#: Scale of the hidden satisfaction (its spread across customers) used to standardise it.
SAT_SCALE = 0.75

COMMENTS_LOW = (
    "理财收益不如他行",
    "客户经理换得太频繁",
    "投诉处理太慢",
    "到期后没人联系我",
    "排队时间太长",
)
COMMENTS_HIGH = ("客户经理很专业", "服务周到，感谢", "手机银行很方便", "产品选择丰富")


def answers(
    sat: npt.NDArray[np.float64],
    rm_skill: npt.NDArray[np.float64],
    digital: npt.NDArray[np.float64],
    defecting: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """(n, len(ITEMS)) scores, NaN where the item was skipped.

    ``sat`` is satisfaction standardised (mean 0, sd about 1 across customers), ``rm_skill`` and
    ``digital`` (the login habit) standardised likewise; ``defecting`` lowers the loyalty items and
    the Net Promoter score beyond what satisfaction explains.
    """
    n = len(sat)
    out = np.empty((n, len(ITEMS)))
    col = 0
    for dim, r in _FACTOR_SAT.items():
        k = len(DIMENSIONS[dim])
        extra = {"relationship_manager": rm_skill, "digital": digital}.get(dim)
        own = 0.45 if extra is not None else 0.0
        factor = r * sat + own * (extra if extra is not None else 0.0)
        factor += np.sqrt(max(1.0 - r * r - own * own, 0.05)) * rng.standard_normal(n)
        lam = _LOADING[col : col + k]
        noise = rng.standard_normal((n, k))
        out[:, col : col + k] = _MEAN[dim] + _SD * (lam * factor[:, None] + np.sqrt(1.0 - lam * lam) * noise)
        col += k
    e = rng.standard_normal((n, 4))
    out[:, col] = 5.0 + _SD * (0.88 * sat + 0.47 * e[:, 0])  # SAT1
    out[:, col + 1] = 5.3 + _SD * (0.7 * sat + 0.7 * e[:, 1]) - 1.2 * defecting  # LOY1: stay
    out[:, col + 2] = 4.4 + _SD * (0.55 * sat + 0.83 * e[:, 2]) - 0.8 * defecting  # LOY2: add assets
    out[:, :-1] = np.clip(np.rint(out[:, :-1]), LIKERT_MIN, LIKERT_MAX)
    nps = 7.7 + 2.0 * (0.85 * sat + 0.53 * e[:, 3]) - 2.0 * defecting
    out[:, -1] = np.clip(np.rint(nps), NPS_MIN, NPS_MAX)
    out[rng.random(out.shape) < MISSING] = np.nan
    return out

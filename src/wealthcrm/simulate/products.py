"""The product shelf: deposits, WMP issues of 3–12 months (R1–R4), funds, insurance, gold, bonds.

Maturing products (time deposits, WMPs, savings bonds) fill a customer's maturity "slots"; funds,
insurance and gold are one holding each. New WMP and bond issues are launched during the window, each on
sale in its launch month and the next, so the shelf a customer buys from changes month by month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.params import SimParams
from wealthcrm.simulate.timeline import Timeline
from wealthcrm.vocab import AssetClass

ASSET_CLASSES: tuple[str, ...] = tuple(a.value for a in AssetClass)
DD, TD, WMP, FUND, INS, BOND, GOLD, CUST = range(len(ASSET_CLASSES))
#: Asset classes of the maturity slots, in the order a customer's risk level weights them.
MATURING = (TD, WMP, BOND)
#: Holdings that are one position each (fund, insurance, gold), in ``State.hold`` column order.
HOLDINGS = (FUND, INS, GOLD)

_FUND_HOUSES = ("华盛基金", "远景基金", "东方长城基金", "南山基金", "汇通基金", "嘉和基金")
_INSURERS = ("平安寿险", "国泰人寿", "华信人寿", "长江养老")

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Shelf:
    codes: tuple[str, ...]
    names: tuple[str, ...]
    asset_class: Ints
    risk: Ints  # 1..5
    term: Ints  # months; 0 = does not mature
    agency: npt.NDArray[np.bool_]
    issuer: tuple[str | None, ...]
    launch_month: Ints  # month index; negative = before the window
    launched_on: npt.NDArray[np.datetime64]
    closed: npt.NDArray[np.bool_]  # status at the end of the window
    rate: npt.NDArray[np.float64]  # expected annual yield (maturing products)
    beta: npt.NDArray[np.float64]  # equity exposure (funds)
    #: (class, customer risk) -> per month, the product indices a customer may buy
    eligible: dict[tuple[int, int], list[Ints]]

    def on_sale(self, cls: int, risk: int, month: int) -> Ints:
        lists = self.eligible[(cls, risk)]
        return lists[min(month, len(lists) - 1)]

    def legacy(self, cls: int, risk: int) -> Ints:
        """Products launched before the window that a customer of this risk level may hold."""
        return np.flatnonzero((self.asset_class == cls) & (self.risk <= risk) & (self.launch_month < 0))


def make_shelf(timeline: Timeline, params: SimParams, rng: np.random.Generator) -> Shelf:
    rows: list[tuple[str, str, int, int, int, bool, str | None, int, float, float]] = []
    # (name, prefix, class, risk, term, agency, issuer, launch month, rate, beta)

    def add(
        name: str, cls: int, risk: int, term: int, launch: int, rate: float = 0.0, *, agency: bool = False,
        issuer: str | None = None, beta: float = 0.0,
    ) -> None:  # fmt: skip
        rows.append((name, ASSET_CLASSES[cls], cls, risk, term, agency, issuer, launch, rate, beta))

    add("活期存款", DD, 1, 0, -240)
    for term, rate in ((3, 0.011), (6, 0.013), (12, 0.015), (24, 0.017), (36, 0.019)):
        add(f"整存整取{term}个月", TD, 1, term, -240, rate)
    for term in (3, 6, 9, 12):
        for risk in (1, 2, 3):
            rate = 0.018 + 0.0012 * term / 3 + 0.004 * (risk - 1) + rng.normal(0, 0.001)
            add(f"稳享系列{term}个月R{risk}", WMP, risk, term, -int(rng.integers(24, 96)), rate)
    for m in range(timeline.visible):
        label = timeline.labels[m].replace("-", "")
        issues = [(3, 2), (6, 2), (12, 2), (6, 3), (12, 3)] + ([(12, 4)] if m % 3 == 0 else [])
        for term, risk in issues:
            rate = 0.02 + 0.0012 * term / 3 + 0.005 * (risk - 1) + rng.normal(0, 0.0015)
            add(f"睿盈{term}个月R{risk}第{label}期", WMP, risk, term, m, rate)
    for i, term in enumerate((36, 60)):
        add(f"储蓄国债{term // 12}年期(存量)", BOND, 1, term, -66 - 6 * i, 0.022 + 0.002 * i)
    for m in range(0, timeline.visible, 3):
        term = 36 if (m // 3) % 2 == 0 else 60
        add(f"储蓄国债{term // 12}年期{timeline.labels[m]}", BOND, 1, term, m, 0.02 + 0.003 * (term == 60))
    for risk, count, beta, kind in (
        (2, 6, 0.1, "债券"),
        (3, 6, 0.5, "平衡"),
        (4, 8, 1.0, "股票"),
        (5, 4, 1.5, "行业主题"),
    ):
        for k in range(count):
            house = _FUND_HOUSES[(k + risk) % len(_FUND_HOUSES)]
            add(f"{house[:-2]}{kind}{k + 1}号", FUND, risk, 0, -int(rng.integers(12, 120)),
                agency=True, issuer=house, beta=beta)  # fmt: skip
    for k, insurer in enumerate(_INSURERS):
        kind = "年金" if k % 2 == 0 else "增额终身寿"
        add(f"{insurer}{kind}", INS, 1 + k % 2, 0, -int(rng.integers(24, 120)), agency=True, issuer=insurer)
    add("积存金", GOLD, 3, 0, -120)
    add("实物黄金", GOLD, 3, 0, -120)
    add("第三方存管", CUST, 1, 0, -240)

    n = len(rows)
    counters: dict[int, int] = {}
    codes: list[str] = []
    prefixes = {
        DD: "DD",
        TD: "TD",
        WMP: "WMP",
        FUND: "FND",
        INS: "INS",
        BOND: "BND",
        GOLD: "GLD",
        CUST: "CST",
    }
    for row in rows:
        counters[row[2]] = counters.get(row[2], 0) + 1
        codes.append(f"{prefixes[row[2]]}{counters[row[2]]:04d}")
    cls = np.array([r[2] for r in rows], dtype=np.int64)
    launch = np.array([r[7] for r in rows], dtype=np.int64)
    first = timeline.first_day.astype("datetime64[M]")
    launched_on = (first + launch.astype("timedelta64[M]")).astype("datetime64[D]") + rng.integers(
        0, 5, n
    ).astype("timedelta64[D]")
    # An issue is on sale in its launch month and the next; the shelf in a month lists, per class and
    # customer risk level, what a customer of that level may buy (product risk <= customer risk).
    issue = (launch >= 0) & np.isin(cls, (WMP, BOND))
    risks = np.array([r[3] for r in rows], dtype=np.int64)
    eligible: dict[tuple[int, int], list[Ints]] = {}
    for c in (*MATURING, *HOLDINGS):
        for r in range(1, 6):
            per_month: list[Ints] = []
            for m in range(timeline.visible):
                ok = (cls == c) & (risks <= r)
                ok &= np.where(issue, (launch == m) | (launch == m - 1), launch <= m)
                if c == BOND:  # savings bonds sell out: only the current issue, else the older ones
                    ok &= ~issue | (launch >= m - 1)
                per_month.append(np.flatnonzero(ok))
            eligible[(c, r)] = per_month
    closed = issue & (launch < timeline.visible - 2)
    return Shelf(
        codes=tuple(codes),
        names=tuple(r[0] for r in rows),
        asset_class=cls,
        risk=risks,
        term=np.array([r[4] for r in rows], dtype=np.int64),
        agency=np.array([r[5] for r in rows], dtype=np.bool_),
        issuer=tuple(r[6] for r in rows),
        launch_month=launch,
        launched_on=launched_on,
        closed=closed,
        rate=np.array([r[8] for r in rows], dtype=np.float64),
        beta=np.array([r[9] for r in rows], dtype=np.float64),
        eligible=eligible,
    )

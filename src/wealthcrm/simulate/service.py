"""Service requests and survey answers of the real path (the ``service_requests`` and
``survey_answers`` files).

Complaints are the dynamics' own complaints (:func:`wealthcrm.simulate.dynamics.step` draws when
each is raised, its SLA due time and when it is resolved, and lets them move satisfaction), so
the complaint rows and the hidden state agree. The other request types (inquiries, transaction
problems, appointments, entitlements) and every detail of a row (channel, handler, acknowledgement,
status, rating) are observations only, drawn here from a random stream of their own. Survey waves
go out in April and October to a sample of customers; see :mod:`wealthcrm.simulate.survey`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from wealthcrm.simulate.dynamics import Month
from wealthcrm.simulate.observe import Columns
from wealthcrm.simulate.population import Demographics
from wealthcrm.simulate.sla import COMPLAINT, DAY, REQUEST_TYPES, due_time, month_seconds, sla_days
from wealthcrm.simulate.state import State, World
from wealthcrm.simulate.survey import (
    COMMENTS_HIGH,
    COMMENTS_LOW,
    ITEM_IDS,
    NPS_ITEM,
    QUESTIONNAIRE_ID,
    SAT_SCALE,
    answers,
)
from wealthcrm.simulate.tables import BlockTables, _joined, _padded, _table, _take, schema_for

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

SERVICE_CHANNELS = ("branch", "phone", "mobile_app", "online", "wechat", "letter")
PRIORITIES = ("normal", "high", "urgent")
STATUSES = ("new", "acknowledged", "in_progress", "waiting_customer", "resolved", "closed")
ROOT_CAUSES = (
    "rm_change",
    "maturity_handling",
    "service_attitude",
    "waiting_time",
    "product_performance",
    "fees",
    "system_error",
    "transfer_delay",
    "card_blocked",
    "user_error",
)

#: Non-complaint requests a month by effective tier code (mass … private), and the type mix.
REQUEST_RATE = np.array([0.02, 0.04, 0.07, 0.10, 0.14])
OTHER_TYPES = np.array([0, 1, 3, 4])  # inquiry, transaction_problem, appointment, entitlement
OTHER_MIX = np.array([0.42, 0.2, 0.25, 0.13])
#: Median hours to resolve, by request type (complaints: see the dynamics), and the log-sd.
RESOLVE_HOURS = np.array([6.0, 20.0, 0.0, 14.0, 36.0])
RESOLVE_SIGMA = 1.1
#: Channel mix by request type (rows in REQUEST_TYPES order, columns in SERVICE_CHANNELS order).
CHANNEL_MIX = np.array(
    [
        [0.25, 0.35, 0.2, 0.08, 0.12, 0.0],
        [0.3, 0.35, 0.2, 0.1, 0.05, 0.0],
        [0.3, 0.35, 0.12, 0.05, 0.13, 0.05],
        [0.2, 0.35, 0.25, 0.05, 0.15, 0.0],
        [0.35, 0.25, 0.25, 0.05, 0.1, 0.0],
    ]
)
#: Survey: months of the year a wave goes out, share of customers sampled by tier code, response.
SURVEY_MONTHS = (4, 10)
SURVEY_SAMPLE = np.array([0.0, 0.05, 0.15, 0.15, 0.15])
RESPONSE_LOGIT, RESPONSE_SAT = -0.5, 0.6


class ServiceRecorder:
    """Collects one block's service requests and survey responses month by month."""

    def __init__(self, world: World, demo: Demographics, rng: np.random.Generator) -> None:
        self.w = world
        self.demo = demo
        self.rng = rng
        self.parts: dict[str, list[Columns]] = defaultdict(list)
        tl = world.timeline
        self.starts = month_seconds(tl.start)
        self.cutoff = int(self.starts[tl.visible])  # first second after the last written day
        self.service = np.flatnonzero(np.array(world.staff.roles) == "service")
        self.wave = np.array([int(label[5:7]) in SURVEY_MONTHS for label in tl.labels])

    def record(self, mo: Month, st: State, m: int) -> None:
        days = int(self.w.timeline.days[m])
        close_day = np.where(mo.closing, mo.flow_day, days)
        lo = np.where(mo.new, st.onboard_day, 1)
        self._complaints(mo, st, m)
        self._other(mo, st, m, lo, close_day)
        if self.wave[m]:
            self._survey(mo, st, m, lo, days)

    # ---------------------------------------------------------------------------------------------
    def _complaints(self, mo: Month, st: State, m: int) -> None:
        i = np.flatnonzero(mo.complaint_new)
        cause = self.rng.integers(2, 7, len(i))  # service, waiting, product, fees, system
        unattended = (mo.matured[i].any(1)) & (mo.contacts[i] == 0)
        cause = np.where(unattended, 1, cause)
        cause = np.where(st.rm_recent[i] < 3, 0, cause)
        self._add(i, m, np.full(len(i), COMPLAINT), st.c_open[i], st.c_due[i], st.c_res[i], cause, mo, st)

    def _other(self, mo: Month, st: State, m: int, lo: Ints, close_day: Ints) -> None:
        rng = self.rng
        tier = np.maximum(mo.tier, 0)
        lam = REQUEST_RATE[tier] * (1.0 + 0.5 * mo.matured.any(1))
        k = np.where(mo.live, rng.poisson(lam), 0)
        i = np.repeat(np.arange(len(k)), k)
        kind = OTHER_TYPES[rng.choice(len(OTHER_TYPES), len(i), p=OTHER_MIX)]
        span = np.maximum(close_day[i] - lo[i] + 1, 1)
        day = lo[i] + (rng.random(len(i)) * span).astype(np.int64)
        opened = self.starts[m] + (day - 1) * DAY + (8 * 3600 + rng.integers(0, 12 * 3600, len(i))) // 60 * 60
        due = due_time(opened, sla_days(kind, mo.tier[i] >= 2))
        hours = RESOLVE_HOURS[kind] * np.exp(RESOLVE_SIGMA * rng.standard_normal(len(i)))
        resolved = opened + np.maximum(300, (hours * 3600.0).astype(np.int64))
        problem = kind == 1
        cause = np.where(problem, rng.integers(6, 10, len(i)), -1)
        self._add(i, m, kind, opened, due, resolved, cause, mo, st)

    def _add(
        self,
        i: Ints,
        m: int,
        kind: Ints,
        opened: Ints,
        due: Ints,
        resolved: Ints,
        cause: Ints,
        mo: Month,
        st: State,
    ) -> None:
        if len(i) == 0:
            return
        rng = self.rng
        n = len(i)
        complaint = kind == COMPLAINT
        tier = mo.tier[i]
        channel = (rng.random(n)[:, None] > np.cumsum(CHANNEL_MIX[kind], axis=1)).sum(1)
        channel = np.minimum(channel, len(SERVICE_CHANNELS) - 1)
        priority = np.where(complaint, np.where(tier >= 3, 2, 1), np.where((kind == 1) & (tier >= 2), 1, 0))
        to_rm = rng.random(n) < np.where(
            complaint, np.where(tier >= 2, 0.7, 0.45), np.where(kind >= 3, 0.7, 0.3)
        )
        service = self.service[rng.integers(0, len(self.service), n)]
        staff = np.where(to_rm, st.rm[i], service)
        ack = opened + np.minimum(
            (60.0 * 40.0 * np.exp(1.2 * rng.standard_normal(n))).astype(np.int64), resolved - opened
        )
        done = resolved < self.cutoff
        acked = ack < self.cutoff
        closed = done & (resolved + 3 * DAY <= self.cutoff)
        waiting = ~complaint & (rng.random(n) < 0.15)
        status = np.where(done, np.where(closed, 5, 4), np.where(acked, np.where(waiting, 3, 2), 0))
        breached = resolved > due
        z = (st.z[i] - self.w.params.sat_mean) / SAT_SCALE
        latent = 4.2 + 0.5 * z - 1.2 * breached - 0.6 * complaint + 0.7 * rng.standard_normal(n)
        rated = closed & (rng.random(n) < np.where(complaint, 0.7, 0.5))
        rating = np.where(rated, np.clip(np.rint(latent), 1, 5), -1).astype(np.int64)
        self.parts["service_requests"].append(
            {
                "row": i,
                "month": np.full(n, m, dtype=np.int64),
                "kind": kind.astype(np.int64),
                "channel": channel.astype(np.int64),
                "priority": priority.astype(np.int64),
                "cause": np.where(done, cause, -1).astype(np.int64),
                "staff": staff.astype(np.int64),
                "opened": opened,
                "ack": np.where(acked, ack, -1),
                "due": due,
                "resolved": np.where(done, resolved, -1),
                "status": status.astype(np.int64),
                "rating": rating,
            }
        )

    # ---------------------------------------------------------------------------------------------
    def _survey(self, mo: Month, st: State, m: int, lo: Ints, days: int) -> None:
        rng = self.rng
        p = self.w.params
        tier = np.maximum(mo.tier, 0)
        z = np.clip((st.z - p.sat_mean) / SAT_SCALE, -3.0, 3.0)
        sampled = mo.live & ~mo.closing & (rng.random(len(tier)) < SURVEY_SAMPLE[tier])
        respond = rng.random(len(tier)) < 1.0 / (1.0 + np.exp(-(RESPONSE_LOGIT + RESPONSE_SAT * z)))
        i = np.flatnonzero(sampled & respond)
        skill = (self.w.staff.skill[st.rm[i]] - 0.5) / 0.2
        digital = (np.log(self.demo.login_base[i]) - np.log(p.login_median)) / p.login_sigma
        scores = answers(z[i], skill, digital, mo.defecting[i], rng)
        day = lo[i] + (rng.random(len(i)) * (days - lo[i] + 1)).astype(np.int64)
        nps = scores[:, -1]
        comment = np.where(
            rng.random(len(i)) < 0.15,
            np.where(
                nps <= 6,
                rng.integers(0, len(COMMENTS_LOW), len(i)),
                len(COMMENTS_LOW) + rng.integers(0, len(COMMENTS_HIGH), len(i)),
            ),
            -1,
        )
        comment = np.where(np.isnan(nps) | ((nps > 6) & (nps < 9)), -1, comment)
        self.parts["survey_answers"].append(
            {
                "row": i,
                "month": np.full(len(i), m, dtype=np.int64),
                "day": day,
                "scores": scores,
                "comment": comment,
            }
        )


# -------------------------------------------------------------------------------------------------
def _cat(parts: list[Columns], key: str) -> npt.NDArray[np.generic]:
    return np.concatenate([p[key] for p in parts])


def _times(seconds: Ints) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s"), mask=seconds < 0)


def service_requests_table(b: BlockTables, parts: list[Columns], staff_ids: pa.Array) -> pa.Table:
    if not parts:
        return schema_for("service_requests").empty_table()
    row = _cat(parts, "row").astype(np.int64)
    opened = _cat(parts, "opened").astype(np.int64)
    order = np.lexsort((opened, row))

    def col(key: str) -> Ints:
        return np.asarray(_cat(parts, key)[order], dtype=np.int64)

    row, opened, month = row[order], opened[order], col("month")
    key = row * 10_000 + month
    starts = np.r_[True, key[1:] != key[:-1]]
    idx = np.arange(len(key))
    seq = idx - np.maximum.accumulate(np.where(starts, idx, 0))
    cause, rating = col("cause"), col("rating")
    return _table(
        "service_requests",
        {
            "request_id": _joined(
                "R", _take(b.numbers, row), "-", _take(b.compact_months, month), "-", _padded(seq + 1, 2)
            ),
            "customer_id": _take(b.cids, row),
            "request_type": _take(REQUEST_TYPES, col("kind")),
            "channel": _take(SERVICE_CHANNELS, col("channel")),
            "priority": _take(PRIORITIES, col("priority")),
            "root_cause": pa.array(ROOT_CAUSES, pa.string()).take(
                pa.array(np.maximum(cause, 0), mask=cause < 0)
            ),
            "staff_id": _take(staff_ids, col("staff")),
            "opened_at": _times(opened),
            "acknowledged_at": _times(col("ack")),
            "due_at": _times(col("due")),
            "resolved_at": _times(col("resolved")),
            "status": _take(STATUSES, col("status")),
            "rating": pa.array(rating, pa.int64(), mask=rating < 0),
        },
    )


def survey_answers_table(b: BlockTables, parts: list[Columns]) -> pa.Table:
    if not parts:
        return schema_for("survey_answers").empty_table()
    row = _cat(parts, "row").astype(np.int64)
    month = _cat(parts, "month").astype(np.int64)
    order = np.lexsort((month, row))
    row, month = row[order], month[order]
    day = np.asarray(_cat(parts, "day")[order], dtype=np.int64)
    scores = np.concatenate([p["scores"] for p in parts])[order]
    comment = np.asarray(_cat(parts, "comment")[order], dtype=np.int64)
    k = len(ITEM_IDS)
    r_row, r_month = np.repeat(row, k), np.repeat(month, k)
    item = np.tile(np.arange(k), len(row))
    flat = scores.reshape(-1)
    answered = b.tl.start[month] + (day - 1).astype("timedelta64[D]")
    texts = pa.array(COMMENTS_LOW + COMMENTS_HIGH, pa.string())
    is_nps = item == ITEM_IDS.index(NPS_ITEM)
    text_idx = np.where(is_nps, np.repeat(comment, k), -1)
    return _table(
        "survey_answers",
        {
            "response_id": _joined("V", _take(b.numbers, r_row), "-", _take(b.compact_months, r_month)),
            "item_id": _take(ITEM_IDS, item),
            "customer_id": _take(b.cids, r_row),
            "questionnaire_id": _take((QUESTIONNAIRE_ID,), np.zeros(len(item), dtype=np.int64)),
            "answered_on": pa.array(np.repeat(answered, k).astype("datetime64[D]"), pa.date32()),
            "score": pa.array(flat, pa.float64(), mask=np.isnan(flat)),
            "text": texts.take(pa.array(np.maximum(text_idx, 0), mask=text_idx < 0)),
        },
    )

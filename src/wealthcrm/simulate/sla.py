"""Service-level agreements of the synthetic branch: due times in working days on a weekday calendar.

A request of type ``t`` raised by a customer whose effective tier is sunflower or above is due
``SLA_DAYS[t][1]`` working days after it was opened, else ``SLA_DAYS[t][0]``: the same time of day,
that many weekdays later (a request opened on a Saturday or Sunday starts counting on Monday). No
public holidays: a plain Monday–Friday calendar. Times are whole seconds since 1970-01-01 (int64) of
the branch's local wall-clock time, as the data contract's files carry date-times (the importer stores
the ``service_requests`` times as UTC): days, weekdays and months are local, so a due time is counted on
the local working calendar.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]

#: Request types in the order of their codes (``wealthcrm.vocab.RequestType``).
REQUEST_TYPES = ("inquiry", "transaction_problem", "complaint", "appointment", "entitlement")
INQUIRY, TRANSACTION_PROBLEM, COMPLAINT, APPOINTMENT, ENTITLEMENT = range(5)

#: Working days to resolve, by request type: (gold and below, sunflower and above).
SLA_DAYS: dict[str, tuple[int, int]] = {
    "inquiry": (2, 1),
    "transaction_problem": (3, 2),
    "complaint": (5, 2),
    "appointment": (2, 1),
    "entitlement": (5, 3),
}
_SLA = np.array([SLA_DAYS[t] for t in REQUEST_TYPES], dtype=np.int64)

DAY = 86_400


def sla_days(request_type: Ints, sunflower_plus: npt.NDArray[np.bool_]) -> Ints:
    """Working days allowed for each request."""
    return np.asarray(_SLA[request_type, sunflower_plus.astype(np.int64)])


def due_time(opened: Ints, working_days: Ints) -> Ints:
    """``opened`` plus ``working_days`` weekdays, same time of day (seconds since the epoch)."""
    day = opened // DAY
    dates = day.astype("datetime64[D]")
    due = np.busday_offset(dates, working_days, roll="forward").astype(np.int64)
    return np.asarray(due * DAY + (opened - day * DAY))


def month_seconds(start: npt.NDArray[np.datetime64]) -> Ints:
    """First second of each month (``Timeline.start``)."""
    return np.asarray(start.astype("datetime64[s]").astype(np.int64))

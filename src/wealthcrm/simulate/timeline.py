"""The simulated months: labels, first days and lengths, as numpy arrays indexed by month number."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def last_complete_month(today: date) -> str:
    """The month before the one ``today`` is in, as ``YYYY-MM``."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def parse_month(text: str) -> tuple[int, int]:
    m = _MONTH_RE.match(text)
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"not a month: {text!r} (use YYYY-MM)")
    return int(m[1]), int(m[2])


@dataclass(frozen=True)
class Timeline:
    """Months ``0 .. visible + hidden - 1``; the last ``hidden`` are simulated but never written.

    ``start`` holds each month's first day and ``end`` its last day (``datetime64[D]``).
    """

    visible: int
    hidden: int
    labels: tuple[str, ...]
    start: npt.NDArray[np.datetime64]
    end: npt.NDArray[np.datetime64]

    @property
    def total(self) -> int:
        return self.visible + self.hidden

    @property
    def days(self) -> npt.NDArray[np.int64]:
        return (self.end - self.start).astype(np.int64) + 1

    @property
    def first_day(self) -> np.datetime64:
        return self.start[0]  # type: ignore[no-any-return]

    @property
    def last_visible_day(self) -> np.datetime64:
        return self.end[self.visible - 1]  # type: ignore[no-any-return]


def make_timeline(end_month: str, months: int, hidden: int) -> Timeline:
    if months < 1:
        raise ValueError("months must be at least 1")
    year, month = parse_month(end_month)
    last = np.datetime64(f"{year:04d}-{month:02d}", "M")
    first = last - np.timedelta64(months - 1, "M")
    ms = first + np.arange(months + hidden).astype("timedelta64[M]")
    start: npt.NDArray[np.datetime64] = np.asarray(ms, dtype="datetime64[D]")
    end: npt.NDArray[np.datetime64] = np.asarray(
        (ms + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D"), dtype="datetime64[D]"
    )
    labels = tuple(str(x) for x in ms)
    return Timeline(months, hidden, labels, start, end)

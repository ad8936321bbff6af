"""The branch, its teams and staff, and the RM "seats" that customers' books belong to.

A seat is one RM position in a team with a book of customers; its occupant changes when an RM leaves
(the replacement is hired into the same seat the next month and inherits the book). The whole staff
history is drawn up front from the branch-wide random stream, so every block of customers sees the
same RMs, and ``slot_rm[seat, month]`` tells which RM holds a seat in any month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.names import person_names
from wealthcrm.simulate.params import SimParams
from wealthcrm.simulate.timeline import Timeline

BRANCH_ID = "B001"
BRANCH_NAME = "徐汇支行"
BRANCH_CITY = "上海"
NEVER = 10_000  # a month index after any simulated month

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Staff:
    """Every staff member ever employed in the window (index = row in ``staff.csv`` order).

    ``seat`` is -1 for staff without a book (branch manager, team leads, service staff);
    ``join_month`` is negative for staff who joined before the window, ``leave_month`` is
    ``NEVER`` for those who stay.
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    roles: tuple[str, ...]
    team: Ints  # team index, -1 for none
    seat: Ints
    skill: Floats  # hidden RM skill in [0, 1] (NaN for non-RMs)
    joined_on: npt.NDArray[np.datetime64]
    join_month: Ints
    leave_month: Ints
    left_on: npt.NDArray[np.datetime64]  # NaT for those who stay
    team_ids: tuple[str, ...]
    team_names: tuple[str, ...]
    seat_team: Ints
    seat_load: Floats  # relative book size of each seat (mean 1)
    slot_rm: npt.NDArray[np.int32]  # (seats, months): staff index holding the seat


def staff_id(index: int, width: int) -> str:
    return f"S{index + 1:0{width}d}"


def make_staff(customers: int, timeline: Timeline, params: SimParams, rng: np.random.Generator) -> Staff:
    seats = max(3, -(-customers // params.customers_per_rm))
    teams = max(1, -(-seats // params.rms_per_team))
    seat_team = np.arange(seats, dtype=np.int64) % teams
    load = rng.lognormal(0.0, params.rm_load_sigma, seats)
    seat_load = load / load.mean()
    total = timeline.total

    roles: list[str] = ["branch_manager"] + ["team_lead"] * teams + ["service"] * (1 + teams)
    team: list[int] = [-1] + list(range(teams)) + [-1] * (1 + teams)
    seat: list[int] = [-1] * len(roles)
    join: list[int] = [-int(rng.integers(12, 180)) for _ in roles]
    leave: list[int] = [NEVER] * len(roles)
    slot_rm = np.zeros((seats, total), dtype=np.int32)
    # The first occupant of every seat, then the chain of replacements, in hiring order so that the
    # staff numbering is chronological for the new hires.
    occupants: list[tuple[int, int, int]] = []  # (seat, join month, leave month)
    for s in range(seats):
        joined = -int(rng.integers(3, 180))
        months = int(rng.geometric(params.rm_leave_rate))
        occupants.append((s, joined, months - 1 if months - 1 < total else NEVER))
    hires: list[tuple[int, int, int]] = []
    for s, _, left in occupants:
        while left + 1 < total:
            joined = left + 1  # the replacement starts the month after; the seat is never empty
            nxt = joined + int(rng.geometric(params.rm_leave_rate)) - 1
            nxt = nxt if nxt < total else NEVER
            hires.append((s, joined, nxt))
            left = nxt
    hires.sort(key=lambda h: (h[1], h[0]))
    first_rm = len(roles)
    for s, joined, left in occupants + hires:
        roles.append("rm")
        team.append(int(seat_team[s]))
        seat.append(s)
        join.append(joined)
        leave.append(left)
    n = len(roles)
    skill = np.full(n, np.nan)
    skill[first_rm:] = rng.beta(params.rm_skill_a, params.rm_skill_b, n - first_rm)
    join_arr = np.asarray(join, dtype=np.int64)
    leave_arr = np.asarray(leave, dtype=np.int64)
    seat_arr = np.asarray(seat, dtype=np.int64)
    for i in range(first_rm, n):
        s, j0 = int(seat_arr[i]), max(0, int(join_arr[i]))
        j1 = min(total, int(leave_arr[i]) + 1)
        slot_rm[s, j0:j1] = i

    # Dates: who joined before the window joined on a random day that many months earlier; a hire
    # starts on the first day of the month, a leaver leaves on the last day of the month.
    first = timeline.first_day.astype("datetime64[M]")
    day_offset = rng.integers(0, 28, n)
    joined_on = (first + join_arr.astype("timedelta64[M]")).astype("datetime64[D]") + np.where(
        join_arr < 0, day_offset, 0
    ).astype("timedelta64[D]")
    left_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    gone = leave_arr < total
    left_on[gone] = timeline.end[leave_arr[gone]]
    width = max(4, len(str(n)))
    names = person_names(rng, n, rng.random(n) < 0.5)
    team_ids = tuple(f"T{t + 1:02d}" for t in range(teams))
    team_names = tuple(f"财富管理{t + 1}组" for t in range(teams))
    return Staff(
        ids=tuple(staff_id(i, width) for i in range(n)),
        names=tuple(names),
        roles=tuple(roles),
        team=np.asarray(team, dtype=np.int64),
        seat=seat_arr,
        skill=skill,
        joined_on=joined_on,
        join_month=join_arr,
        leave_month=leave_arr,
        left_on=left_on,
        team_ids=team_ids,
        team_names=team_names,
        seat_team=seat_team,
        seat_load=seat_load,
        slot_rm=slot_rm,
    )

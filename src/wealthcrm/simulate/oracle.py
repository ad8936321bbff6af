"""The true probability of customer loss within the next 3 months, by forward simulation.

From the exact hidden state at the end of month ``m`` each sunflower+ customer is copied ``K`` times
and moved through months ``m+1 .. m+3`` by the same :func:`~wealthcrm.simulate.dynamics.step` as the
real path, on a random stream of its own (so the real path does not depend on ``K``). Two things make
the estimate sharper than counting losses on ``K`` paths:

* Closure is a terminal event with a known monthly hazard ``h``, so it is integrated instead of drawn
  (Rao–Blackwellisation): each path continues as if not closed, and contributes
  ``1 - prod(1 - h_j)`` over the months ``j`` it is still sunflower+; a path downgraded below
  sunflower within the horizon contributes 1.
* The branch-wide scenario (market returns, competitor rates, RM departures) is the one the run
  draws up front, so ``p_loss_3m`` is the probability given the customer's state *and* that scenario.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from wealthcrm.simulate.dynamics import step
from wealthcrm.simulate.state import State, World

HORIZON = 3


def p_loss(
    st: State, rows: npt.NDArray[np.int64], m: int, w: World, rng: np.random.Generator, paths: int
) -> npt.NDArray[np.float64]:
    """P(customer loss in months m+1..m+3) for ``rows`` of ``st`` (the state after month ``m``)."""
    if len(rows) == 0:
        return np.zeros(0)
    sub = st.take(np.repeat(rows, paths))
    lost = np.zeros(len(sub), dtype=np.bool_)
    survive = np.ones(len(sub))
    for j in range(1, HORIZON + 1):
        month = step(sub, m + j, w, rng, oracle=True)
        lost |= month.loss
        at_risk = ~lost & month.live & (month.tier >= 2)
        survive *= np.where(at_risk, 1.0 - month.h_close, 1.0)
    per_path = np.where(lost, 1.0, 1.0 - survive)
    return np.asarray(per_path.reshape(len(rows), paths).mean(1))

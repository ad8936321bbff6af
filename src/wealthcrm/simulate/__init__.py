"""The synthetic branch: a generative model of customers, RMs and money that writes contract files.

    >>> from wealthcrm.simulate import simulate_branch
    >>> summary = simulate_branch(customers=2_000, months=24, seed=1, out=Path("demo"))  # doctest: +SKIP

See ``docs/simulator.md`` for the model, its parameters and the figures it produces.
"""

from wealthcrm.simulate.params import SimParams, SimulationSummary
from wealthcrm.simulate.run import simulate_branch

__all__ = ["SimParams", "SimulationSummary", "simulate_branch"]

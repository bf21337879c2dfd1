"""Allocation models: where to add places and caregivers (PuLP integer programs).

Modules
-------
instance
    Scenario -> arrays: demand in places and erlangs, sparse pairs, costs.
coverage
    ``cover-all`` (location set covering) and ``max-coverage`` (maximal covering).
mincost
    ``min-cost``: the capacitated model with places by class, caregivers by
    role and shift, floor area, Erlang-B walk-in sizing, targets and budget;
    its formulation, every row named, in the module docstring.
strategy
    How ``min-cost`` is solved: whole, or by parts and joined, and when each
    (:func:`~.strategy.solve_model`).
decompose
    The solve by parts: column generation over connected components, a
    Lagrangian bound and an integer master.
envelope
    The envelope cuts of the ceil ratio rule (strengthening rows of ``min-cost``).
walkin
    Precomputed Erlang-B sizes that linearize walk-in sizing.
solvers
    CBC / HiGHS solver objects and honest statuses (optimal only when proven).
greedy
    A greedy feasible min-cost plan, the solver's warm start.
checks
    Infeasibility explained with numbers, before and after solving.
sizing
    Places and staff for the sites a covering model opens.
results
    :class:`Plan` -> ``summary.json``, ``plan.csv``, ``scenario.planned.toml``.
verify
    An independent checker of every constraint of a plan.
phased
    The multi-year min-cost plan (:func:`~.phased.optimize_phased`), its
    accounting (:func:`~.phased.phase_rows`) and its checker
    (:func:`~.phased.verify_phases`).
api
    :func:`optimize`: scenario + options -> plan.
"""

from __future__ import annotations

from tuoyu_sim.allocate.api import OBJECTIVES, CrossCheck, OptimizeOptions, cross_check, optimize
from tuoyu_sim.allocate.instance import Instance, build_instance
from tuoyu_sim.allocate.phased import (
    PhasedPlan,
    optimize_phased,
    phase_rows,
    present_cost,
    verify_phases,
)
from tuoyu_sim.allocate.results import Plan, SitePlan, plan_rows, planned_scenario, summary
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverSpec
from tuoyu_sim.allocate.verify import verify_plan

__all__ = [
    "OBJECTIVES",
    "CrossCheck",
    "Instance",
    "OptimizeOptions",
    "PhasedPlan",
    "Plan",
    "SitePlan",
    "SolveOutcome",
    "SolverSpec",
    "build_instance",
    "cross_check",
    "optimize",
    "optimize_phased",
    "phase_rows",
    "plan_rows",
    "planned_scenario",
    "present_cost",
    "summary",
    "verify_phases",
    "verify_plan",
]

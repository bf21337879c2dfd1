r"""How the min-cost model is solved: whole, or by parts and then joined.

Why split. Communities and sites that share no service radius interact only
through two district rows of :mod:`.mincost`, (coverage) and (per1000). The
community–site graph falls apart into connected components, the *parts*
(Yanzhou: 85). A solver branching on the whole model branches over the product
of the parts' trees; by parts, each part is a small integer program of its own
(every local row: capacity, walk-in places, staffing, health, the floor, the
circle), branched within itself, and only the two district rows are shared.

How they are joined (:mod:`.decompose`). Column generation: every plan found
for a part is a column; the master LP mixes each part's columns so that
together they meet the two district rows, and its duals — a price per place's
worth of demand served and per place added — send each part back to its solver
for a plan that is cheaper at those prices. The parts' proven bounds at any
prices add up to a lower bound on the whole model (Lagrangian). At the end the
integer master picks one plan per part meeting both rows: a plan of the whole
model, checked like any other. With many parts and two shared rows the bound
is close to the integer optimum; when a gap above the one asked for is left,
the whole model is solved from the parts' plan (:func:`solve_model`), and the
better plan and the better bound are kept. Every step is solved by the solver
asked for, and limited by gaps and node counts, never the clock, so the same
inputs give the same plan.

When (:func:`use_parts`, the one place it is chosen). By parts for the cost
objective without a budget (a budget couples every part's cost), with at least
two parts that hold communities, unless ``decompose=False`` or the circle rule
(``cover_every_community``) leaves a community no site reaches (the whole
model then proves it infeasible). Otherwise the whole model. Measured (HiGHS,
gap 0.1%, one thread; ``docs/allocation.md``, "Which path"): by parts wins by
minutes where the whole model does not close its gap (a clustered 200 x 50
district with coverage 1.0: 11.8 s against more than 120 s; 1,000 x 200:
minutes against not proven in 300 s) and loses by seconds where the whole model
is quick (Yanzhou, 85 parts: 15.8-23.0 s against 6.8-14.6 s). No rule by size
separated the two on the districts measured, so any district that falls apart
is solved by parts: its losses are seconds, its wins minutes.

Closing after the parts is limited by branch-and-bound nodes
(:data:`CLOSE_NODES`; an effort limit, the same on any machine load, so the
plan stays repeatable). On a district of many small parts the whole model's
bound is weaker than the parts' and branching it gains little: on the
443-community Yanzhou layout (247 parts) the parts stop at a 0.50% gap in about
a minute, and 500 nodes of the whole model took 100 s more, moved the plan by
0.02% and left the bound where the parts had it. The plan then says how close it
is proven (``gap`` above ``gap_asked``) instead of branching for an hour.

The whole model, alone or closing after the parts, goes without the envelope
rows (``envelope=False``): they only slow each node there (Yanzhou: 54 s
against 224 s under CBC, 8 s against 15 s under HiGHS when closing; 6.8-14.6 s
against 29.0-62.6 s alone under HiGHS). The parts keep them.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from tuoyu_sim.allocate.decompose import parts, solve_decomposed
from tuoyu_sim.allocate.instance import Instance
from tuoyu_sim.allocate.mincost import (
    MinCostOptions,
    MinCostSolution,
    build_min_cost,
    set_warm_start,
    solve_min_cost,
)
from tuoyu_sim.allocate.solvers import PROVEN_GAP, SolveOutcome, SolverSpec, rel_gap
from tuoyu_sim.errors import SolverError

CLOSE_NODES = 200
"""Most branch-and-bound nodes of the whole model when it closes the gap the parts
leave (unless the caller set its own ``node_limit``)."""


def use_parts(inst: Instance, options: MinCostOptions) -> bool:
    """Whether :func:`solve_model` solves by parts (see the module docstring)."""
    if not options.decompose or options.objective != "cost" or options.budget_cny is not None:
        return False
    if options.cover_every_community and np.unique(inst.pairs.rows).size < inst.n_communities:
        return False  # a community no site reaches: the whole model proves it infeasible
    return sum(1 for p in parts(inst) if p.communities.size) >= 2


def solve_model(inst: Instance, options: MinCostOptions, spec: SolverSpec) -> MinCostSolution:
    """Solve the min-cost model: by parts when :func:`use_parts` says so, else whole.

    When the parts' plans cannot be combined to meet the targets, the whole
    model is solved, so that an infeasible verdict is always the solver's proof.
    """
    whole_options = dataclasses.replace(options, envelope=False)
    if not use_parts(inst, options):
        return solve_min_cost(build_min_cost(inst, whole_options), spec)
    t0 = time.perf_counter()
    try:
        sol = solve_decomposed(inst, options, spec)
    except SolverError:
        sol = None  # the master LP failed: the whole model decides
    model = build_min_cost(inst, whole_options)
    left = None if spec.time_limit_s is None else spec.time_limit_s - (time.perf_counter() - t0)
    whole_spec = dataclasses.replace(spec, time_limit_s=None if left is None else max(1.0, left))
    # rows within 1e-6 of their scale: the integer master's own feasibility tolerance
    if (
        sol is None
        or not sol.outcome.has_solution
        or not set_warm_start(model, sol.as_start(), eps=1e-6)
    ):
        # no plan by parts (or, defensively, one that breaks a row of the whole model)
        return solve_min_cost(model, whole_spec, warm_start=False)
    o = sol.outcome
    if o.gap is None or o.gap <= spec.gap or (left is not None and left < 1.0):
        return sol
    # The parts' bound leaves a duality gap: branch on the whole model, starting
    # from the parts' plan, within CLOSE_NODES nodes (and the time left); keep the
    # better plan and bound.
    close_spec = dataclasses.replace(whole_spec, node_limit=spec.node_limit or CLOSE_NODES)
    whole = solve_min_cost(model, close_spec, warm_start=False, started=True)
    w = whole.outcome
    if w.status == "infeasible":
        return whole  # the solver's proof outranks the parts' plan (never seen)
    if not w.has_solution or w.objective is None or o.objective is None:
        return sol
    best = whole if w.objective < o.objective else sol
    value = min(w.objective, o.objective)
    bound = max(b for b in (w.bound, o.bound, -math.inf) if b is not None)
    gap = rel_gap(value, bound) if math.isfinite(bound) else math.inf
    outcome = SolveOutcome(
        "optimal" if gap <= PROVEN_GAP else "feasible",
        spec.name,
        value,
        bound,
        gap,
        time.perf_counter() - t0,
        f"{o.message}; then the whole model: {w.message}",
    )
    return dataclasses.replace(best, outcome=outcome)

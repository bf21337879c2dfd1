r"""Covering models: location set covering (``cover-all``) and maximal covering
(``max-coverage``).

Existing facilities count as open. Only community–site pairs within the radius
are used (KD-tree, :func:`tuoyu_sim.geography.pairs_within`). Before the model
is built, communities already inside an existing facility's circle are set
aside (they are covered whatever is chosen), and communities with the same set
of candidate sites in reach are merged into one row (weights added): neither
changes the optimum.

Location set covering problem (Toregas et al. 1971)
-----------------------------------------------------
:math:`C` candidate sites, :math:`I'` communities not covered by an existing
facility, :math:`N_C(i)` candidates within the radius of :math:`i`.

.. math::

    \min \sum_{j \in C} x_j \quad \text{s.t.}\quad
    \sum_{j \in N_C(i)} x_j \ge 1 \;\; \forall i \in I' \;\text{(cover)},\qquad
    x_j \in \{0, 1\}.

Maximal covering location problem (Church & ReVelle 1974)
-----------------------------------------------------------
:math:`u_i` children under three, :math:`P` most new sites, :math:`c_j` site
cost, :math:`B` budget (site opening costs).

.. math::

    \max \sum_{i \in I'} u_i y_i \quad \text{s.t.}\quad
    y_i \le \sum_{j \in N_C(i)} x_j \;\text{(cover)},\quad
    \sum_{j \in C} x_j \le P \;\text{(sites)},\quad
    \sum_{j \in C} c_j x_j \le B \;\text{(budget)},\quad
    x_j \in \{0,1\},\; 0 \le y_i \le 1.

:math:`y_i` may be continuous: for integer :math:`x` the optimum has
:math:`y_i = \min(1, \sum x_j)`, which is 0 or 1. The objective reported adds
the children already covered by existing facilities.

With distance decay (:math:`f_{ij} \in [0, 1]`) the covering credit depends on
which open site serves a community (gradual covering):

.. math::

    \max \sum_{(i, j) \in P} u_i f_{ij} z_{ij} \quad\text{s.t.}\quad
    \sum_j z_{ij} \le 1 \;\text{(assign)},\quad
    z_{ij} \le x_j \;(j \in C)\;\text{(link)},\quad
    \text{(sites)}, \text{(budget)},\quad 0 \le z_{ij} \le 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from tuoyu_sim.allocate.instance import Instance, covered_mask
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverSpec, add_row, solve


@dataclass
class CoverModel:
    """A built covering model: the problem and the site variables."""

    prob: pulp.LpProblem
    inst: Instance
    kind: str
    site_vars: dict[int, pulp.LpVariable]
    constant: float
    """Objective part fixed by existing facilities (children already covered)."""


@dataclass(frozen=True)
class CoverSolution:
    """Which candidate sites a covering model opens."""

    outcome: SolveOutcome
    opened: np.ndarray
    """Bool (J,): existing facilities True, candidates as chosen."""
    objective_value: float | None
    """New sites (``cover-all``) or children covered, with decay weights (``max-coverage``)."""


def _candidate_rows(inst: Instance) -> tuple[np.ndarray, dict[tuple[int, ...], list[int]]]:
    """Communities not covered by existing facilities, grouped by their candidate set."""
    existing_open = ~inst.is_candidate
    pre = covered_mask(inst, existing_open)
    groups: dict[tuple[int, ...], list[int]] = {}
    rows, cols = inst.pairs.rows, inst.pairs.cols
    cand = cols >= inst.n_existing
    order = np.lexsort((cols[cand], rows[cand]))
    r, c = rows[cand][order], cols[cand][order]
    bounds = np.searchsorted(r, np.arange(inst.n_communities + 1))
    for i in range(inst.n_communities):
        if pre[i]:
            continue
        key = tuple(int(x) for x in c[bounds[i] : bounds[i + 1]])
        groups.setdefault(key, []).append(i)
    return pre, groups


def build_cover_all(inst: Instance) -> CoverModel:
    """Location set covering: fewest candidate sites so every community is covered.

    Communities that no site reaches make the model infeasible; check them first
    with :func:`tuoyu_sim.allocate.checks.check_cover_all`.
    """
    prob = pulp.LpProblem("tuoyu_cover_all", pulp.LpMinimize)
    _pre, groups = _candidate_rows(inst)
    used = sorted({j for key in groups for j in key})
    x = {j: pulp.LpVariable(f"open_{j}", 0, 1, cat=pulp.LpBinary) for j in used}
    prob.setObjective(pulp.LpAffineExpression([(v, 1.0) for v in x.values()]))
    for g, (key, members) in enumerate(groups.items()):
        terms = [(x[j], 1.0) for j in key]
        add_row(prob, terms, pulp.LpConstraintGE, 1.0, f"cover_{g}_c{members[0]}")
    return CoverModel(prob, inst, "cover-all", x, 0.0)


def build_max_coverage(
    inst: Instance, max_sites: int | None = None, budget_cny: float | None = None
) -> CoverModel:
    """Maximal covering: most children covered with at most ``max_sites`` new sites
    and site costs within ``budget_cny`` (either may be None, not both)."""
    prob = pulp.LpProblem("tuoyu_max_coverage", pulp.LpMaximize)
    weight = inst.under3
    if inst.decay_kind != "off":
        return _build_max_coverage_decay(inst, max_sites, budget_cny)
    pre, groups = _candidate_rows(inst)
    constant = float(weight[pre].sum())
    live = {k: m for k, m in groups.items() if k and float(weight[m].sum()) > 0}
    used = sorted({j for key in live for j in key})
    x = {j: pulp.LpVariable(f"open_{j}", 0, 1, cat=pulp.LpBinary) for j in used}
    obj_terms = []
    for g, (key, members) in enumerate(live.items()):
        y = pulp.LpVariable(f"covered_{g}", 0, 1)
        obj_terms.append((y, float(weight[members].sum())))
        terms = [(y, 1.0)] + [(x[j], -1.0) for j in key]
        add_row(prob, terms, pulp.LpConstraintLE, 0.0, f"cover_{g}_c{members[0]}")
    prob.setObjective(pulp.LpAffineExpression(obj_terms, constant=constant))
    _limits(prob, inst, x, max_sites, budget_cny)
    return CoverModel(prob, inst, "max-coverage", x, constant)


def _limits(
    prob: pulp.LpProblem,
    inst: Instance,
    x: dict[int, pulp.LpVariable],
    max_sites: int | None,
    budget_cny: float | None,
) -> None:
    if max_sites is not None:
        sites = [(v, 1.0) for v in x.values()]
        add_row(prob, sites, pulp.LpConstraintLE, float(max_sites), "sites")
    if budget_cny is not None:
        cost = [(v, float(inst.site_cost[j])) for j, v in x.items()]
        add_row(prob, cost, pulp.LpConstraintLE, float(budget_cny), "budget")


def _build_max_coverage_decay(
    inst: Instance, max_sites: int | None, budget_cny: float | None
) -> CoverModel:
    prob = pulp.LpProblem("tuoyu_max_coverage_decay", pulp.LpMaximize)
    pairs = inst.pairs
    cand = inst.is_candidate
    used = sorted({int(j) for j in pairs.cols if cand[j]})
    x = {j: pulp.LpVariable(f"open_{j}", 0, 1, cat=pulp.LpBinary) for j in used}
    z: dict[int, pulp.LpVariable] = {}
    by_comm: dict[int, list[int]] = {}
    obj_terms = []
    for p in range(len(pairs)):
        i, j = int(pairs.rows[p]), int(pairs.cols[p])
        w = float(inst.under3[i] * inst.decay[p])
        if w <= 0:
            continue
        z[p] = pulp.LpVariable(f"serve_{i}_{j}", 0, 1)
        obj_terms.append((z[p], w))
        by_comm.setdefault(i, []).append(p)
        if cand[j]:
            add_row(prob, [(z[p], 1.0), (x[j], -1.0)], pulp.LpConstraintLE, 0.0, f"link_{i}_{j}")
    for i, ps in by_comm.items():
        add_row(prob, [(z[p], 1.0) for p in ps], pulp.LpConstraintLE, 1.0, f"assign_{i}")
    prob.setObjective(pulp.LpAffineExpression(obj_terms))
    _limits(prob, inst, x, max_sites, budget_cny)
    return CoverModel(prob, inst, "max-coverage", x, 0.0)


def solve_cover(model: CoverModel, spec: SolverSpec) -> CoverSolution:
    """Solve a covering model; unused candidates stay closed.

    Sites that add nothing to the objective are pruned after the solve
    (a maximal covering optimum may open a site that covers nobody new).
    """
    inst = model.inst
    opened = ~inst.is_candidate
    if not model.site_vars:
        outcome = SolveOutcome(
            "optimal", spec.name, model.constant, model.constant, 0.0, 0.0, "nothing to decide"
        )
        return CoverSolution(
            outcome, opened.copy(), model.constant if model.kind != "cover-all" else 0.0
        )
    outcome = solve(model.prob, spec)
    opened = opened.copy()
    if not outcome.has_solution:
        return CoverSolution(outcome, opened, None)
    for j, v in model.site_vars.items():
        val = v.value()
        opened[j] = val is not None and float(val) > 0.5
    if model.kind == "max-coverage":
        opened = _prune(inst, opened)
    value = outcome.objective
    if model.kind == "cover-all":
        value = float(opened[inst.n_existing :].sum())
    return CoverSolution(outcome, opened, value)


def covered_children(inst: Instance, opened: np.ndarray) -> float:
    """Children under three within the radius of an open site (decay-weighted if on)."""
    if inst.decay_kind == "off":
        return float(inst.under3[covered_mask(inst, opened)].sum())
    best = np.zeros(inst.n_communities)
    live = opened[inst.pairs.cols]
    np.maximum.at(best, inst.pairs.rows[live], inst.decay[live])
    return float((inst.under3 * best).sum())


def _prune(inst: Instance, opened: np.ndarray) -> np.ndarray:
    """Close new sites whose closing loses no coverage (most expensive first)."""
    base = covered_children(inst, opened)
    out = opened.copy()
    new = [j for j in range(inst.n_existing, inst.n_sites) if out[j]]
    for j in sorted(new, key=lambda k: -inst.site_cost[k]):
        out[j] = False
        if covered_children(inst, out) < base - 1e-9 * max(1.0, base):
            out[j] = True
    return out

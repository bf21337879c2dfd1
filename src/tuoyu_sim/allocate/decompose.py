r"""The min-cost model solved part by part: Dantzig–Wolfe over connected components.

Communities and sites that share no radius interact only through the district
targets: the coverage share and the places per 1,000 (the budget only caps the
cost being minimised, so it is a check afterwards). Each connected component
:math:`k` of the community–site graph is a part with its own integer set
:math:`Z_k` (every local constraint of :mod:`.mincost`: capacity, area,
ratios, health staff, walk-in sizing, the per-community floor, the circle), its
cost :math:`c_k(z)`, served demand :math:`q_k(z)` and added places
:math:`x_k(z)`. The model is

.. math::

    \min \sum_k c_k(z_k) \quad\text{s.t.}\quad
    \sum_k q_k(z_k) \ge \sigma D,\quad \sum_k x_k(z_k) \ge P,\quad z_k \in Z_k.

**Lagrangian bound.** For any :math:`\lambda, \mu \ge 0`

.. math::

    L(\lambda, \mu) = \lambda \sigma D + \mu P
        + \sum_k \min_{z \in Z_k} \big(c_k(z) - \lambda q_k(z) - \mu x_k(z)\big)

is a lower bound on the optimum (each part's minimum is taken as its solver's
proven dual bound, so the bound holds even when a part stops short of optimal).

**Column generation.** The restricted master LP chooses a convex combination of
known solutions (columns) of each part; its duals give :math:`(\lambda, \mu)`;
each part is priced by its own small MILP, and a solution with negative reduced
cost becomes a new column. The duals of the whole model's LP relaxation lie
below those of the integer model (a fractional site carries load more cheaply),
so a line search along their ray first prices every part loosely (a node
limit) at a few points (:func:`_line_search`), steps out until the parts' plans give
more than is needed, and goes to where the upper estimate of the bound from the
plans known peaks inside the bracket; the first full round prices there. Later
rounds stay in a box around the duals of the best bound so far (box step),
widened when it holds them back. A part is not re-solved when two priced points
with the same :math:`\mu` bracket :math:`\lambda` and the bound interpolated
between them (valid: the part's Lagrangian function is concave in
:math:`\lambda`) is within its slack of its best known plan. The parts of one
round share a slack (yuan) that starts loose and shrinks to a quarter of the gap
asked for (or to what the integer master's plan leaves of it): each part claims
its share (by pairs) of what is left when its pricing starts and hands back what
it did not use, and the parts that took the most effort last round (simplex
iterations and nodes) are priced last, so the hard ones get what the quick ones
left (a part that was quick in the last full round is asked for only a quarter
of its claim). With ``threads`` > 1 the parts are priced on that many threads
(the solvers run outside Python's lock) and keep their first claims.
The generation stops when the master LP is within half the gap of the best
bound, when the integer master is within the gap (the parts the master LP splits
first get their plans at the split, as below), or when nothing new prices out at
full precision. The gap between the master LP and the bound is judged after each
round's columns are in.

**Primal plan.** A part the master LP splits between plans is solved once more
for its cheapest plan at exactly that split's served demand and places; then
the master with one column per part (binary) is solved as a small integer
program (``scipy.optimize.milp``); its plan satisfies every constraint of the
full model. The gap reported is (plan cost − best Lagrangian bound) / plan
cost. With one or two coupling rows and many parts, the Lagrangian bound is
close to the integer optimum (the duality gap is at most about one or two
parts' nonconvexity), so the proof closes where a solver branching on the whole
model does not: it branches over the product of the parts' trees, this within
each part.

**Closing** (:func:`solve_model`). If a gap above the one asked for remains
(few parts, so a relatively large duality gap), the whole model is solved from
the parts' plan for the time left, and the better plan and the better bound are
kept. The outcome is ``optimal`` only when the bound proves it.

**Repeatability.** No step reads the clock to decide anything: the parts are
limited by gaps and node counts, ordered by their solvers' effort, and the
slack they share does not depend on which thread finishes first. The same
instance, options, solver and gap give the same plan on any machine load
(``tests/test_allocate_repeatable.py``). Only the caller's ``time_limit_s``
is a clock, the outer bound of the whole solve; a solve it does not stop is the
same as one without it.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pulp
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from tuoyu_sim.allocate.greedy import greedy_start
from tuoyu_sim.allocate.instance import Instance
from tuoyu_sim.allocate.mincost import (
    MinCostModel,
    MinCostOptions,
    MinCostSolution,
    build_min_cost,
    set_warm_start,
    solve_min_cost,
)
from tuoyu_sim.allocate.solvers import (
    PROVEN_GAP,
    SolveOutcome,
    SolverSpec,
    Status,
    make_solver,
    quiet_stdout,
    rel_gap,
)
from tuoyu_sim.errors import SolverError
from tuoyu_sim.geography import Pairs

T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    """One connected component, as indices into the whole instance."""

    communities: np.ndarray
    sites: np.ndarray
    pairs: np.ndarray
    """Pair indices into ``inst.pairs``, in the part's own order."""


def parts(inst: Instance) -> list[Part]:
    """Connected components of the community–site graph (pairs within the radius).

    Communities with no site in reach are left out (nothing can serve them);
    sites with no community in reach are gathered into one last part (an
    existing facility there still has its own staff rules).
    """
    n, m = inst.n_communities, inst.n_sites
    rows, cols = inst.pairs.rows, inst.pairs.cols
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, n + cols)), shape=(n + m, n + m)).tocsr()
    _k, label = connected_components(graph, directed=False)
    c_lab, s_lab = label[:n], label[n:]
    with_pairs = np.unique(c_lab[rows]) if len(rows) else np.zeros(0, dtype=np.int64)
    out: list[Part] = []
    order = np.argsort(c_lab[rows], kind="stable")
    p_lab = c_lab[rows][order]
    bounds = np.searchsorted(p_lab, np.append(with_pairs, np.iinfo(np.int64).max))
    for idx, lab in enumerate(with_pairs):
        ps = np.sort(order[bounds[idx] : bounds[idx + 1]])
        out.append(
            Part(
                communities=np.unique(rows[ps]),
                sites=np.flatnonzero(s_lab == lab),
                pairs=ps,
            )
        )
    alone = np.flatnonzero(~np.isin(s_lab, with_pairs))
    if alone.size:
        out.append(Part(np.zeros(0, dtype=np.int64), alone, np.zeros(0, dtype=np.int64)))
    return out


def sub_instance(inst: Instance, part: Part) -> Instance:
    """The instance restricted to one part (sites keep existing-first order)."""
    c, s, p = part.communities, part.sites, part.pairs
    cmap = np.full(inst.n_communities, -1, dtype=np.int64)
    cmap[c] = np.arange(c.size)
    smap = np.full(inst.n_sites, -1, dtype=np.int64)
    smap[s] = np.arange(s.size)
    pairs = Pairs(
        rows=cmap[inst.pairs.rows[p]], cols=smap[inst.pairs.cols[p]], dist_m=inst.pairs.dist_m[p]
    )
    return dataclasses.replace(
        inst,
        community_ids=tuple(inst.community_ids[i] for i in c),
        site_ids=tuple(inst.site_ids[j] for j in s),
        n_existing=int(np.count_nonzero(s < inst.n_existing)),
        population=inst.population[c],
        under3=inst.under3[c],
        enrolled=inst.enrolled[c],
        walk_in=inst.walk_in[c],
        pairs=pairs,
        decay=inst.decay[p],
        places0=inst.places0[s],
        staff0=inst.staff0[s],
        shifts0=inst.shifts0[s],
        site_presence=inst.site_presence[s],
        add_cap=inst.add_cap[s],
        area_free_m2=inst.area_free_m2[s],
        site_cost=inst.site_cost[s],
    )


@dataclass(frozen=True)
class Column:
    """One solution of one part: its cost, served demand, added places and decisions."""

    cost: float
    served: float
    places: float
    solution: MinCostSolution


@dataclass
class _Pricer:
    part: Part
    model: MinCostModel
    places: pulp.LpAffineExpression
    columns: list[Column]
    most: float = math.inf
    """Most demand the part can serve (the slope bound of its Lagrangian function)."""
    bounds: dict[tuple[float, float], float] = dataclasses.field(default_factory=dict)
    """Proven bound of the pricing problem at each ``(lam, mu)`` priced."""
    work: float = 0.0
    """Effort of the last pricing (:attr:`.SolveOutcome.work`: simplex iterations and
    nodes, the same on any machine load, unlike seconds)."""

    def known(self, lam: float, mu: float) -> tuple[float, float]:
        """Without solving: a lower bound at ``(lam, mu)`` and the best known plan's
        value there.

        The part's Lagrangian function :math:`g(\\lambda)` (``mu`` fixed) is
        concave and nonincreasing, with slope at least :math:`-Q` (``most``, all
        the part's demand): from a priced point :math:`(\\lambda_j, b_j)`,
        :math:`g \\ge b_j` to its left and :math:`g \\ge b_j - (\\lambda -
        \\lambda_j) Q` to its right; between two priced points, above the chord.
        """
        value = min(c.cost - lam * c.served - mu * c.places for c in self.columns)
        below = [(x, b) for (x, m), b in self.bounds.items() if m == mu and x <= lam]
        above = [(x, b) for (x, m), b in self.bounds.items() if m == mu and x >= lam]
        bound = -math.inf
        if above:
            bound = max(b for _x, b in above)
        if below:
            bound = max(bound, max(b - (lam - x) * self.most for x, b in below))
        if below and above:
            (x0, b0), (x1, b1) = max(below), min(above)
            chord = b0 if x1 == x0 else b0 + (b1 - b0) * (lam - x0) / (x1 - x0)
            bound = max(bound, chord)
        return bound, value

    def at_level(self, served: float, places: float, spec: SolverSpec) -> Column | None:
        """The cheapest plan serving at least ``served`` with at least ``places`` added."""
        rows = _level_rows(self, served, places)
        try:
            col, _bound = self.price(0.0, 0.0, spec)
        finally:
            for name in rows:
                del self.model.prob.constraints[name]
        return col

    def price(self, lam: float, mu: float, spec: SolverSpec) -> tuple[Column | None, float]:
        """Minimise cost - lam served - mu places; the column and the proven bound."""
        m = self.model
        m.prob.setObjective(m.cost - lam * m.served - mu * self.places)
        started = False
        if self.columns:
            best = min(self.columns, key=lambda c: c.cost - lam * c.served - mu * c.places)
            started = set_warm_start(m, as_start(best.solution))
        sol = solve_min_cost(m, spec, warm_start=False, started=started)
        o = sol.outcome
        self.work = o.work
        if not o.has_solution or o.bound is None:
            return None, -math.inf  # no bound claimed, even when "infeasible"
        return _column(m.inst, sol), float(o.bound)


def _column(sub: Instance, sol: MinCostSolution) -> Column:
    """A part's plan as a column, its cost and served demand from the rounded
    decisions (what the plan will cost, not the solver's unrounded values)."""
    cand = sub.is_candidate
    cost = (
        float(sub.site_cost[cand] @ sol.opened[cand])
        + sub.place_cost * float(sol.added_places.sum())
        + float((sol.added_staff @ sub.role_cost).sum())
    )
    weight = sub.demand[sub.pairs.rows] * sub.decay
    return Column(cost, float(weight @ sol.share), float(sol.added_places.sum()), sol)


def _level_rows(p: _Pricer, served: float, places: float) -> list[str]:
    m = p.model
    rows = []
    if served > 0:
        m.prob.addConstraint(
            pulp.LpConstraint(m.served, pulp.LpConstraintGE, "level_served", served * (1 - 1e-9))
        )
        rows.append("level_served")
    if places > 0:
        m.prob.addConstraint(
            pulp.LpConstraint(
                p.places, pulp.LpConstraintGE, "level_places", math.ceil(places - 1e-9)
            )
        )
        rows.append("level_places")
    return rows


def _master_lp(
    pricers: list[_Pricer], need_served: float, need_places: float, penalty: float
) -> tuple[float, float, float, np.ndarray, np.ndarray]:
    """Restricted master LP: value, coverage dual, places dual, convexity duals and
    the weight of every column (parts in order, columns in order)."""
    cols = [(k, c) for k, p in enumerate(pricers) for c in p.columns]
    n_k = len(pricers)
    cost = np.array([c.cost for _k, c in cols] + [penalty, penalty])
    a_eq = np.zeros((n_k, len(cols) + 2))
    for idx, (k, _c) in enumerate(cols):
        a_eq[k, idx] = 1.0
    a_ub = np.zeros((2, len(cols) + 2))
    a_ub[0, : len(cols)] = [-c.served for _k, c in cols]
    a_ub[1, : len(cols)] = [-c.places for _k, c in cols]
    a_ub[0, -2] = -1.0
    a_ub[1, -1] = -1.0
    res = linprog(
        cost,
        A_ub=a_ub,
        b_ub=[-need_served, -need_places],
        A_eq=a_eq,
        b_eq=np.ones(n_k),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise SolverError(f"min-cost by parts: the master LP failed ({res.message})")
    lam, mu = (-float(x) for x in res.ineqlin.marginals)
    return (
        float(res.fun),
        max(0.0, lam),
        max(0.0, mu),
        np.asarray(res.eqlin.marginals),
        np.asarray(res.x[: len(cols)]),
    )


def _master_ip(
    pricers: list[_Pricer],
    need_served: float,
    need_places: float,
    time_limit: float | None,
    node_limit: int | None = None,
) -> tuple[float, list[int]] | None:
    """One column per part, binary; the cheapest combination meeting both targets
    (within ``node_limit`` nodes; ``time_limit``: the caller's outer bound only)."""
    cols = [(k, i, c) for k, p in enumerate(pricers) for i, c in enumerate(p.columns)]
    n_k = len(pricers)
    cost = np.array([c.cost for _k, _i, c in cols])
    a = sp.lil_matrix((n_k + 2, len(cols)))
    for idx, (k, _i, c) in enumerate(cols):
        a[k, idx] = 1.0
        a[n_k, idx] = c.served
        a[n_k + 1, idx] = c.places
    lo = np.r_[np.ones(n_k), need_served, need_places]
    hi = np.r_[np.ones(n_k), np.inf, np.inf]
    with quiet_stdout():  # scipy's HiGHS may print from inside its MIP heuristics
        res = milp(
            cost,
            constraints=LinearConstraint(a.tocsr(), lo, hi),
            integrality=np.ones(len(cols)),
            bounds=Bounds(0, 1),
            options={"mip_rel_gap": 1e-9}
            | ({} if time_limit is None else {"time_limit": max(1.0, time_limit)})
            | ({} if node_limit is None else {"node_limit": node_limit}),
        )
    if res.x is None:
        return None
    chosen = [0] * n_k
    for idx, (k, i, _c) in enumerate(cols):
        if res.x[idx] > 0.5:
            chosen[k] = i
    return float(res.fun), chosen


def use_parts(inst: Instance, options: MinCostOptions) -> bool:
    """Whether :func:`solve_model` solves by parts (the one place this is chosen):
    the cost objective, no budget (a budget couples the parts' costs), and at
    least two parts with communities.

    Measured (HiGHS, gap 0.1%, one thread; ``docs/allocation.md``, "Which path"):
    by parts wins by far where the whole model does not close its gap (a
    clustered 200 x 50 district with coverage 1.0: 11.8 s against more than
    120 s; 1,000 x 200 clustered: 10-67 s against not proven in 300 s) and loses
    by seconds where the whole model is quick (Yanzhou, 85 parts: 15.8-23.0 s
    against 6.8-14.6 s). No rule by size separates the two on the few districts
    measured (both kinds occur at 200 x 50), so any district that falls apart is
    solved by parts: its losses are seconds, its wins minutes.
    """
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
    # The whole model, alone or closing after the parts, goes without the envelope
    # rows: they only slow each node there (Yanzhou: 54 s against 224 s under CBC,
    # 8 s against 15 s under HiGHS when closing; 6.8-14.6 s against 29.0-62.6 s
    # alone under HiGHS; a uniform 200 x 50 district: 0.23% against 0.49% after 60 s).
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
        or not set_warm_start(model, as_start(sol), eps=1e-6)
    ):
        # no plan by parts (or, defensively, one that breaks a row of the whole model)
        return solve_min_cost(model, whole_spec, warm_start=False)
    o = sol.outcome
    if o.gap is None or o.gap <= spec.gap or (left is not None and left < 1.0):
        return sol
    # The parts' bound leaves a duality gap: branch on the whole model, starting
    # from the parts' plan, for the time left; keep the better plan and bound.
    whole = solve_min_cost(model, whole_spec, warm_start=False, started=True)
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


def as_start(sol: MinCostSolution) -> dict[str, np.ndarray]:
    """A solution's decisions in the form :func:`.mincost.set_warm_start` takes."""
    return {
        "opened": sol.opened,
        "added": sol.added_places,
        "walk": sol.walk_in_places,
        "staff": sol.added_staff,
        "share": sol.share,
    }


def solve_decomposed(inst: Instance, options: MinCostOptions, spec: SolverSpec) -> MinCostSolution:
    """Solve the min-cost model by parts (see the module docstring)."""
    t0 = time.perf_counter()
    deadline = None if spec.time_limit_s is None else t0 + spec.time_limit_s
    pricers = _pricers(inst, options)
    total = float(inst.demand.sum())
    need_served = options.coverage_share * total if total > 0 else 0.0
    need_places = inst.places_needed_per_1000(options.places_per_1000)
    target = max(spec.gap, PROVEN_GAP)
    n_pairs = np.array([max(1, p.part.pairs.size) for p in pricers], dtype=float)
    weight = n_pairs / n_pairs.sum()
    # effort (simplex iterations and nodes) of each part's last pricing: what
    # orders the parts and shares the slack, the same on any machine load
    took = np.zeros(len(pricers))

    def sub_spec(gap_abs: float) -> SolverSpec:
        # A part may stop within ``gap_abs`` (yuan) of its optimum. The only
        # clock is the caller's time limit, the outer bound of the whole solve.
        left = None if deadline is None else max(1.0, deadline - time.perf_counter())
        return SolverSpec(
            spec.name,
            time_limit_s=left,
            gap=PROVEN_GAP / 10,
            threads=spec.threads,
            gap_abs=max(1e-6, gap_abs),
        )

    big = 1e3 * max(float(inst.role_cost.max()), float(inst.site_cost.max(initial=0)), 1.0)
    best_lb = -math.inf
    start = greedy_start(
        inst, options.coverage_share, options.min_community_share, options.places_per_1000
    )

    def first_columns(k: int) -> bool:
        p = pricers[k]
        col = None if start is None else _start_column(p, start)
        if col is not None:
            p.columns.append(col)
        for lam, mu in ((0.0, 0.0),) if col is not None else ((0.0, 0.0), (big, big)):
            col, bound = p.price(lam, mu, sub_spec(0.0))
            if col is None:
                return False
            p.columns.append(col)
            p.bounds[(lam, mu)] = bound
        return True

    levelled: set[tuple[int, float, float]] = set()

    def add_levels() -> None:
        """A part the master LP splits between plans gets its cheapest plan at
        exactly that split's served demand and places, so that the integer
        master can match the split."""
        theta = _master_lp(pricers, need_served, need_places, penalty)[4]
        at = 0
        split: list[tuple[int, float, float]] = []
        for k, p in enumerate(pricers):
            w = theta[at : at + len(p.columns)]
            at += len(p.columns)
            if w.size == 0 or w.max() > 1.0 - 1e-6:
                continue
            served = float(sum(t * c.served for t, c in zip(w, p.columns, strict=True)))
            places = float(sum(t * c.places for t, c in zip(w, p.columns, strict=True)))
            if (k, served, places) not in levelled:
                levelled.add((k, served, places))
                split.append((k, served, places))
        for (k, _s, _x), col in zip(split, _each(level, split, spec.threads), strict=True):
            p = pricers[k]
            if col is not None and not any(_same(col, c) for c in p.columns):
                p.columns.append(col)

    def level(job: tuple[int, float, float]) -> Column | None:
        k, served, places = job
        if deadline is not None and time.perf_counter() > deadline:
            return None
        # a plan, not a proof: within a tenth of the gap asked for, of this part's cost
        loose = dataclasses.replace(sub_spec(0.0), gap=target / 10)
        return pricers[k].at_level(served, places, loose)

    if not all(_each(first_columns, range(len(pricers)), spec.threads)):
        return _no_solution(inst, spec, t0, "a part has no solution")
    penalty = 10 * big
    iterations = 0
    tighten = False
    incumbent: float | None = None  # cost of the best integer master plan so far
    first = _lp_duals(inst, options, spec, deadline)
    centre: tuple[float, float] | None = None  # the duals of the best bound so far
    searched = False
    if first is not None and (first[0] > 0 or first[1] > 0):
        # The LP's duals lie below the integer model's (a fractional site carries
        # load more cheaply): find where the Lagrangian stops rising along their
        # ray with quick, time-capped pricings, then price tightly there.
        first, lb = _line_search(pricers, first, need_served, need_places, spec, deadline, took)
        if lb > best_lb:
            best_lb = lb
        centre, searched = first, True
    width = 0.03
    scale = inst.place_cost + float(inst.role_cost.min()) / float(inst.ratio.max(initial=1))
    while True:
        iterations += 1
        lp_value, lam_lp, mu_lp, pi, _theta = _master_lp(pricers, need_served, need_places, penalty)
        if first is not None:
            # the first round prices where the line search ended (or at the whole
            # model's LP duals), much nearer the end than the duals of a master
            # with two columns per part
            (lam, mu), first = first, None
        elif centre is not None:
            # box step: the master's duals jump about while it has few columns;
            # stay within a box around the duals of the best bound
            lam = _clamp(lam_lp, centre[0], width * max(centre[0], scale))
            mu = _clamp(mu_lp, centre[1], width * max(centre[1], scale))
        else:
            lam, mu = lam_lp, mu_lp
        at_lp = lam == lam_lp and mu == mu_lp
        # the first round prices at the line search's point, if there was one
        at_search = iterations == 1 and searched
        closing = at_lp or at_search
        # early rounds price loosely (the duals are still moving); the slack
        # shrinks with the distance between the master LP and the bound, down to a
        # quarter of the gap asked for
        least = 0.25 * abs(lp_value) * target
        if incumbent is not None:
            # the integer master's plan in hand: the gap asked for, less what
            # separates that plan from the master LP, is room for the parts
            least = max(least, 0.5 * (target * incumbent - (incumbent - lp_value)))
        if tighten:
            slack = least
        elif math.isfinite(best_lb):
            slack = max(least, 0.25 * (lp_value - best_lb))
            if closing:
                # the master's own duals inside the box, or the line search's
                # point: perhaps the last round, so price tightly enough for its
                # bound to close the gap (0.4 of it for the parts' slack, the
                # rest for the plan's distance and the duals' miss; 0.5 took a
                # second round with one age class)
                slack = max(least, min(slack, 0.4 * target * abs(lp_value)))
        else:
            slack = max(least, 0.01 * abs(lp_value))
        lb = lam * need_served + mu * need_places
        added = 0
        todo = []
        spent = 0.0
        for k, p in enumerate(pricers):
            known, value = p.known(lam, mu)
            if value - known <= slack * float(weight[k]):
                lb += known  # the plans known already are within this part's slack
                spent += value - known
            else:
                todo.append(k)
        # the quick parts first: the slack they do not use goes to the hard ones
        todo.sort(key=lambda k: took[k])
        budget = _Budget(
            slack - spent, float(weight[todo].sum()) if todo else 0.0, spec.threads == 1
        )

        def price(
            k: int,
            lam: float = lam,
            mu: float = mu,
            budget: _Budget = budget,
            slowest: float = float(took.max()),
            searched_last: bool = at_search,
        ) -> Priced:
            if deadline is not None and time.perf_counter() > deadline:
                return None  # this round's bound would miss parts
            claimed = budget.claim(float(weight[k]))
            p = pricers[k]
            # a part that was quick in the last full round is asked for a quarter
            # of its claim (it costs it little) and hands the rest on to the slow
            # ones; not right after the line search, whose capped times say
            # little about a tight pricing
            ask = claimed if took[k] >= 0.5 * slowest or searched_last else 0.25 * claimed
            col, bound = p.price(lam, mu, sub_spec(ask))
            took[k] = p.work
            used = claimed
            if col is not None and math.isfinite(bound):
                best = min(c.cost - lam * c.served - mu * c.places for c in [col, *p.columns])
                used = best - bound
            budget.settle(claimed, used)
            return col, bound

        priced = _each(price, todo, spec.threads)
        complete = all(r is not None for r in priced)
        for k, r in zip(todo, priced, strict=True):
            if r is None:
                continue
            p = pricers[k]
            col, bound = r
            lb += bound
            if col is None:
                continue
            if math.isfinite(bound):
                p.bounds[(lam, mu)] = bound
            if at_lp:
                rc = col.cost - lam * col.served - mu * col.places - pi[k]
                new = rc < -1e-6 * max(1.0, abs(col.cost))
            else:
                new = not any(_same(col, c) for c in p.columns)
            if new:
                p.columns.append(col)
                added += 1
        if complete and lb > best_lb:
            best_lb, centre = lb, (lam, mu)
        out_of_time = deadline is not None and time.perf_counter() > deadline
        if added:
            # the round's columns lower the master: judge the gap on its new value
            lp_value = _master_lp(pricers, need_served, need_places, penalty)[0]
        if out_of_time or rel_gap(lp_value, best_lb) <= target / 2:
            break
        if complete and math.isfinite(best_lb) and rel_gap(lp_value, best_lb) <= 2 * target:
            # near the end the integer master may already be within the gap,
            # once the parts the master LP splits have their plans at the split
            add_levels()
            left = None if deadline is None else max(1.0, deadline - time.perf_counter())
            ip = _master_ip(pricers, need_served, need_places, left, MASTER_IP_NODES)
            if ip is not None and rel_gap(ip[0], best_lb) <= target:
                break
            if ip is not None:
                incumbent = ip[0] if incumbent is None else min(incumbent, ip[0])
        if added == 0:
            if not at_lp:
                width *= 4  # the box held the duals back: widen it
            elif slack <= least:
                break
            else:
                tighten = True  # nothing new at this precision: price exactly once more
    add_levels()
    left = None if deadline is None else max(1.0, deadline - time.perf_counter())
    ip = _master_ip(pricers, need_served, need_places, left)
    if ip is None:
        return _no_solution(inst, spec, t0, "no combination of the parts' plans meets the targets")
    value, chosen = ip
    gap = rel_gap(value, best_lb) if math.isfinite(best_lb) else math.inf
    status: Status = "optimal" if gap <= PROVEN_GAP else "feasible"
    outcome = SolveOutcome(
        status,
        spec.name,
        value,
        best_lb,
        gap,
        time.perf_counter() - t0,
        f"decomposed: {len(pricers)} parts, {iterations} rounds, "
        f"{sum(len(p.columns) for p in pricers)} columns",
    )
    return _assemble(inst, pricers, chosen, outcome)


def _pricers(inst: Instance, options: MinCostOptions) -> list[_Pricer]:
    """One pricing model per part: every local rule, no district target."""
    local = dataclasses.replace(
        options, coverage_share=0.0, places_per_1000=None, budget_cny=None, objective="cost"
    )
    pricers: list[_Pricer] = []
    for part in parts(inst):
        sub = sub_instance(inst, part)
        smap = {int(j): k for k, j in enumerate(part.sites)}
        fixed = {smap[j]: v for j, v in options.fixed_open.items() if j in smap}
        model = build_min_cost(sub, dataclasses.replace(local, fixed_open=fixed))
        places = pulp.LpAffineExpression([(v, 1.0) for v in model.add.values()])
        most = float(np.sum(sub.demand[sub.pairs.rows] * sub.decay, initial=0.0))
        most = min(most, float(sub.demand.sum()))
        pricers.append(_Pricer(part, model, places, [], most=most))
    return pricers


Priced = tuple["Column | None", float] | None


class _Budget:
    """The slack (yuan) the parts priced in one round share. Each part claims its
    weight's share of what is left when it starts and, priced one after another
    (``hand_back``), gives back what it did not use when it ends; the claims and
    the shortfalls never add up to more than the total, and the hard parts,
    priced last, get what the quick ones left. Priced on several threads, the
    parts keep their first claims (each its weight's share of the total,
    whatever order the threads run in), so the plan does not depend on which
    thread finishes first."""

    def __init__(self, total: float, weight: float, hand_back: bool = True) -> None:
        self.left = max(0.0, total)
        self.weight = weight
        self.hand_back = hand_back
        self.fixed = (self.left, weight)
        self.lock = threading.Lock()

    def claim(self, weight: float) -> float:
        if not self.hand_back:  # the same figure whatever the order of the claims
            total, of = self.fixed
            return total if of <= weight else total * weight / of
        with self.lock:
            share = self.left if self.weight <= weight else self.left * weight / self.weight
            self.left -= share
            self.weight -= weight
            return share

    def settle(self, claimed: float, used: float) -> None:
        if not self.hand_back:
            return
        with self.lock:
            self.left += max(0.0, claimed - used)


def _each(fn: Callable[[Any], T], jobs: Iterable[Any], workers: int) -> list[T]:
    """``[fn(job) for job in jobs]``, on up to ``workers`` threads: each job
    touches one part's model only, and the solvers run outside the GIL (HiGHS
    releases it, CBC is a process of its own)."""
    jobs = list(jobs)
    if workers <= 1 or len(jobs) <= 1:
        return [fn(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, jobs))


SEARCH_NODES = 100
"""Branch-and-bound nodes each part may take at a point of the line search (a
node limit, not a time cap: the same point on any machine load)."""
MASTER_IP_NODES = 1000
"""Nodes of the integer master tried before the generation ends."""
SEARCH_GAP = 1e-2
"""Relative gap of each part's pricing in the line search."""
SEARCH_POINTS = 4
"""Most points the line search prices."""


def _line_search(
    pricers: list[_Pricer],
    base: tuple[float, float],
    need_served: float,
    need_places: float,
    spec: SolverSpec,
    deadline: float | None,
    took: np.ndarray,
) -> tuple[tuple[float, float], float]:
    r"""Duals ``t * base`` near where the Lagrangian bound peaks along the ray, and
    the best bound met on the way.

    :math:`L(t\,b)` is concave in :math:`t`, and so is its upper estimate
    :math:`U(t\,b)` from the plans known (each part at its best known plan);
    the slope of :math:`U` is :math:`b \cdot (\text{need} - \text{what those
    plans give})`. Each point prices every part within at most
    :data:`SEARCH_NODES` nodes (near-optimal plans, which become columns, and
    the solver's proven bounds, which are valid). From :math:`t = 1` the search
    steps out by 6%, doubling, until the slope changes sign; inside the bracket
    it goes to where :math:`U` peaks, until the bracket is 4% wide, the plans
    give what is needed within 0.5%, or :data:`SEARCH_POINTS` points are
    priced. A part whose points priced already bound it
    within :data:`SEARCH_GAP` (:meth:`_Pricer.known`: a part that serves all it
    can keeps its plan as the duals rise) is not priced again.
    """
    lam0, mu0 = base
    scale = lam0 * need_served + mu0 * need_places
    best_lb = -math.inf
    lo, hi = 0.0, math.inf  # the slope is > 0 at lo, <= 0 at hi
    t, step = 1.0, 0.06

    def upper(t: float) -> tuple[float, float]:
        """U at t and its slope in t, from the best known plan of each part."""
        lam, mu = t * lam0, t * mu0
        value, slope = lam * need_served + mu * need_places, scale
        for p in pricers:
            c = min(p.columns, key=lambda c: c.cost - lam * c.served - mu * c.places)
            value += c.cost - lam * c.served - mu * c.places
            slope -= lam0 * c.served + mu0 * c.places
        return value, slope

    for _ in range(SEARCH_POINTS):
        if deadline is not None and time.perf_counter() > deadline:
            break
        lam, mu = t * lam0, t * mu0
        left = None if deadline is None else max(1.0, deadline - time.perf_counter())
        capped = SolverSpec(
            spec.name,
            time_limit_s=left,
            gap=SEARCH_GAP,
            threads=spec.threads,
            node_limit=SEARCH_NODES,
        )

        def price(k: int, lam: float = lam, mu: float = mu, spec: SolverSpec = capped) -> Priced:
            known, value = pricers[k].known(lam, mu)
            if value - known <= SEARCH_GAP * abs(value):
                # the points priced already bound it (a part serving all it can
                # keeps its plan as the duals rise): nothing to learn here
                return None, known
            out = pricers[k].price(lam, mu, spec)
            took[k] = pricers[k].work
            return out

        lb, complete = lam * need_served + mu * need_places, True
        for p, r in zip(pricers, _each(price, range(len(pricers)), spec.threads), strict=True):
            col, bound = r if r is not None else (None, -math.inf)
            if col is None:
                complete = complete and math.isfinite(bound)
                lb += bound
                continue
            if math.isfinite(bound):
                p.bounds[(lam, mu)] = bound
            if not any(_same(col, c) for c in p.columns):
                p.columns.append(col)
            lb += bound
        if complete:
            best_lb = max(best_lb, lb)
        slope = upper(t)[1]
        if abs(slope) <= 5e-3 * scale:
            break
        if slope > 0:
            lo = t
        else:
            hi = t
        if math.isinf(hi):
            t, step = t * (1 + step), 2 * step
        elif lo == 0.0:
            t, step = t / (1 + step), 2 * step
        else:
            # where U peaks inside the bracket (U is piecewise linear: a fine grid)
            grid = np.linspace(lo, hi, 41)
            t = float(grid[int(np.argmax([upper(x)[0] for x in grid]))])
            if hi - lo <= 0.04 * lo:
                break
    return (t * lam0, t * mu0), best_lb


def _clamp(x: float, centre: float, half: float) -> float:
    return min(max(x, centre - half, 0.0), centre + half)


def _same(a: Column, b: Column) -> bool:
    return (
        abs(a.cost - b.cost) <= 1e-6 * max(1.0, abs(a.cost))
        and abs(a.served - b.served) <= 1e-9 * max(1.0, abs(a.served))
        and a.places == b.places
    )


def _lp_duals(
    inst: Instance, options: MinCostOptions, spec: SolverSpec, deadline: float | None
) -> tuple[float, float] | None:
    """Duals of the coverage and places-per-1,000 rows in the whole model's LP
    relaxation (None if it is not solved to optimality within the caller's
    ``deadline``, the only clock)."""
    model = build_min_cost(inst, options)
    left = None if deadline is None else max(1.0, deadline - time.perf_counter())
    solver = make_solver(SolverSpec(spec.name, time_limit_s=left), threads=False)
    solver.mip = False
    try:
        with quiet_stdout():
            model.prob.solve(solver)
    except pulp.PulpSolverError:
        return None
    if model.prob.status != pulp.LpStatusOptimal:
        return None
    rows = model.prob.constraints
    return tuple(  # type: ignore[return-value]
        max(0.0, float(rows[n].pi or 0.0)) if n in rows else 0.0 for n in ("coverage", "per1000")
    )


def _start_column(p: _Pricer, start: dict[str, np.ndarray]) -> Column | None:
    """The greedy plan's piece in this part, as a column (None if it breaks a local rule)."""
    s, ps = p.part.sites, p.part.pairs
    piece = {
        "opened": start["opened"][s],
        "added": start["added"][s],
        "walk": start["walk"][s],
        "staff": start["staff"][s],
        "share": start["share"][ps],
    }
    m = p.model
    if not set_warm_start(m, piece):
        return None
    outcome = SolveOutcome("feasible", "greedy", None, None, None, 0.0, "greedy start")
    sol = MinCostSolution(
        outcome, piece["opened"], piece["added"], piece["walk"], piece["staff"], piece["share"]
    )
    return _column(m.inst, sol)


def _no_solution(inst: Instance, spec: SolverSpec, t0: float, why: str) -> MinCostSolution:
    outcome = SolveOutcome(
        "no_solution", spec.name, None, None, None, time.perf_counter() - t0, why
    )
    return MinCostSolution.empty(inst, outcome)


def _assemble(
    inst: Instance, pricers: list[_Pricer], chosen: list[int], outcome: SolveOutcome
) -> MinCostSolution:
    sol = MinCostSolution.empty(inst, outcome)
    for p, i in zip(pricers, chosen, strict=True):
        s = p.columns[i].solution
        sol.opened[p.part.sites] = s.opened
        sol.added_places[p.part.sites] = s.added_places
        sol.walk_in_places[p.part.sites] = s.walk_in_places
        sol.added_staff[p.part.sites] = s.added_staff
        sol.share[p.part.pairs] = s.share
    return sol

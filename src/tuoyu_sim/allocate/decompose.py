r"""The min-cost model solved part by part: Dantzig–Wolfe over connected components.

Why the model is split, how the parts are joined and when this path is taken:
:mod:`.strategy`. Here, the method in full.

Each connected component :math:`k` of the community–site graph is a part with
its own integer set :math:`Z_k` (every local row of :mod:`.mincost`: capacity,
area, staffing, health staff, walk-in sizing, the per-community floor, the
circle), its cost :math:`c_k(z)`, served demand :math:`q_k(z)` and added places
:math:`x_k(z)`. The model is

.. math::

    \min \sum_k c_k(z_k) \quad\text{s.t.}\quad
    \sum_k q_k(z_k) \ge \gamma D,\quad \sum_k x_k(z_k) \ge P,\quad z_k \in Z_k.

**Lagrangian bound.** For any :math:`\lambda, \mu \ge 0`

.. math::

    L(\lambda, \mu) = \lambda \gamma D + \mu P
        + \sum_k \min_{z \in Z_k} \big(c_k(z) - \lambda q_k(z) - \mu x_k(z)\big)

is a lower bound on the optimum (each part's minimum is taken as its solver's
proven dual bound, so the bound holds even when a part stops short of optimal).

**Column generation** (:func:`solve_decomposed`, the steps of
:class:`_Generation`). The restricted master LP (:meth:`_Master.lp`) chooses a
convex combination of known solutions (columns) of each part; its duals give
:math:`(\lambda, \mu)`; each part is priced by its own small MILP
(:meth:`_Pricer.price`), and a solution with negative reduced cost becomes a
new column. The first round prices where a line search along the whole
model's LP duals ends (:func:`_line_search`: those duals lie below the integer
model's); later rounds stay in a box around the duals of the best bound so far
(:meth:`_Generation.duals`). The parts of a round share a slack in yuan
(:meth:`_Generation.slack`, :class:`_Budget`), and a part whose known bounds
already show its best plan within its share is not priced again
(:meth:`_Pricer.known`). The generation stops when the master LP is within
half the gap of the best bound, when the integer master is within the gap, or
when nothing new prices out at full precision.

**Primal plan.** A part the master LP splits between plans is solved once more
for its cheapest plan at exactly that split's served demand and places
(:meth:`_Generation.add_levels`); then the master with one column per part
(binary; :meth:`_Master.ip`) is solved as a small integer program; its plan
satisfies every constraint of the full model. The gap reported is (plan cost −
best Lagrangian bound) / plan cost.

**The solver asked for solves everything**: the parts, the whole model's LP
relaxation and both masters, through PuLP (a run with CBC calls no HiGHS).

**Repeatability.** No step reads the clock to decide anything: the parts are
limited by gaps and node counts, ordered by their solvers' effort, and the
slack they share does not depend on which thread finishes first. The same
instance, options, solver and gap give the same plan on any machine load
(``tests/test_contract_repeatable_plans.py``). Only the caller's ``time_limit_s``
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
    add_row,
    rel_gap,
    solve,
    solve_lp,
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
            started = set_warm_start(m, best.solution.as_start())
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
    """Rows that hold the part to at least ``served`` and ``places``; their names."""
    m = p.model
    rows = []
    if served > 0:
        add_row(m.prob, m.served, pulp.LpConstraintGE, served * (1 - 1e-9), "level_served")
        rows.append("level_served")
    if places > 0:
        add_row(m.prob, p.places, pulp.LpConstraintGE, math.ceil(places - 1e-9), "level_places")
        rows.append("level_places")
    return rows


@dataclass(frozen=True)
class _MasterLP:
    """The restricted master LP solved: its value, the duals of its rows and the
    weight of every column (parts in order, columns in order)."""

    value: float
    lam: float
    """Dual of the served-demand row, yuan per place's worth served (>= 0)."""
    mu: float
    """Dual of the places row, yuan per place (>= 0)."""
    pi: np.ndarray
    """Dual of each part's convexity row."""
    theta: np.ndarray


@dataclass(frozen=True)
class _Master:
    """The two district rows the parts share, over the parts' columns."""

    pricers: list[_Pricer]
    need_served: float
    need_places: float
    penalty: float
    """Cost of a unit short of a district row in the master LP (keeps it feasible)."""
    spec: SolverSpec

    def lp(self) -> _MasterLP:
        """The restricted master LP: a convex combination of each part's columns
        meeting both district rows (or paying ``penalty`` per unit short)."""
        prob, cols = self._problem(integer=False)
        if not solve_lp(prob, _master_spec(self.spec)):
            status = pulp.LpStatus.get(prob.status, str(prob.status))
            raise SolverError(f"min-cost by parts: the master LP failed ({status})")
        rows = prob.constraints
        return _MasterLP(
            float(pulp.value(prob.objective) or 0.0),
            max(0.0, float(rows["served"].pi or 0.0)),
            max(0.0, float(rows["places"].pi or 0.0)),
            np.array([float(rows[f"part_{k}"].pi or 0.0) for k in range(len(self.pricers))]),
            np.array([float(v.varValue or 0.0) for v in cols]),
        )

    def ip(self, time_limit: float | None, node_limit: int | None = None) -> _MasterIP | None:
        """One column per part, binary; the cheapest combination meeting both
        district rows (within ``node_limit`` nodes; ``time_limit``: the caller's
        outer bound only), or None when none is found."""
        prob, cols = self._problem(integer=True)
        spec = dataclasses.replace(
            _master_spec(self.spec),
            time_limit_s=None if time_limit is None else max(1.0, time_limit),
            node_limit=node_limit,
        )
        outcome = solve(prob, spec)
        if not outcome.has_solution or outcome.objective is None:
            return None
        chosen = [0] * len(self.pricers)
        owner = [(k, i) for k, p in enumerate(self.pricers) for i in range(len(p.columns))]
        for v, (k, i) in zip(cols, owner, strict=True):
            if (v.varValue or 0.0) > 0.5:
                chosen[k] = i
        # the plan's cost from its columns (whole yuan), not the solver's values
        # of the binaries, which are whole only to its tolerance
        cost = sum(p.columns[i].cost for p, i in zip(self.pricers, chosen, strict=True))
        return _MasterIP(cost, chosen)

    def _problem(self, integer: bool) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
        """The master over every column, parts in order, and its column variables:
        binary with ``integer``, else continuous with a penalised shortfall."""
        prob = pulp.LpProblem("master", pulp.LpMinimize)
        columns = [c for p in self.pricers for c in p.columns]
        # named so that they sort in column order: PuLP hands them over by name
        cat = pulp.LpBinary if integer else pulp.LpContinuous
        cols = [pulp.LpVariable(f"col_{n:07d}", 0, None, cat) for n in range(len(columns))]
        cost = [(v, c.cost) for v, c in zip(cols, columns, strict=True)]
        served = [(v, c.served) for v, c in zip(cols, columns, strict=True)]
        places = [(v, c.places) for v, c in zip(cols, columns, strict=True)]
        if not integer:
            short = [pulp.LpVariable(f"short_{i}", 0) for i in (1, 2)]
            cost += [(v, self.penalty) for v in short]
            served.append((short[0], 1.0))
            places.append((short[1], 1.0))
        prob.setObjective(pulp.LpAffineExpression(cost))
        add_row(prob, served, pulp.LpConstraintGE, self.need_served, "served")
        add_row(prob, places, pulp.LpConstraintGE, self.need_places, "places")
        at = 0
        for k, p in enumerate(self.pricers):
            mine = [(v, 1.0) for v in cols[at : at + len(p.columns)]]
            add_row(prob, mine, pulp.LpConstraintEQ, 1.0, f"part_{k}")
            at += len(p.columns)
        return prob, cols


@dataclass(frozen=True)
class _MasterIP:
    value: float
    """Cost of the plan (yuan)."""
    chosen: list[int]
    """The column chosen in each part."""


def _big(inst: Instance) -> float:
    """Duals (yuan) high enough that every part serves all it can and adds every
    place it can: the first columns' other end."""
    return 1e3 * max(float(inst.role_cost.max()), float(inst.site_cost.max(initial=0)), 1.0)


def _master_spec(spec: SolverSpec) -> SolverSpec:
    """The masters: the solver asked for, no time limit of its own, a gap that
    proves the combination (they are small)."""
    return SolverSpec(spec.name, gap=1e-9, threads=spec.threads)


def solve_decomposed(inst: Instance, options: MinCostOptions, spec: SolverSpec) -> MinCostSolution:
    """Solve the min-cost model by parts (see the module docstring): each part's
    first plans, the duals to price first at, rounds of column generation until
    the bound and the masters meet, and the integer master's plan."""
    gen = _Generation.start(inst, options, spec)
    if not gen.first_columns():
        return gen.no_solution("a part has no solution")
    gen.first_duals()
    while gen.round():
        pass
    return gen.plan()


@dataclass
class _Generation:
    """The state of one solve by parts, and its steps (:func:`solve_decomposed`)."""

    inst: Instance
    options: MinCostOptions
    spec: SolverSpec
    t0: float
    deadline: float | None
    """The caller's time limit, the only clock (``time.perf_counter``)."""
    pricers: list[_Pricer]
    master: _Master
    target: float
    """The relative gap asked for (at least :data:`PROVEN_GAP`)."""
    weight: np.ndarray
    """Each part's share of the pairs: its share of a round's slack."""
    took: np.ndarray
    """Effort (simplex iterations and nodes) of each part's last pricing: what
    orders the parts and shares the slack, the same on any machine load."""
    best_lb: float = -math.inf
    centre: tuple[float, float] | None = None
    """The duals of the best bound so far (the box step's centre)."""
    first: tuple[float, float] | None = None
    """Where the first round prices (the line search's point, or the LP's duals)."""
    searched: bool = False
    width: float = 0.03
    """Half-width of the box, relative to its centre."""
    iterations: int = 0
    tighten: bool = False
    incumbent: float | None = None
    """Cost of the best integer master plan so far."""
    levelled: set[tuple[int, float, float]] = dataclasses.field(default_factory=set)

    @classmethod
    def start(cls, inst: Instance, options: MinCostOptions, spec: SolverSpec) -> _Generation:
        t0 = time.perf_counter()
        pricers = _pricers(inst, options)
        total = float(inst.demand.sum())
        master = _Master(
            pricers,
            options.coverage_share * total if total > 0 else 0.0,
            inst.places_needed_per_1000(options.places_per_1000),
            10 * _big(inst),
            spec,
        )
        n_pairs = np.array([max(1, p.part.pairs.size) for p in pricers], dtype=float)
        return cls(
            inst,
            options,
            spec,
            t0,
            None if spec.time_limit_s is None else t0 + spec.time_limit_s,
            pricers,
            master,
            max(spec.gap, PROVEN_GAP),
            n_pairs / n_pairs.sum(),
            np.zeros(len(pricers)),
        )

    # -- the clock: the caller's outer bound only ---------------------------------

    def time_left(self) -> float | None:
        return None if self.deadline is None else max(1.0, self.deadline - time.perf_counter())

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def part_spec(self, gap_abs: float) -> SolverSpec:
        """A part may stop within ``gap_abs`` (yuan) of its optimum."""
        return SolverSpec(
            self.spec.name,
            time_limit_s=self.time_left(),
            gap=PROVEN_GAP / 10,
            threads=self.spec.threads,
            gap_abs=max(1e-6, gap_abs),
        )

    # -- the steps ------------------------------------------------------------------

    def first_columns(self) -> bool:
        """Each part's piece of the greedy plan and its cheapest plan (with no
        greedy piece, also its plan at very high duals); False if a part has none."""
        o = self.options
        start = greedy_start(self.inst, o.coverage_share, o.min_community_share, o.places_per_1000)
        big = _big(self.inst)

        def first(k: int) -> bool:
            p = self.pricers[k]
            col = None if start is None else _start_column(p, start)
            if col is not None:
                p.columns.append(col)
            for lam, mu in ((0.0, 0.0),) if col is not None else ((0.0, 0.0), (big, big)):
                col, bound = p.price(lam, mu, self.part_spec(0.0))
                if col is None:
                    return False
                p.columns.append(col)
                p.bounds[(lam, mu)] = bound
            return True

        return all(_each(first, range(len(self.pricers)), self.spec.threads))

    def first_duals(self) -> None:
        """The whole model's LP duals, and with any positive, the line search along
        their ray: the LP's duals lie below the integer model's (a fractional site
        carries load more cheaply)."""
        self.first = _lp_duals(self.inst, self.options, self.spec, self.deadline)
        if self.first is not None and (self.first[0] > 0 or self.first[1] > 0):
            m = self.master
            self.first, lb = _line_search(
                self.pricers,
                self.first,
                m.need_served,
                m.need_places,
                self.spec,
                self.deadline,
                self.took,
            )
            self.best_lb = max(self.best_lb, lb)
            self.centre, self.searched = self.first, True

    def round(self) -> bool:
        """One round of column generation; False when the generation ends."""
        self.iterations += 1
        lp = self.master.lp()
        lam, mu = self.duals(lp)
        at_lp = lam == lp.lam and mu == lp.mu
        # the first round prices at the line search's point, if there was one
        at_search = self.iterations == 1 and self.searched
        slack, least = self.slack(lp.value, closing=at_lp or at_search)
        lb, added, complete = self.price_round(lam, mu, slack, lp.pi if at_lp else None, at_search)
        if complete and lb > self.best_lb:
            self.best_lb, self.centre = lb, (lam, mu)
        out_of_time = self.out_of_time()
        # the round's columns lower the master: judge the gap on its new value
        lp_value = self.master.lp().value if added else lp.value
        if out_of_time or rel_gap(lp_value, self.best_lb) <= self.target / 2:
            return False
        if (
            complete
            and math.isfinite(self.best_lb)
            and rel_gap(lp_value, self.best_lb) <= 2 * self.target
        ):
            # near the end the integer master may already be within the gap,
            # once the parts the master LP splits have their plans at the split
            self.add_levels()
            ip = self.master.ip(self.time_left(), MASTER_IP_NODES)
            if ip is not None and rel_gap(ip.value, self.best_lb) <= self.target:
                return False
            if ip is not None:
                self.incumbent = (
                    ip.value if self.incumbent is None else min(self.incumbent, ip.value)
                )
        if added == 0:
            if not at_lp:
                self.width *= 4  # the box held the duals back: widen it
            elif slack <= least:
                return False
            else:
                self.tighten = True  # nothing new at this precision: price exactly once more
        return True

    def duals(self, lp: _MasterLP) -> tuple[float, float]:
        """Where this round prices: first where the line search ended (or at the
        whole model's LP duals), much nearer the end than the duals of a master
        with two columns per part; then the master's duals within a box around
        the duals of the best bound (the master's duals jump about while it has
        few columns)."""
        if self.first is not None:
            first, self.first = self.first, None
            return first
        if self.centre is None:
            return lp.lam, lp.mu
        inst = self.inst
        scale = inst.place_cost + float(inst.role_cost.min()) / float(inst.ratio.max(initial=1))
        lam0, mu0 = self.centre
        return (
            _clamp(lp.lam, lam0, self.width * max(lam0, scale)),
            _clamp(lp.mu, mu0, self.width * max(mu0, scale)),
        )

    def slack(self, lp_value: float, closing: bool) -> tuple[float, float]:
        """The slack (yuan) the parts of this round share, and the least it may be.

        Early rounds price loosely (the duals are still moving); the slack shrinks
        with the distance between the master LP and the bound, down to a quarter
        of the gap asked for. ``closing``: the master's own duals inside the box,
        or the line search's point: perhaps the last round, so price tightly
        enough for its bound to close the gap (0.4 of it for the parts' slack, the
        rest for the plan's distance and the duals' miss; 0.5 took a second round
        with one age class)."""
        target, best_lb = self.target, self.best_lb
        least = 0.25 * abs(lp_value) * target
        if self.incumbent is not None:
            # the integer master's plan in hand: the gap asked for, less what
            # separates that plan from the master LP, is room for the parts
            least = max(least, 0.5 * (target * self.incumbent - (self.incumbent - lp_value)))
        if self.tighten:
            return least, least
        if not math.isfinite(best_lb):
            return max(least, 0.01 * abs(lp_value)), least
        slack = max(least, 0.25 * (lp_value - best_lb))
        if closing:
            slack = max(least, min(slack, 0.4 * target * abs(lp_value)))
        return slack, least

    def price_round(
        self, lam: float, mu: float, slack: float, pi: np.ndarray | None, searched_last: bool
    ) -> tuple[float, int, bool]:
        """Price the parts at ``(lam, mu)`` sharing ``slack``: the Lagrangian bound,
        the number of new columns (``pi``: the master's convexity duals, when it
        prices at the master's own duals, for the reduced costs) and whether every
        part was priced (a complete bound)."""
        m, took, weight = self.master, self.took, self.weight
        lb = lam * m.need_served + mu * m.need_places
        todo = []
        spent = 0.0
        for k, p in enumerate(self.pricers):
            known, value = p.known(lam, mu)
            if value - known <= slack * float(weight[k]):
                lb += known  # the plans known already are within this part's slack
                spent += value - known
            else:
                todo.append(k)
        # the quick parts first: the slack they do not use goes to the hard ones
        todo.sort(key=lambda k: took[k])
        budget = _Budget(
            slack - spent, float(weight[todo].sum()) if todo else 0.0, self.spec.threads == 1
        )
        slowest = float(took.max())

        def price(k: int) -> Priced:
            if self.out_of_time():
                return None  # this round's bound would miss parts
            claimed = budget.claim(float(weight[k]))
            p = self.pricers[k]
            # a part that was quick in the last full round is asked for a quarter
            # of its claim (it costs it little) and hands the rest on to the slow
            # ones; not right after the line search, whose capped times say
            # little about a tight pricing
            ask = claimed if took[k] >= 0.5 * slowest or searched_last else 0.25 * claimed
            col, bound = p.price(lam, mu, self.part_spec(ask))
            took[k] = p.work
            used = claimed
            if col is not None and math.isfinite(bound):
                best = min(c.cost - lam * c.served - mu * c.places for c in [col, *p.columns])
                used = best - bound
            budget.settle(claimed, used)
            return col, bound

        priced = _each(price, todo, self.spec.threads)
        added = 0
        for k, r in zip(todo, priced, strict=True):
            if r is None:
                continue
            p = self.pricers[k]
            col, bound = r
            lb += bound
            if col is None:
                continue
            if math.isfinite(bound):
                p.bounds[(lam, mu)] = bound
            if pi is not None:
                rc = col.cost - lam * col.served - mu * col.places - pi[k]
                new = rc < -1e-6 * max(1.0, abs(col.cost))
            else:
                new = not any(_same(col, c) for c in p.columns)
            if new:
                p.columns.append(col)
                added += 1
        return lb, added, all(r is not None for r in priced)

    def add_levels(self) -> None:
        """A part the master LP splits between plans gets its cheapest plan at
        exactly that split's served demand and places, so that the integer
        master can match the split."""
        theta = self.master.lp().theta
        at = 0
        split: list[tuple[int, float, float]] = []
        for k, p in enumerate(self.pricers):
            w = theta[at : at + len(p.columns)]
            at += len(p.columns)
            if w.size == 0 or w.max() > 1.0 - 1e-6:
                continue
            served = float(sum(t * c.served for t, c in zip(w, p.columns, strict=True)))
            places = float(sum(t * c.places for t, c in zip(w, p.columns, strict=True)))
            if (k, served, places) not in self.levelled:
                self.levelled.add((k, served, places))
                split.append((k, served, places))

        def level(job: tuple[int, float, float]) -> Column | None:
            k, served, places = job
            if self.out_of_time():
                return None
            # a plan, not a proof: within a tenth of the gap asked for, of this part's cost
            loose = dataclasses.replace(self.part_spec(0.0), gap=self.target / 10)
            return self.pricers[k].at_level(served, places, loose)

        for (k, _s, _x), col in zip(split, _each(level, split, self.spec.threads), strict=True):
            p = self.pricers[k]
            if col is not None and not any(_same(col, c) for c in p.columns):
                p.columns.append(col)

    def plan(self) -> MinCostSolution:
        """The integer master's plan, with the gap to the best bound."""
        self.add_levels()
        ip = self.master.ip(self.time_left())
        if ip is None:
            return self.no_solution("no combination of the parts' plans meets the targets")
        gap = rel_gap(ip.value, self.best_lb) if math.isfinite(self.best_lb) else math.inf
        status: Status = "optimal" if gap <= PROVEN_GAP else "feasible"
        columns = sum(len(p.columns) for p in self.pricers)
        outcome = SolveOutcome(
            status,
            self.spec.name,
            ip.value,
            self.best_lb,
            gap,
            time.perf_counter() - self.t0,
            f"decomposed: {len(self.pricers)} parts, {self.iterations} rounds, {columns} columns",
        )
        sol = MinCostSolution.empty(self.inst, outcome)
        for p, i in zip(self.pricers, ip.chosen, strict=True):
            s = p.columns[i].solution
            sol.opened[p.part.sites] = s.opened
            sol.added_places[p.part.sites] = s.added_places
            sol.walk_in_places[p.part.sites] = s.walk_in_places
            sol.added_staff[p.part.sites] = s.added_staff
            sol.share[p.part.pairs] = s.share
        return sol

    def no_solution(self, why: str) -> MinCostSolution:
        seconds = time.perf_counter() - self.t0
        outcome = SolveOutcome("no_solution", self.spec.name, None, None, None, seconds, why)
        return MinCostSolution.empty(self.inst, outcome)


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
    if not solve_lp(model.prob, SolverSpec(spec.name, time_limit_s=left)):
        return None
    rows = model.prob.constraints
    served, places = (
        max(0.0, float(rows[n].pi or 0.0)) if n in rows else 0.0 for n in ("coverage", "per1000")
    )
    return served, places


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

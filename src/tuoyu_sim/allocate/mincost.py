r"""The capacitated least-cost model (``--objective min-cost``).

Choose candidate sites to open, integer places by age class at open sites and
as expansions of existing facilities, integer caregivers by role, and the share
of each community's demand served at each site within the radius, so that the
targets hold at least cost.

Sets and data
-------------
:math:`I` communities, :math:`J = E \cup C` sites (existing facilities
:math:`E`, candidate sites :math:`C`), :math:`A` age classes,
:math:`R = \{t, n, h\}` roles (teacher, nursery, health);
:math:`P \subseteq I \times J` the pairs within the radius (KD-tree; sparse),
:math:`N(j) = \{i : (i, j) \in P\}`.
:math:`d_{ia}` enrolled demand in places, :math:`w_{ia}` walk-in load in
erlangs, :math:`D_i = \sum_a (d_{ia} + w_{ia})`, :math:`f_{ij} \in [0, 1]`
distance decay (1 without decay). :math:`p^0_{ja}`, :math:`s^0_{jr}` existing
places and staff; :math:`u_j` most places that may be added (``max_places``;
for an existing facility, what its free floor area holds; 0 without an area);
:math:`m_j` free floor area, :math:`\alpha_a` m² per child, :math:`\rho_a`
children per caregiver; :math:`u_{ja} = \min(u_j, \lfloor m_j/\alpha_a \rfloor)`.
:math:`\Lambda_k` the most erlangs :math:`k` walk-in places carry at turn-away
at most :math:`\beta` (Erlang B; :mod:`.walkin`), :math:`K_{ja}` the places the
whole reachable walk-in load needs. :math:`c_j` site cost, :math:`c^p` cost per
place, :math:`c_r` cost of a caregiver over the horizon; :math:`T` places per
1,000, :math:`\Pi` population, :math:`\sigma` coverage share, :math:`\phi`
per-community floor, :math:`H` minimum health staff, :math:`N` children from
which a full-time health worker is needed, :math:`B` budget.

Variables
---------
:math:`o_j \in \{0,1\}` open (:math:`j \in C`; :math:`o_j \equiv 1` on
:math:`E`), :math:`x_{ja} \in \mathbb{Z}_+` added places, :math:`s_{ij} \in
[0, 1]` share served, :math:`\delta_{jak} \in \{0, 1\}` walk-in size
increments, :math:`g_{ja} \in \mathbb{Z}_+` caregivers a class needs,
:math:`y_{jr} \in \mathbb{Z}_+` added caregivers, :math:`b_j \in \{0,1\}`
full-time health worker needed.

Model
-----
.. math::

    \min\ & \sum_{j \in C} c_j o_j + c^p \sum_{j,a} x_{ja}
            + \sum_{j,r} c_r y_{jr} \\
    \text{s.t.}\ & \sum_{j:(i,j)\in P} s_{ij} \le 1
        && \forall i && \text{(assign)} \\
    & \sum_{i \in N(j)} d_{ia} s_{ij} + \sum_k \delta_{jak} \le p^0_{ja} + x_{ja}
        && \forall j, a && \text{(cap)} \\
    & \sum_{i \in N(j)} w_{ia} s_{ij} \le
        \sum_{k=1}^{K_{ja}} (\Lambda_k - \Lambda_{k-1}) \delta_{jak}
        && \forall j, a && \text{(walkin)} \\
    & \delta_{jak} \le \delta_{ja,k-1}, \quad \delta_{ja1} \le o_j
        && && \text{(walkin\_order)} \\
    & \sum_a x_{ja} \le u_j o_j, \quad
      \sum_a \alpha_a x_{ja} \le m_j o_j
        && \forall j && \text{(maxp, area)} \\
    & \rho_a g_{ja} \ge p^0_{ja} + x_{ja}
        && \forall j, a && \text{(ratio\_class)} \\
    & \rho_a g_{ja\sigma} \ge \bar\varphi_{ja\sigma} (p^0_{ja} + x_{ja}
        - \textstyle\sum_k \delta_{jak}) + \varphi_{w\sigma} \sum_k \delta_{jak}
        && \forall j, a, \sigma \notin F && \text{(seg\_class)} \\
    & (1 - q) \sum_{h \in S(\sigma)} n_{jh} \ge \sum_a g_{ja\sigma}
        \ (\sigma \notin F), \quad \ge \sum_a g_{ja}\ (\sigma \in F)
        && \forall j, \sigma && \text{(seg)} \\
    & \sum_h n_{jh} \ge \sum_a g_{ja}, \quad n_{jh} \ge n^0_{jh}
        && \forall j && \text{(ratio)} \\
    & y_{jt} + y_{jn} \ge \sum_h n_{jh} - s^0_{jt} - s^0_{jn}
        && \forall j && \text{(hire\_direct)} \\
    & s^0_{jh} + y_{jh} \ge H o_j, \quad s^0_{jh} + y_{jh} \ge b_j,\quad
      \sum_a (p^0_{ja} + x_{ja}) \le N - 1 + M_j b_j
        && \forall j && \text{(health)} \\
    & \sum_{(i,j) \in P} D_i f_{ij} s_{ij} \ge \sigma \sum_i D_i
        && && \text{(coverage)} \\
    & \sum_j f_{ij} s_{ij} \ge \phi
        && \forall i: D_i > 0 && \text{(floor)} \\
    & \sum_{j,a} x_{ja} \ge T \Pi / 1000 - \sum_{j,a} p^0_{ja}
        && && \text{(per1000)} \\
    & \text{cost} \le B && && \text{(budget)} \\
    & \sum_{j \in N(i) \cap C} o_j \ge 1
        && \forall i \text{ not covered by } E && \text{(cover; optional)}

The caregivers are the staffing rule of :mod:`tuoyu_sim.staffing`, in its
terms: :math:`n_{jh} \in \mathbb{Z}_+` caregivers rostered on shift :math:`h`
(at least the :math:`n^0_{jh}` there now), :math:`S(\sigma)` the shifts on
duty in segment :math:`\sigma` of the day, :math:`g_{ja\sigma} \in
\mathbb{Z}_+` the caregivers class :math:`a` needs then, :math:`e_{ia\sigma}`
the share of the site's enrolled places in use then
(:math:`\bar\varphi_{ja\sigma}`, ``Instance.site_presence``: the staffing rule
staffs places, as the national rule does), :math:`F` the
full segments (every enrolled care type present: the rule on all places),
:math:`\varphi_{w\sigma}` the walk-in presence share and :math:`q` the absence
probability. Every caregiver rostered is paid: the direct hires :math:`y_{jt}
+ y_{jn}` cover the roster beyond the staff there now.

The ceil ratio rule is exact: :math:`g_{ja}` integer with
:math:`\rho_a g_{ja} \ge` places is :math:`\lceil \text{places}/\rho_a \rceil`
at the optimum.

Strengthening (``strengthen=True``, the default; the "plain" model drops it):
:math:`s_{ij} \le o_j` for every pair at a candidate site (strong linking),
:math:`x_{ja} \le u_{ja} o_j` per class, :math:`\delta_{ja1} \le o_j`,
:math:`y_{jr} \le M o_j` and :math:`n_{jh} \le M' o_j` at candidate sites,
and at every site the envelope cuts of :mod:`.envelope`

.. math::

    c_j o_j + c^p \sum_a x_{ja} + \sum_r c_r y_{jr} \ge
        \alpha_{jk} \sum_{i \in N(j)} e_i s_{ij} + \beta_{jk} o_j
        \qquad \forall j, k \qquad \text{(envelope)}

(the facets :math:`(\alpha_{jk}, \beta_{jk})` of the convex hull of the
site's least cost at enrolled load :math:`\sum_i e_i s_{ij}`, which gives the
LP relaxation the steps of the ceil ratio rule across the classes). Every one is
implied by the integer model, so both have the same optimum; the strong form
has a much tighter LP relaxation.

For diagnosis the same model is built with another objective: the most
served demand :math:`\max \sum D_i f_{ij} s_{ij}` (``objective="coverage"``) or
the most places (``objective="places"``), with any target block switched off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pulp

from tuoyu_sim.allocate.envelope import envelope, site_curve
from tuoyu_sim.allocate.instance import Instance, rosters, segment_loads
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverSpec, solve
from tuoyu_sim.allocate.walkin import max_loads, places_for_load

ModelObjective = Literal["cost", "coverage", "places"]

BIGM_SHIFTS = 2
SHARE_CRUMB = 1e-6
"""Shares at or below this are read back as 0."""


@dataclass(frozen=True)
class MinCostOptions:
    """Targets and switches of one min-cost model.

    Parameters
    ----------
    coverage_share
        Share of the district's demand to serve within the radius, in [0, 1].
    min_community_share
        Share of each community's demand to serve, in [0, 1].
    places_per_1000
        District target, places per 1,000 residents (None: no target).
    budget_cny
        Most the plan may cost (None: no budget).
    objective
        ``"cost"`` (minimise), ``"coverage"`` or ``"places"`` (maximise; diagnosis).
    strengthen
        Add the strong linking constraints (see the module docstring).
    fixed_open
        Candidate site index -> forced open (True) or closed (False).
    walk_in
        Size walk-in places by Erlang B (False ignores walk-in load).
    cover_every_community
        Every community must lie within the radius of an open site (the
        ``cover-all`` condition added to the min-cost model).
    decompose
        Let :func:`tuoyu_sim.allocate.decompose.solve_model` solve the model by
        connected components (False: always as one model).
    envelope
        With ``strengthen``, add the envelope cuts (:mod:`.envelope`).
    """

    coverage_share: float = 0.0
    min_community_share: float = 0.0
    places_per_1000: float | None = None
    budget_cny: float | None = None
    objective: ModelObjective = "cost"
    strengthen: bool = True
    fixed_open: Mapping[int, bool] = field(default_factory=dict)
    walk_in: bool = True
    cover_every_community: bool = False
    decompose: bool = True
    envelope: bool = True


@dataclass
class MinCostModel:
    """A built (not yet solved) min-cost model and its variable families."""

    prob: pulp.LpProblem
    inst: Instance
    options: MinCostOptions
    open: dict[int, pulp.LpVariable]
    add: dict[tuple[int, int], pulp.LpVariable]
    share: dict[int, pulp.LpVariable]
    """Pair index (into ``inst.pairs``) -> share variable."""
    walk: dict[tuple[int, int], list[pulp.LpVariable]]
    need: dict[tuple[int, int], pulp.LpVariable]
    hire: dict[tuple[int, int], pulp.LpVariable]
    fulltime: dict[int, pulp.LpVariable]
    cost: pulp.LpAffineExpression
    served: pulp.LpAffineExpression
    roster: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    """(site, shift) -> direct caregivers rostered on that shift."""
    seg_need: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    """(site, class, segment) -> caregivers the class needs in that segment."""


@dataclass(frozen=True)
class MinCostSolution:
    """Integer decisions read back from a solved model (site-indexed arrays)."""

    outcome: SolveOutcome
    opened: np.ndarray
    """Bool (J,): site open after the plan (existing facilities always True)."""
    added_places: np.ndarray
    """Int (J, A)."""
    walk_in_places: np.ndarray
    """Int (J, A): places of the total held for walk-in children."""
    added_staff: np.ndarray
    """Int (J, 3), roles in ``ROLES`` order."""
    share: np.ndarray
    """Float per pair of ``inst.pairs``: share of the community's demand served there."""

    @classmethod
    def empty(cls, inst: Instance, outcome: SolveOutcome) -> MinCostSolution:
        """No plan: existing facilities open, nothing added, nobody served."""
        n_j, n_a = inst.n_sites, len(inst.classes)
        return cls(
            outcome,
            ~inst.is_candidate,
            np.zeros((n_j, n_a), dtype=np.int64),
            np.zeros((n_j, n_a), dtype=np.int64),
            np.zeros((n_j, 3), dtype=np.int64),
            np.zeros(len(inst.pairs)),
        )


def _expr(
    terms: list[tuple[pulp.LpVariable, float]], constant: float = 0.0
) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(terms, constant=constant)


def _add(
    prob: pulp.LpProblem, expr: pulp.LpAffineExpression, sense: int, rhs: float, name: str
) -> None:
    prob.addConstraint(pulp.LpConstraint(expr, sense=sense, rhs=rhs, name=name))


def walk_in_levels(inst: Instance) -> dict[tuple[int, int], np.ndarray]:
    """``Lambda_0..Lambda_K`` for every (site, class) that can receive walk-in load."""
    beta = inst.max_turn_away
    if beta >= 1.0 or not np.any(inst.walk_in > 0):
        return {}
    reach = np.zeros((inst.n_sites, len(inst.classes)))
    np.add.at(reach, inst.pairs.cols, inst.walk_in[inst.pairs.rows])
    shape = inst.walk_in_shape
    top = 0
    sizes: dict[tuple[int, int], int] = {}
    for j, a in zip(*np.nonzero(reach > 1e-12), strict=True):
        cap = int(inst.places0[j, a] + _class_ub(inst, int(j), int(a)))
        k = cap if beta <= 0 else min(places_for_load(float(reach[j, a]), beta, shape), cap)
        if k > 0:
            sizes[(int(j), int(a))] = k
            top = max(top, k)
    # Lambda_0..Lambda_k is a prefix of Lambda_0..Lambda_top
    lam = max_loads(top, beta, shape) if beta > 0 else np.zeros(top + 1)
    return {ja: lam[: k + 1] for ja, k in sizes.items()}


def _safe(lam: np.ndarray) -> np.ndarray:
    """Loads a little below ``Lambda_k``, so that a solver's feasibility tolerance
    (about 1e-7 on a row) can never carry a load past the Erlang-B target."""
    out = np.maximum(0.0, lam * (1.0 - 1e-6) - 1e-6)
    out[0] = 0.0
    return out


def _class_ub(inst: Instance, j: int, a: int) -> int:
    by_area = inst.area_free_m2[j] / inst.area_per_child_m2[a]
    ub = float(inst.add_cap[j])
    if math.isfinite(by_area):
        ub = min(ub, math.floor(by_area + 1e-9))
    return max(0, int(ub))


def _envelope_rows(
    prob: pulp.LpProblem,
    inst: Instance,
    j: int,
    ps: list[int],
    share: dict[int, pulp.LpVariable],
    add: dict[tuple[int, int], pulp.LpVariable],
    hire: dict[tuple[int, int], pulp.LpVariable],
    open_: dict[int, pulp.LpVariable],
) -> None:
    """The site's cost at least the convex envelope of its least cost at its
    enrolled load (:mod:`.envelope`)."""
    enrolled = inst.enrolled[inst.pairs.rows[ps]]
    load = enrolled.sum(axis=1)
    mine = load > 0
    if not np.any(mine):
        return
    n_a = len(inst.classes)
    ub = np.array([_class_ub(inst, j, a) for a in range(n_a)], dtype=float)
    # every class load is at least the smallest share of it among the communities
    mix = (enrolled[mine] / load[mine, None]).min(axis=0)
    # the load in a partial segment is at least the smaller presence share times places
    seg_mix = np.minimum(inst.site_presence[j], inst.rule.walk[None, :])
    lines = envelope(site_curve(inst, j, mix, ub, seg_mix))
    site: list[tuple[pulp.LpVariable, float]] = [
        (add[(j, a)], inst.place_cost) for a in range(n_a) if (j, a) in add
    ]
    site += [(hire[(j, r)], float(inst.role_cost[r])) for r in range(3)]
    cand = j in open_
    for k, (slope, icpt) in enumerate(lines):
        if slope <= 0 and icpt <= 0:
            continue  # says only that the cost is not negative (costs off, say)
        terms = site + [
            (share[p], -slope * float(e)) for p, e in zip(ps, load, strict=True) if slope * e != 0.0
        ]
        if cand:
            terms.append((open_[j], float(inst.site_cost[j]) - icpt))
        # in units of the largest coefficient: rows in yuan would be 1e6 times the others
        unit = max(abs(c) for _v, c in terms)
        _add(
            prob,
            _expr([(v, c / unit) for v, c in terms]),
            pulp.LpConstraintGE,
            0.0 if cand else icpt / unit,
            f"envelope_{j}_{k}",
        )


def _staff_rows(
    prob: pulp.LpProblem,
    inst: Instance,
    j: int,
    add: dict[tuple[int, int], pulp.LpVariable],
    walk: dict[tuple[int, int], list[pulp.LpVariable]],
    need: dict[tuple[int, int], pulp.LpVariable],
    roster: dict[tuple[int, int], pulp.LpVariable],
    seg_need: dict[tuple[int, int, int], pulp.LpVariable],
    hire: dict[tuple[int, int], pulp.LpVariable],
) -> None:
    """Rows of the staffing rule at site ``j`` (``ratio_class``, ``seg_class``,
    ``seg``, ``ratio``, ``hire_direct``; :mod:`tuoyu_sim.staffing`)."""
    rule = inst.rule
    n_a = len(inst.classes)
    shifts = [roster[(j, s)] for s in range(len(rule.shift_names)) if (j, s) in roster]
    if not shifts:
        return
    gs = []
    for a in range(n_a):
        if (j, a) not in need:
            continue
        terms = [(need[(j, a)], float(inst.ratio[a]))]
        if (j, a) in add:
            terms.append((add[(j, a)], -1.0))
        _add(
            prob,
            _expr(terms),
            pulp.LpConstraintGE,
            float(inst.places0[j, a]),
            f"ratio_class_{j}_{a}",
        )
        gs.append((need[(j, a)], -1.0))
    walk_phi = rule.walk
    cover = rule.cover
    full = rule.full
    q = rule.availability
    for g in range(len(rule.segments)):
        seg_terms: list[tuple[pulp.LpVariable, float]] = []
        if full[g]:
            seg_terms = gs  # the national rule on all places
        for a in range(n_a if not full[g] else 0):
            v = seg_need.get((j, a, g))
            if v is None:
                continue
            # the places not held for walk-ins by the site's presence mix, the walk-in
            # places by the walk-in presence share
            mix = float(inst.site_presence[j, a, g])
            load: list[tuple[pulp.LpVariable, float]] = []
            if (j, a) in add and mix > 0:
                load.append((add[(j, a)], -mix))
            if walk_phi[g] != mix:
                load += [(d, -(float(walk_phi[g]) - mix)) for d in walk.get((j, a), [])]
            rhs = mix * float(inst.places0[j, a])
            if not load and rhs <= 0:
                continue
            _add(
                prob,
                _expr([(v, float(inst.ratio[a])), *load]),
                pulp.LpConstraintGE,
                rhs,
                f"seg_class_{j}_{a}_{g}",
            )
            seg_terms.append((v, -1.0))
        on = [roster[(j, s)] for s in np.flatnonzero(cover[g]).tolist() if (j, s) in roster]
        if seg_terms and on:
            _add(
                prob,
                _expr([(v, q) for v in on] + seg_terms),
                pulp.LpConstraintGE,
                0.0,
                f"seg_{j}_{g}",
            )
    if gs:
        _add(prob, _expr([(v, 1.0) for v in shifts] + gs), pulp.LpConstraintGE, 0.0, f"ratio_{j}")
    _add(
        prob,
        _expr([(hire[(j, 0)], 1.0), (hire[(j, 1)], 1.0)] + [(v, -1.0) for v in shifts]),
        pulp.LpConstraintGE,
        -float(inst.staff0[j, 0] + inst.staff0[j, 1]),
        f"hire_direct_{j}",
    )


def build_min_cost(inst: Instance, options: MinCostOptions) -> MinCostModel:
    """Build the min-cost MILP (see the module docstring); nothing is solved here."""
    opts = options
    sense = pulp.LpMinimize if opts.objective == "cost" else pulp.LpMaximize
    prob = pulp.LpProblem(f"tuoyu_{opts.objective}", sense)
    n_j, n_a = inst.n_sites, len(inst.classes)
    cand = inst.is_candidate
    pairs = inst.pairs
    demand = inst.demand

    # -- variables ------------------------------------------------------------
    open_: dict[int, pulp.LpVariable] = {}
    for j in range(inst.n_existing, n_j):
        forced = opts.fixed_open.get(j)
        lo, hi = (1, 1) if forced is True else (0, 0) if forced is False else (0, 1)
        open_[j] = pulp.LpVariable(f"open_{j}", lo, hi, cat=pulp.LpBinary)

    def o_terms(j: int, coef: float) -> list[tuple[pulp.LpVariable, float]]:
        return [(open_[j], coef)] if cand[j] else []

    def o_const(j: int, coef: float) -> float:
        return 0.0 if cand[j] else coef

    add: dict[tuple[int, int], pulp.LpVariable] = {}
    for j in range(n_j):
        for a in range(n_a):
            ub = _class_ub(inst, j, a)
            if ub > 0:
                add[(j, a)] = pulp.LpVariable(f"add_{j}_{a}", 0, ub, cat=pulp.LpInteger)

    share: dict[int, pulp.LpVariable] = {}
    for p in range(len(pairs)):
        if demand[pairs.rows[p]] > 0:
            share[p] = pulp.LpVariable(f"share_{pairs.rows[p]}_{pairs.cols[p]}", 0, 1)

    levels = walk_in_levels(inst) if opts.walk_in else {}
    walk: dict[tuple[int, int], list[pulp.LpVariable]] = {}
    for (j, a), lam in levels.items():
        walk[(j, a)] = [
            pulp.LpVariable(f"walk_{j}_{a}_{k}", 0, 1, cat=pulp.LpBinary)
            for k in range(1, lam.size)
        ]

    need: dict[tuple[int, int], pulp.LpVariable] = {}
    hire: dict[tuple[int, int], pulp.LpVariable] = {}
    roster: dict[tuple[int, int], pulp.LpVariable] = {}
    seg_need: dict[tuple[int, int, int], pulp.LpVariable] = {}
    rule = inst.rule
    fulltime: dict[int, pulp.LpVariable] = {}
    max_direct = np.zeros(n_j)
    for j in range(n_j):
        for a in range(n_a):
            top = int(inst.places0[j, a]) + _class_ub(inst, j, a)
            if top > 0:
                need[(j, a)] = pulp.LpVariable(
                    f"need_{j}_{a}", 0, math.ceil(top / inst.ratio[a]), cat=pulp.LpInteger
                )
                max_direct[j] += math.ceil(top / inst.ratio[a])
        for r in range(3):
            hire[(j, r)] = pulp.LpVariable(f"hire_{j}_{r}", 0, None, cat=pulp.LpInteger)
        if max_direct[j] > 0 or inst.shifts0[j].sum() > 0:
            for s_, name in enumerate(rule.shift_names):
                roster[(j, s_)] = pulp.LpVariable(
                    f"roster_{j}_{name}", int(inst.shifts0[j, s_]), None, cat=pulp.LpInteger
                )
            for a in range(n_a):
                top = int(inst.places0[j, a]) + _class_ub(inst, j, a)
                if top <= 0:
                    continue
                for g in np.flatnonzero(~rule.full).tolist():
                    seg_need[(j, a, g)] = pulp.LpVariable(
                        f"seg_need_{j}_{a}_{g}",
                        0,
                        math.ceil(top / inst.ratio[a]),
                        cat=pulp.LpInteger,
                    )
        top_total = int(inst.places0[j].sum()) + int(inst.add_cap[j])
        if top_total >= inst.full_time_health_from:
            fulltime[j] = pulp.LpVariable(f"fulltime_{j}", 0, 1, cat=pulp.LpBinary)

    # -- objective --------------------------------------------------------------
    cost_terms: list[tuple[pulp.LpVariable, float]] = []
    for j, v in open_.items():
        cost_terms.append((v, float(inst.site_cost[j])))
    for v in add.values():
        cost_terms.append((v, inst.place_cost))
    for (_j, r), v in hire.items():
        cost_terms.append((v, float(inst.role_cost[r])))
    cost = _expr(cost_terms)
    served = _expr([(v, float(demand[pairs.rows[p]] * inst.decay[p])) for p, v in share.items()])
    if opts.objective == "cost":
        prob.setObjective(cost)
    elif opts.objective == "coverage":
        prob.setObjective(served)
    else:
        prob.setObjective(_expr([(v, 1.0) for v in add.values()]))

    # -- assignment -------------------------------------------------------------
    by_comm: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    for p in share:
        by_comm.setdefault(int(pairs.rows[p]), []).append(p)
        by_site.setdefault(int(pairs.cols[p]), []).append(p)
    for i, ps in by_comm.items():
        _add(prob, _expr([(share[p], 1.0) for p in ps]), pulp.LpConstraintLE, 1.0, f"assign_{i}")
        if opts.min_community_share > 0:
            _add(
                prob,
                _expr([(share[p], float(inst.decay[p])) for p in ps]),
                pulp.LpConstraintGE,
                opts.min_community_share,
                f"floor_{i}",
            )

    # -- capacity and walk-in sizing ---------------------------------------------
    for j in range(n_j):
        ps = by_site.get(j, [])
        for a in range(n_a):
            terms = [
                (share[p], float(inst.enrolled[pairs.rows[p], a]))
                for p in ps
                if inst.enrolled[pairs.rows[p], a] > 0
            ]
            wv = walk.get((j, a), [])
            terms += [(v, 1.0) for v in wv]
            if (j, a) in add:
                terms.append((add[(j, a)], -1.0))
            if terms:
                _add(
                    prob,
                    _expr(terms),
                    pulp.LpConstraintLE,
                    float(inst.places0[j, a]),
                    f"cap_{j}_{a}",
                )
            load_terms = [
                (share[p], float(inst.walk_in[pairs.rows[p], a]))
                for p in ps
                if inst.walk_in[pairs.rows[p], a] > 0
            ]
            if load_terms and opts.walk_in and inst.max_turn_away < 1.0:
                lam_ja = levels.get((j, a))
                if lam_ja is not None:
                    inc = np.diff(_safe(lam_ja))
                    load_terms += [(v, -float(inc[k])) for k, v in enumerate(wv)]
                _add(prob, _expr(load_terms), pulp.LpConstraintLE, 0.0, f"walkin_{j}_{a}")
            for k in range(1, len(wv)):
                _add(
                    prob,
                    _expr([(wv[k], 1.0), (wv[k - 1], -1.0)]),
                    pulp.LpConstraintLE,
                    0.0,
                    f"walkin_order_{j}_{a}_{k}",
                )
            if wv and opts.strengthen:
                lam = _safe(levels[(j, a)])
                for p in ps:
                    w = float(inst.walk_in[pairs.rows[p], a])
                    for k in range(1, len(wv) + 1):
                        if lam[k - 1] >= w:
                            break
                        # one community's load alone above Lambda_{k-1} needs a k-th place
                        _add(
                            prob,
                            _expr([(share[p], w), (wv[k - 1], -(w - float(lam[k - 1])))]),
                            pulp.LpConstraintLE,
                            float(lam[k - 1]),
                            f"walkin_pair_{pairs.rows[p]}_{j}_{a}_{k}",
                        )
            if wv and cand[j] and opts.strengthen:
                _add(
                    prob,
                    _expr([(wv[0], 1.0), (open_[j], -1.0)]),
                    pulp.LpConstraintLE,
                    0.0,
                    f"walkin_open_{j}_{a}",
                )
        # most places and floor area
        xs = [(add[(j, a)], 1.0) for a in range(n_a) if (j, a) in add]
        if xs:
            if cand[j]:
                _add(
                    prob,
                    _expr([*xs, (open_[j], -float(inst.add_cap[j]))]),
                    pulp.LpConstraintLE,
                    0.0,
                    f"maxp_{j}",
                )
                if math.isfinite(inst.area_free_m2[j]):
                    _add(
                        prob,
                        _expr(
                            [
                                (add[(j, a)], float(inst.area_per_child_m2[a]))
                                for a in range(n_a)
                                if (j, a) in add
                            ]
                            + [(open_[j], -float(inst.area_free_m2[j]))]
                        ),
                        pulp.LpConstraintLE,
                        0.0,
                        f"area_{j}",
                    )
                if opts.strengthen:
                    for a in range(n_a):
                        if (j, a) in add:
                            _add(
                                prob,
                                _expr(
                                    [(add[(j, a)], 1.0), (open_[j], -float(_class_ub(inst, j, a)))]
                                ),
                                pulp.LpConstraintLE,
                                0.0,
                                f"maxp_class_{j}_{a}",
                            )
            else:
                _add(prob, _expr(xs), pulp.LpConstraintLE, float(inst.add_cap[j]), f"maxp_{j}")
                if math.isfinite(inst.area_free_m2[j]):
                    _add(
                        prob,
                        _expr(
                            [
                                (add[(j, a)], float(inst.area_per_child_m2[a]))
                                for a in range(n_a)
                                if (j, a) in add
                            ]
                        ),
                        pulp.LpConstraintLE,
                        float(inst.area_free_m2[j]),
                        f"area_{j}",
                    )
        # strong linking of shares to opening
        if cand[j] and opts.strengthen:
            for p in ps:
                _add(
                    prob,
                    _expr([(share[p], 1.0), (open_[j], -1.0)]),
                    pulp.LpConstraintLE,
                    0.0,
                    f"link_{pairs.rows[p]}_{j}",
                )

        # -- caregivers (the staffing rule, tuoyu_sim.staffing) ----------------------
        _staff_rows(prob, inst, j, add, walk, need, roster, seg_need, hire)
        if inst.min_health > 0:
            _add(
                prob,
                _expr([(hire[(j, 2)], 1.0), *o_terms(j, -float(inst.min_health))]),
                pulp.LpConstraintGE,
                o_const(j, float(inst.min_health)) - float(inst.staff0[j, 2]),
                f"health_min_{j}",
            )
        if j in fulltime:
            big = float(inst.places0[j].sum() + inst.add_cap[j] - (inst.full_time_health_from - 1))
            _add(
                prob,
                _expr(
                    [
                        *((add[(j, a)], 1.0) for a in range(n_a) if (j, a) in add),
                        (fulltime[j], -big),
                    ]
                ),
                pulp.LpConstraintLE,
                float(inst.full_time_health_from - 1 - inst.places0[j].sum()),
                f"health_ft_{j}",
            )
            _add(
                prob,
                _expr([(hire[(j, 2)], 1.0), (fulltime[j], -1.0)]),
                pulp.LpConstraintGE,
                -float(inst.staff0[j, 2]),
                f"health_ft_staff_{j}",
            )
        if cand[j] and opts.strengthen:
            per_shift = math.ceil(max_direct[j] / inst.rule.availability)
            big_staff = float(BIGM_SHIFTS * per_shift + max(inst.min_health, 1))
            for r in range(3):
                _add(
                    prob,
                    _expr([(hire[(j, r)], 1.0), (open_[j], -big_staff)]),
                    pulp.LpConstraintLE,
                    0.0,
                    f"hire_open_{j}_{r}",
                )
            for h in range(len(inst.rule.shift_names)):
                if (j, h) in roster:
                    _add(
                        prob,
                        _expr([(roster[(j, h)], 1.0), (open_[j], -float(per_shift))]),
                        pulp.LpConstraintLE,
                        0.0,
                        f"roster_open_{j}_{h}",
                    )
        if opts.strengthen and opts.envelope:
            _envelope_rows(prob, inst, j, ps, share, add, hire, open_)

    # -- district targets -------------------------------------------------------------
    total_demand = float(demand.sum())
    if opts.coverage_share > 0 and total_demand > 0:
        _add(prob, served, pulp.LpConstraintGE, opts.coverage_share * total_demand, "coverage")
    need_places = inst.places_needed_per_1000(opts.places_per_1000)
    if need_places > 0:
        _add(
            prob,
            _expr([(v, 1.0) for v in add.values()]),
            pulp.LpConstraintGE,
            need_places - 1e-9,
            "per1000",
        )
    if opts.budget_cny is not None:
        _add(prob, cost, pulp.LpConstraintLE, float(opts.budget_cny), "budget")
    if opts.cover_every_community:
        covered = np.zeros(inst.n_communities, dtype=bool)
        covered[pairs.rows[~cand[pairs.cols]]] = True
        reach: dict[int, list[int]] = {}
        for pc in np.flatnonzero(cand[pairs.cols]):
            reach.setdefault(int(pairs.rows[pc]), []).append(int(pairs.cols[pc]))
        for ci in range(inst.n_communities):
            if not covered[ci]:
                _add(
                    prob,
                    _expr([(open_[j], 1.0) for j in reach.get(ci, [])]),
                    pulp.LpConstraintGE,
                    1.0,
                    f"cover_{ci}",
                )
    return MinCostModel(
        prob,
        inst,
        opts,
        open_,
        add,
        share,
        walk,
        need,
        hire,
        fulltime,
        cost,
        served,
        roster,
        seg_need,
    )


def _int(v: pulp.LpVariable) -> int:
    x = v.value()
    return 0 if x is None else round(float(x))


def solve_min_cost(
    model: MinCostModel, spec: SolverSpec, *, warm_start: bool = True, started: bool = False
) -> MinCostSolution:
    """Solve a built model and read back its integer decisions.

    With ``warm_start`` (the default, cost objective only) a greedy plan
    (:mod:`.greedy`) is handed to the solver as its first incumbent when it
    satisfies every constraint of the model. ``started``: the variables already
    hold a valid start (:func:`set_warm_start`).
    """
    if warm_start and model.options.objective == "cost":
        from tuoyu_sim.allocate.greedy import greedy_start

        o = model.options
        start = greedy_start(model.inst, o.coverage_share, o.min_community_share, o.places_per_1000)
        if start is not None and not o.fixed_open and not o.cover_every_community:
            started = set_warm_start(model, start)
    outcome = solve(model.prob, spec, warm_start=started)
    sol = MinCostSolution.empty(model.inst, outcome)
    if outcome.has_solution:
        for j, v in model.open.items():
            sol.opened[j] = _int(v) == 1
        for (j, a), v in model.add.items():
            sol.added_places[j, a] = _int(v)
        for (j, a), vs in model.walk.items():
            sol.walk_in_places[j, a] = sum(_int(v) for v in vs)
        for (j, r), v in model.hire.items():
            sol.added_staff[j, r] = _int(v)
        for p, v in model.share.items():
            x = v.value()
            # a solver leaves shares of 1e-7 where it means none; such a crumb at
            # a site without room would break its capacity row in the plan
            sol.share[p] = min(1.0, float(x)) if x is not None and x > SHARE_CRUMB else 0.0
    return sol


def set_warm_start(model: MinCostModel, start: dict[str, np.ndarray], *, eps: float = 1e-7) -> bool:
    """Give every variable its value in ``start`` (from :mod:`.greedy`); True if the
    start satisfies every constraint of the model (otherwise values are cleared).

    A variable may leave its bounds by ``eps``, a row by ``eps`` times its scale
    (the largest of 1, its right-hand side and its terms at the start): a solver's
    shares are exact only to its tolerance, and rows in yuan are large."""
    inst = model.inst
    opened, added, walk = start["opened"], start["added"], start["walk"]
    staff, share = start["staff"], start["share"]
    values: list[tuple[pulp.LpVariable, float]] = []
    values += [(v, float(opened[j])) for j, v in model.open.items()]
    values += [(v, float(added[j, a])) for (j, a), v in model.add.items()]
    values += [(v, float(share[p])) for p, v in model.share.items()]
    for (j, a), vs in model.walk.items():
        if walk[j, a] > len(vs):
            return False
        values += [(v, 1.0 if k < walk[j, a] else 0.0) for k, v in enumerate(vs)]
    for (j, a), v in model.need.items():
        values.append((v, float(math.ceil((inst.places0[j, a] + added[j, a]) / inst.ratio[a]))))
    values += [(v, float(staff[j, r])) for (j, r), v in model.hire.items()]
    if model.roster:
        roster = rosters(inst, opened.astype(bool), added, walk)
        values += [(v, float(roster[j, h])) for (j, h), v in model.roster.items()]
        loads = segment_loads(inst, added, walk)
        values += [
            (v, float(math.ceil(loads[j, a, g] / inst.ratio[a] - 1e-6)))
            for (j, a, g), v in model.seg_need.items()
        ]
    for j, v in model.fulltime.items():
        total = float(inst.places0[j].sum() + added[j].sum())
        values.append((v, 1.0 if total >= inst.full_time_health_from else 0.0))
    for v, x in values:
        v.varValue = None
        v.setInitialValue(x, check=False)  # out of bounds: left unset, so not valid
    if _valid(model.prob, eps):
        return True
    for v, _x in values:
        v.varValue = None
    return False


def _valid(prob: pulp.LpProblem, eps: float) -> bool:
    if not all(v.valid(eps) for v in prob.variables()):
        return False
    for c in prob.constraints.values():
        scale = max([1.0, abs(c.constant)] + [abs(a * (x.varValue or 0.0)) for x, a in c.items()])
        if not c.valid(eps * scale):
            return False
    return True

r"""The min-cost model: the capacitated least-cost plan as one integer program.

Choose candidate sites to open, integer places by age class at open sites and
as expansions of existing facilities, integer caregivers by role and shift, and
the share of each community's demand served at each site within the radius, so
that the targets hold at least cost. :func:`build_min_cost` builds the model,
one builder per family of rows (named below); :func:`solve_min_cost` solves
it; :mod:`.strategy` decides whether it is solved whole or by parts.

Sets and data
-------------
:math:`I` communities, :math:`J = E \cup C` sites (existing facilities
:math:`E`, candidate sites :math:`C`), :math:`A` age classes,
:math:`R = \{t, n, e\}` roles (teacher, nursery, health), :math:`H` shifts,
:math:`\Sigma` segments of the day (cut at every shift change; :math:`F
\subseteq \Sigma` the full ones, where every enrolled care type is present),
:math:`S(\sigma)` the shifts on duty in segment :math:`\sigma`;
:math:`P \subseteq I \times J` the pairs within the radius (KD-tree; sparse),
:math:`N(j) = \{i : (i, j) \in P\}`.
:math:`d_{ia}` enrolled demand in places, :math:`w_{ia}` walk-in load in
erlangs, :math:`D_i = \sum_a (d_{ia} + w_{ia})`, :math:`e_i = \sum_a d_{ia}`,
:math:`f_{ij} \in [0, 1]` distance decay (1 without decay). :math:`p^0_{ja}`,
:math:`s^0_{jr}`, :math:`n^0_{jh}` existing places, staff and direct caregivers
by shift; :math:`u_j` most places that may be added (``max_places``; for an
existing facility, what its free floor area holds; 0 without an area);
:math:`m_j` free floor area, :math:`\alpha_a` m² per child, :math:`\rho_a`
children per caregiver; :math:`u_{ja} = \min(u_j, \lfloor m_j/\alpha_a
\rfloor)` (``Instance.class_add_cap``).
:math:`\Lambda_k` the most erlangs :math:`k` walk-in places carry at turn-away
at most the target (Erlang B; :mod:`.walkin`), :math:`\tilde\Lambda_k =
\max(0, \Lambda_k (1 - 10^{-6}) - 10^{-6})` (so that a solver's feasibility
tolerance never carries a load past the target), :math:`K_{ja}` the places
the whole reachable walk-in load needs. :math:`\bar\varphi_{ja\sigma}` the
share of the site's enrolled places in use in segment :math:`\sigma`
(``Instance.site_presence``: the staffing rule staffs places, as the national
rule does), :math:`\varphi_{w\sigma}` the walk-in presence share, :math:`q` the
absence probability. :math:`c_j` site cost, :math:`c^p` cost per place,
:math:`c_r` cost of a caregiver over the horizon; :math:`T` places per 1,000,
:math:`\Pi` population, :math:`\gamma` coverage share, :math:`\phi`
per-community floor, :math:`H_0` minimum health staff, :math:`N_0` children from
which a full-time health worker is needed, :math:`B` budget.

Variables
---------
:math:`o_j \in \{0,1\}` open (:math:`j \in C`; :math:`o_j \equiv 1` on
:math:`E`), :math:`x_{ja} \in \{0, \dots, u_{ja}\}` added places,
:math:`s_{ij} \in [0, 1]` share served, :math:`\delta_{jak} \in \{0, 1\}`
walk-in size increments, :math:`g_{ja} \in \mathbb{Z}_+` caregivers class
:math:`a` needs by the national ratio, :math:`g_{ja\sigma} \in \mathbb{Z}_+`
those it needs in a segment :math:`\sigma \notin F`, :math:`n_{jh} \ge
n^0_{jh}` integer direct caregivers rostered on shift :math:`h`, :math:`y_{jr}
\in \mathbb{Z}_+` added caregivers, :math:`b_j \in \{0,1\}` full-time health
worker needed (only where :math:`\sum_a p^0_{ja} + u_j \ge N_0`).

Model
-----
Each row is labelled with the prefix of its name in the model (``cap_3_1`` is
a row of (cap)); ``tests/test_contract_formulation.py`` checks that every row
the code adds is named here. :math:`\star` marks the strengthening rows
(``strengthen=True``, the default; the "plain" model drops them): each is
implied by the integer model, so both have the same optimum, and the strong
form has a much tighter LP relaxation.

.. math::

    \min\ & \sum_{j \in C} c_j o_j + c^p \sum_{j,a} x_{ja}
            + \sum_{j,r} c_r y_{jr}
        && && \text{assignment } (\texttt{\_assignment\_rows}) \\
    \text{s.t.}\ & \sum_{j \in J:(i,j)\in P} s_{ij} \le 1
        && \forall i: D_i > 0 && \text{(assign)} \\
    & \sum_{j:(i,j) \in P} f_{ij} s_{ij} \ge \phi
        && \forall i: D_i > 0 && \text{(floor)} \\
    & && && \text{capacity } (\texttt{\_capacity\_row}) \\
    & \sum_{i \in N(j)} d_{ia} s_{ij} + \sum_k \delta_{jak} \le p^0_{ja} + x_{ja}
        && \forall j, a && \text{(cap)} \\
    & && && \text{walk-in places } (\texttt{\_walk\_in\_rows}) \\
    & \sum_{i \in N(j)} w_{ia} s_{ij} \le
        \sum_{k=1}^{K_{ja}} (\tilde\Lambda_k - \tilde\Lambda_{k-1}) \delta_{jak}
        && \forall j, a && \text{(walkin)} \\
    & \delta_{jak} \le \delta_{ja,k-1}
        && \forall j, a, k \ge 2 && \text{(walkin\_order)} \\
    & \star\ w_{ia} s_{ij} \le \tilde\Lambda_{k-1}
        + (w_{ia} - \tilde\Lambda_{k-1}) \delta_{jak}
        && \forall (i, j) \in P, a, k: \tilde\Lambda_{k-1} < w_{ia}
        && \text{(walkin\_pair)} \\
    & \star\ \delta_{ja1} \le o_j && \forall j \in C, a && \text{(walkin\_open)} \\
    & && && \text{size of a site } (\texttt{\_size\_rows}, \texttt{\_link\_rows}) \\
    & \sum_a x_{ja} \le u_j o_j && \forall j && \text{(maxp)} \\
    & \sum_a \alpha_a x_{ja} \le m_j o_j && \forall j: m_j < \infty && \text{(area)} \\
    & \star\ x_{ja} \le u_{ja} o_j && \forall j \in C, a && \text{(maxp\_class)} \\
    & \star\ s_{ij} \le o_j && \forall (i, j) \in P, j \in C && \text{(link)} \\
    & && && \text{staffing rule } (\texttt{\_staff\_rows}) \\
    & \rho_a g_{ja} \ge p^0_{ja} + x_{ja}
        && \forall j, a && \text{(ratio\_class)} \\
    & \rho_a g_{ja\sigma} \ge \bar\varphi_{ja\sigma} (p^0_{ja} + x_{ja}
        - \textstyle\sum_k \delta_{jak}) + \varphi_{w\sigma} \sum_k \delta_{jak}
        && \forall j, a, \sigma \notin F && \text{(seg\_class)} \\
    & (1 - q) \sum_{h \in S(\sigma)} n_{jh} \ge \sum_a g_{ja\sigma}
        \ (\sigma \notin F), \quad \ge \sum_a g_{ja}\ (\sigma \in F)
        && \forall j, \sigma && \text{(seg)} \\
    & \sum_h n_{jh} \ge \sum_a g_{ja} && \forall j && \text{(ratio)} \\
    & y_{jt} + y_{jn} \ge \sum_h n_{jh} - s^0_{jt} - s^0_{jn}
        && \forall j && \text{(hire\_direct)} \\
    & \star\ y_{jr} \le (2 M_j + \max(H_0, 1))\, o_j
        && \forall j \in C, r && \text{(hire\_open)} \\
    & \star\ n_{jh} \le M_j o_j && \forall j \in C, h && \text{(roster\_open)} \\
    & && && \text{health staff } (\texttt{\_health\_rows}) \\
    & s^0_{je} + y_{je} \ge H_0 o_j && \forall j && \text{(health\_min)} \\
    & \sum_a (p^0_{ja} + x_{ja}) \le N_0 - 1 + M^h_j b_j
        && \forall j && \text{(health\_ft)} \\
    & s^0_{je} + y_{je} \ge b_j && \forall j && \text{(health\_ft\_staff)} \\
    & && && \text{envelope } (\texttt{\_envelope\_rows}) \\
    & \star\ c_j o_j + c^p \sum_a x_{ja} + \sum_r c_r y_{jr} \ge
        \alpha_{jk} \sum_{i \in N(j)} e_i s_{ij} + \beta_{jk} o_j
        && \forall j, k && \text{(envelope)} \\
    & && && \text{district } (\texttt{\_district\_rows}, \texttt{\_cover\_rows}) \\
    & \sum_{(i,j) \in P} D_i f_{ij} s_{ij} \ge \gamma \sum_i D_i
        && && \text{(coverage)} \\
    & \sum_{j,a} x_{ja} \ge T \Pi / 1000 - \sum_{j,a} p^0_{ja}
        && && \text{(per1000)} \\
    & \sum_{j \in C} c_j o_j + c^p \sum_{j,a} x_{ja} + \sum_{j,r} c_r y_{jr} \le B
        && && \text{(budget)} \\
    & \sum_{j \in N(i) \cap C} o_j \ge 1
        && \forall i \text{ beyond every } E \text{ circle} && \text{(cover)}

A row is left out where it says nothing (no pair, no variable, a target
switched off: :math:`\phi`, :math:`\gamma`, :math:`T`, :math:`H_0` zero,
:math:`B` none, (cover) only with ``cover_every_community``).
:math:`M_j = \lceil \sum_a \lceil (p^0_{ja} + u_{ja}) / \rho_a \rceil / (1 - q)
\rceil` is the most a shift can need and :math:`M^h_j = \sum_a p^0_{ja} + u_j -
(N_0 - 1)`. The ceil ratio rule is exact: :math:`g_{ja}` integer with
:math:`\rho_a g_{ja} \ge` places is :math:`\lceil \text{places}/\rho_a \rceil`
at the optimum. Every caregiver rostered is paid: the direct hires
:math:`y_{jt} + y_{jn}` cover the roster beyond the staff there now. The
staffing rows are the rule of :mod:`tuoyu_sim.staffing` in its own terms.

(walkin_pair): one community's load alone above :math:`\tilde\Lambda_{k-1}`
needs a :math:`k`-th place. (envelope): :math:`(\alpha_{jk}, \beta_{jk})` are
the facets of the convex hull of the site's least cost at enrolled load
:math:`\sum_i e_i s_{ij}` (:mod:`.envelope`), which give the LP relaxation the
steps of the ceil ratio rule across the classes; added with ``envelope=True``
(the default), which the whole model leaves out (:mod:`.strategy`).

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
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverSpec, Terms, add_row, solve
from tuoyu_sim.allocate.walkin import max_loads, places_for_load

ModelObjective = Literal["cost", "coverage", "places"]

BIGM_SHIFTS = 2
"""(hire_open): a role never needs more than this many full shifts' worth."""
SHARE_CRUMB = 1e-6
"""Shares at or below this are read back as 0."""
LE, GE = pulp.LpConstraintLE, pulp.LpConstraintGE


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
        Add the strengthening rows (marked in the module docstring).
    fixed_open
        Candidate site index -> forced open (True) or closed (False).
    walk_in
        Size walk-in places by Erlang B (False ignores walk-in load).
    cover_every_community
        Every community must lie within the radius of an open site (the
        ``cover-all`` condition added to the min-cost model).
    decompose
        Let :func:`tuoyu_sim.allocate.strategy.solve_model` solve the model by
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
    """Candidate site -> :math:`o_j`."""
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
    levels: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    """(site, class) -> :math:`\\Lambda_0 .. \\Lambda_{K_{ja}}` of its walk-in places."""

    def row(
        self, terms: Terms | pulp.LpAffineExpression, sense: int, rhs: float, name: str
    ) -> None:
        """Add the named row ``terms <sense> rhs``."""
        add_row(self.prob, terms, sense, rhs, name)


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

    def as_start(self) -> dict[str, np.ndarray]:
        """The decisions in the form :func:`set_warm_start` takes."""
        return {
            "opened": self.opened,
            "added": self.added_places,
            "walk": self.walk_in_places,
            "staff": self.added_staff,
            "share": self.share,
        }


def build_min_cost(inst: Instance, options: MinCostOptions) -> MinCostModel:
    """Build the min-cost MILP (see the module docstring); nothing is solved here.

    The rows go in site by site, each site's families in the order below: the
    order of the rows is part of what a solver's path depends on, so it is kept
    as it was when one function built them all (the same plans)."""
    m = model_variables(inst, options)
    _objective(m)
    add_rows(m)
    return m


def add_rows(m: MinCostModel) -> None:
    """Every row of the model on ``m``'s variables, in :func:`build_min_cost`'s
    order (:mod:`.phased` builds each year's rows with it on its own variables)."""
    inst = m.inst
    by_comm: dict[int, list[int]] = {}
    by_site: dict[int, list[int]] = {}
    for p in m.share:
        by_comm.setdefault(int(inst.pairs.rows[p]), []).append(p)
        by_site.setdefault(int(inst.pairs.cols[p]), []).append(p)
    for i, ps in by_comm.items():
        _assignment_rows(m, i, ps)
    for j in range(inst.n_sites):
        ps = by_site.get(j, [])
        for a in range(len(inst.classes)):
            _capacity_row(m, j, a, ps)
            _walk_in_rows(m, j, a, ps)
        _size_rows(m, j)
        _link_rows(m, j, ps)
        _staff_rows(m, j)
        _health_rows(m, j)
        _staff_open_rows(m, j)
        _envelope_rows(m, j, ps)
    _district_rows(m)
    _cover_rows(m)


def model_variables(inst: Instance, opts: MinCostOptions) -> MinCostModel:
    """Every variable family, the cost and served-demand expressions; no rows yet
    (:func:`add_rows` adds them)."""
    sense = pulp.LpMinimize if opts.objective == "cost" else pulp.LpMaximize
    prob = pulp.LpProblem(f"tuoyu_{opts.objective}", sense)
    n_j, n_a = inst.n_sites, len(inst.classes)
    pairs, demand = inst.pairs, inst.demand
    caps = inst.class_add_cap()
    open_: dict[int, pulp.LpVariable] = {}
    for j in range(inst.n_existing, n_j):
        forced = opts.fixed_open.get(j)
        lo, hi = (1, 1) if forced is True else (0, 0) if forced is False else (0, 1)
        open_[j] = pulp.LpVariable(f"open_{j}", lo, hi, cat=pulp.LpBinary)
    add = {
        (j, a): pulp.LpVariable(f"add_{j}_{a}", 0, int(caps[j, a]), cat=pulp.LpInteger)
        for j in range(n_j)
        for a in range(n_a)
        if caps[j, a] > 0
    }
    share = {
        p: pulp.LpVariable(f"share_{pairs.rows[p]}_{pairs.cols[p]}", 0, 1)
        for p in range(len(pairs))
        if demand[pairs.rows[p]] > 0
    }
    levels = _walk_in_levels(inst) if opts.walk_in else {}
    walk = {
        (j, a): [
            pulp.LpVariable(f"walk_{j}_{a}_{k}", 0, 1, cat=pulp.LpBinary)
            for k in range(1, lam.size)
        ]
        for (j, a), lam in levels.items()
    }
    need, hire, roster, seg_need, fulltime = _staff_variables(inst, caps)
    cost: Terms = [(v, float(inst.site_cost[j])) for j, v in open_.items()]
    cost += [(v, inst.place_cost) for v in add.values()]
    cost += [(v, float(inst.role_cost[r])) for (_j, r), v in hire.items()]
    served = [(v, float(demand[pairs.rows[p]] * inst.decay[p])) for p, v in share.items()]
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
        pulp.LpAffineExpression(cost),
        pulp.LpAffineExpression(served),
        roster,
        seg_need,
        levels,
    )


def _staff_variables(
    inst: Instance, caps: np.ndarray
) -> tuple[
    dict[tuple[int, int], pulp.LpVariable],
    dict[tuple[int, int], pulp.LpVariable],
    dict[tuple[int, int], pulp.LpVariable],
    dict[tuple[int, int, int], pulp.LpVariable],
    dict[int, pulp.LpVariable],
]:
    """:math:`g_{ja}`, :math:`y_{jr}`, :math:`n_{jh}`, :math:`g_{ja\\sigma}`, :math:`b_j`
    (``need``, ``hire``, ``roster``, ``seg_need``, ``fulltime``); ``caps`` is
    :math:`u_{ja}`."""
    n_j, n_a, rule = inst.n_sites, len(inst.classes), inst.rule
    top = inst.places0 + caps  # the most places of each class a site can have
    most = {  # caregivers a class can need (where it can have places)
        (j, a): math.ceil(int(top[j, a]) / inst.ratio[a])
        for j in range(n_j)
        for a in range(n_a)
        if top[j, a] > 0
    }
    need = {
        ja: pulp.LpVariable(f"need_{ja[0]}_{ja[1]}", 0, n, cat=pulp.LpInteger)
        for ja, n in most.items()
    }
    hire = {
        (j, r): pulp.LpVariable(f"hire_{j}_{r}", 0, None, cat=pulp.LpInteger)
        for j in range(n_j)
        for r in range(3)
    }
    roster: dict[tuple[int, int], pulp.LpVariable] = {}
    seg_need: dict[tuple[int, int, int], pulp.LpVariable] = {}
    fulltime: dict[int, pulp.LpVariable] = {}
    partial = np.flatnonzero(~rule.full).tolist()
    for j in range(n_j):
        staffed = [a for a in range(n_a) if (j, a) in need]
        if staffed or inst.shifts0[j].sum() > 0:
            for h, name in enumerate(rule.shift_names):
                roster[(j, h)] = pulp.LpVariable(
                    f"roster_{j}_{name}", int(inst.shifts0[j, h]), None, cat=pulp.LpInteger
                )
            for a in staffed:
                for g in partial:
                    seg_need[(j, a, g)] = pulp.LpVariable(
                        f"seg_need_{j}_{a}_{g}", 0, most[(j, a)], cat=pulp.LpInteger
                    )
        if int(inst.places0[j].sum()) + int(inst.add_cap[j]) >= inst.full_time_health_from:
            fulltime[j] = pulp.LpVariable(f"fulltime_{j}", 0, 1, cat=pulp.LpBinary)
    return need, hire, roster, seg_need, fulltime


def _objective(m: MinCostModel) -> None:
    """Least cost, or for diagnosis the most served demand or the most places."""
    if m.options.objective == "cost":
        m.prob.setObjective(m.cost)
    elif m.options.objective == "coverage":
        m.prob.setObjective(m.served)
    else:
        m.prob.setObjective(pulp.LpAffineExpression([(v, 1.0) for v in m.add.values()]))


def _walk_in_levels(inst: Instance) -> dict[tuple[int, int], np.ndarray]:
    """``Lambda_0..Lambda_K`` for every (site, class) that can receive walk-in load."""
    beta = inst.max_turn_away
    if beta >= 1.0 or not np.any(inst.walk_in > 0):
        return {}
    reach = np.zeros((inst.n_sites, len(inst.classes)))
    np.add.at(reach, inst.pairs.cols, inst.walk_in[inst.pairs.rows])
    shape = inst.walk_in_shape
    caps = inst.places0 + inst.class_add_cap()
    top = 0
    sizes: dict[tuple[int, int], int] = {}
    for j, a in zip(*np.nonzero(reach > 1e-12), strict=True):
        cap = int(caps[j, a])
        k = cap if beta <= 0 else min(places_for_load(float(reach[j, a]), beta, shape), cap)
        if k > 0:
            sizes[(int(j), int(a))] = k
            top = max(top, k)
    # Lambda_0..Lambda_k is a prefix of Lambda_0..Lambda_top
    lam = max_loads(top, beta, shape) if beta > 0 else np.zeros(top + 1)
    return {ja: lam[: k + 1] for ja, k in sizes.items()}


def _safe(lam: np.ndarray) -> np.ndarray:
    """:math:`\\tilde\\Lambda`: loads a little below ``Lambda_k``, so that a solver's
    feasibility tolerance (about 1e-7 on a row) can never carry a load past the
    Erlang-B target."""
    out = np.maximum(0.0, lam * (1.0 - 1e-6) - 1e-6)
    out[0] = 0.0
    return out


# -- the families of rows, in the order of the module docstring -----------------


def _assignment_rows(m: MinCostModel, i: int, ps: list[int]) -> None:
    """(assign), (floor) of community ``i``, whose pairs are ``ps``."""
    m.row([(m.share[p], 1.0) for p in ps], LE, 1.0, f"assign_{i}")
    if m.options.min_community_share > 0:
        terms = [(m.share[p], float(m.inst.decay[p])) for p in ps]
        m.row(terms, GE, m.options.min_community_share, f"floor_{i}")


def _capacity_row(m: MinCostModel, j: int, a: int, ps: list[int]) -> None:
    """(cap): enrolled load and walk-in places of class ``a`` within the places at ``j``."""
    inst, rows = m.inst, m.inst.pairs.rows
    terms = [
        (m.share[p], float(inst.enrolled[rows[p], a])) for p in ps if inst.enrolled[rows[p], a] > 0
    ]
    terms += [(v, 1.0) for v in m.walk.get((j, a), [])]
    if (j, a) in m.add:
        terms.append((m.add[(j, a)], -1.0))
    if terms:
        m.row(terms, LE, float(inst.places0[j, a]), f"cap_{j}_{a}")


def _walk_in_rows(m: MinCostModel, j: int, a: int, ps: list[int]) -> None:
    """(walkin), (walkin_order); strengthened, (walkin_pair) and (walkin_open)."""
    inst, opts = m.inst, m.options
    rows = inst.pairs.rows
    wv = m.walk.get((j, a), [])
    load = [
        (m.share[p], float(inst.walk_in[rows[p], a])) for p in ps if inst.walk_in[rows[p], a] > 0
    ]
    if load and opts.walk_in and inst.max_turn_away < 1.0:
        if (j, a) in m.levels:
            inc = np.diff(_safe(m.levels[(j, a)]))
            load += [(v, -float(inc[k])) for k, v in enumerate(wv)]
        m.row(load, LE, 0.0, f"walkin_{j}_{a}")
    for k in range(1, len(wv)):
        m.row([(wv[k], 1.0), (wv[k - 1], -1.0)], LE, 0.0, f"walkin_order_{j}_{a}_{k}")
    if not (wv and opts.strengthen):
        return
    lam = _safe(m.levels[(j, a)])
    for p in ps:
        w = float(inst.walk_in[rows[p], a])
        for k in range(1, len(wv) + 1):
            if lam[k - 1] >= w:
                break
            m.row(
                [(m.share[p], w), (wv[k - 1], -(w - float(lam[k - 1])))],
                LE,
                float(lam[k - 1]),
                f"walkin_pair_{rows[p]}_{j}_{a}_{k}",
            )
    if j in m.open:
        m.row([(wv[0], 1.0), (m.open[j], -1.0)], LE, 0.0, f"walkin_open_{j}_{a}")


def _size_rows(m: MinCostModel, j: int) -> None:
    """(maxp), (area); strengthened at a candidate site, (maxp_class)."""
    inst = m.inst
    xs = [(a, m.add[(j, a)]) for a in range(len(inst.classes)) if (j, a) in m.add]
    if not xs:
        return
    places: Terms = [(v, 1.0) for _a, v in xs]
    area: Terms = [(v, float(inst.area_per_child_m2[a])) for a, v in xs]
    has_area = math.isfinite(inst.area_free_m2[j])
    if j not in m.open:
        m.row(places, LE, float(inst.add_cap[j]), f"maxp_{j}")
        if has_area:
            m.row(area, LE, float(inst.area_free_m2[j]), f"area_{j}")
        return
    o = m.open[j]
    m.row([*places, (o, -float(inst.add_cap[j]))], LE, 0.0, f"maxp_{j}")
    if has_area:
        m.row([*area, (o, -float(inst.area_free_m2[j]))], LE, 0.0, f"area_{j}")
    if m.options.strengthen:
        for a, v in xs:  # the variable's upper bound is u_ja
            m.row([(v, 1.0), (o, -float(v.upBound))], LE, 0.0, f"maxp_class_{j}_{a}")


def _link_rows(m: MinCostModel, j: int, ps: list[int]) -> None:
    """Strengthened at a candidate site, (link): nothing is served at a closed site."""
    if j in m.open and m.options.strengthen:
        rows = m.inst.pairs.rows
        for p in ps:
            m.row([(m.share[p], 1.0), (m.open[j], -1.0)], LE, 0.0, f"link_{rows[p]}_{j}")


def _staff_rows(m: MinCostModel, j: int) -> None:
    """(ratio_class), (seg_class), (seg), (ratio), (hire_direct): the staffing rule
    at site ``j`` (:mod:`tuoyu_sim.staffing`)."""
    inst, rule = m.inst, m.inst.rule
    shifts = [m.roster[(j, h)] for h in range(len(rule.shift_names)) if (j, h) in m.roster]
    if not shifts:
        return
    full, cover, walk = rule.full, rule.cover, rule.walk
    gs: Terms = []
    for a in range(len(inst.classes)):
        if (j, a) not in m.need:
            continue
        terms = [(m.need[(j, a)], float(inst.ratio[a]))]
        if (j, a) in m.add:
            terms.append((m.add[(j, a)], -1.0))
        m.row(terms, GE, float(inst.places0[j, a]), f"ratio_class_{j}_{a}")
        gs.append((m.need[(j, a)], -1.0))
    for g in range(len(rule.segments)):
        # a full segment: the national rule on all places; else each class's need then
        seg_terms = gs if full[g] else _segment_class_rows(m, j, g, float(walk[g]))
        on = [m.roster[(j, h)] for h in np.flatnonzero(cover[g]).tolist() if (j, h) in m.roster]
        if seg_terms and on:
            terms = [(v, rule.availability) for v in on] + seg_terms
            m.row(terms, GE, 0.0, f"seg_{j}_{g}")
    if gs:
        m.row([(v, 1.0) for v in shifts] + gs, GE, 0.0, f"ratio_{j}")
    m.row(
        [(m.hire[(j, 0)], 1.0), (m.hire[(j, 1)], 1.0)] + [(v, -1.0) for v in shifts],
        GE,
        -float(inst.staff0[j, 0] + inst.staff0[j, 1]),
        f"hire_direct_{j}",
    )


def _segment_class_rows(m: MinCostModel, j: int, g: int, walk_phi: float) -> Terms:
    """(seg_class) of every class at site ``j`` in partial segment ``g`` (walk-in
    presence share ``walk_phi``); returns the terms ``-g_jag`` of the classes with a
    row, for (seg)."""
    inst = m.inst
    out: Terms = []
    for a in range(len(inst.classes)):
        v = m.seg_need.get((j, a, g))
        if v is None:
            continue
        # the places not held for walk-ins by the site's presence mix, the walk-in
        # places by the walk-in presence share
        mix = float(inst.site_presence[j, a, g])
        load: Terms = []
        if (j, a) in m.add and mix > 0:
            load.append((m.add[(j, a)], -mix))
        if walk_phi != mix:
            load += [(d, -(walk_phi - mix)) for d in m.walk.get((j, a), [])]
        rhs = mix * float(inst.places0[j, a])
        if not load and rhs <= 0:
            continue
        m.row([(v, float(inst.ratio[a])), *load], GE, rhs, f"seg_class_{j}_{a}_{g}")
        out.append((v, -1.0))
    return out


def _health_rows(m: MinCostModel, j: int) -> None:
    """(health_min), (health_ft), (health_ft_staff) at site ``j``."""
    inst = m.inst
    health, cand = m.hire[(j, 2)], j in m.open
    if inst.min_health > 0:
        least = float(inst.min_health)
        terms = [(health, 1.0)] + ([(m.open[j], -least)] if cand else [])
        rhs = (0.0 if cand else least) - float(inst.staff0[j, 2])
        m.row(terms, GE, rhs, f"health_min_{j}")
    if j not in m.fulltime:
        return
    b = m.fulltime[j]
    below = inst.full_time_health_from - 1  # N_0 - 1 children: no full-time worker
    big = float(inst.places0[j].sum() + inst.add_cap[j] - below)
    terms = [*((m.add[(j, a)], 1.0) for a in range(len(inst.classes)) if (j, a) in m.add)]
    m.row([*terms, (b, -big)], LE, float(below - inst.places0[j].sum()), f"health_ft_{j}")
    m.row([(health, 1.0), (b, -1.0)], GE, -float(inst.staff0[j, 2]), f"health_ft_staff_{j}")


def _staff_open_rows(m: MinCostModel, j: int) -> None:
    """Strengthened at a candidate site, (hire_open) and (roster_open)."""
    inst = m.inst
    if j not in m.open or not m.options.strengthen:
        return
    # M_j: the most caregivers a shift can need (g_ja at their bounds, absence)
    most = float(sum(v.upBound for (jj, _a), v in m.need.items() if jj == j))
    per_shift = math.ceil(most / inst.rule.availability)
    big_staff = float(BIGM_SHIFTS * per_shift + max(inst.min_health, 1))
    o = m.open[j]
    for r in range(3):
        m.row([(m.hire[(j, r)], 1.0), (o, -big_staff)], LE, 0.0, f"hire_open_{j}_{r}")
    for h in range(len(inst.rule.shift_names)):
        if (j, h) in m.roster:
            m.row(
                [(m.roster[(j, h)], 1.0), (o, -float(per_shift))], LE, 0.0, f"roster_open_{j}_{h}"
            )


def _envelope_rows(m: MinCostModel, j: int, ps: list[int]) -> None:
    """Strengthened, with ``envelope``, (envelope): the site's cost at least the
    convex envelope of its least cost at its enrolled load (:mod:`.envelope`)."""
    inst = m.inst
    if not (m.options.strengthen and m.options.envelope):
        return
    enrolled = inst.enrolled[inst.pairs.rows[ps]]
    load = enrolled.sum(axis=1)
    mine = load > 0
    if not np.any(mine):
        return
    n_a = len(inst.classes)
    ub = np.array([m.add[(j, a)].upBound if (j, a) in m.add else 0 for a in range(n_a)], float)
    # every class load is at least the smallest share of it among the communities
    mix = (enrolled[mine] / load[mine, None]).min(axis=0)
    # the load in a partial segment is at least the smaller presence share times places
    seg_mix = np.minimum(inst.site_presence[j], inst.rule.walk[None, :])
    lines = envelope(site_curve(inst, j, mix, ub, seg_mix))
    site: Terms = [(m.add[(j, a)], inst.place_cost) for a in range(n_a) if (j, a) in m.add]
    site += [(m.hire[(j, r)], float(inst.role_cost[r])) for r in range(3)]
    cand = j in m.open
    for k, (slope, icpt) in enumerate(lines):
        if slope <= 0 and icpt <= 0:
            continue  # says only that the cost is not negative (costs off, say)
        terms = site + [
            (m.share[p], -slope * float(e))
            for p, e in zip(ps, load, strict=True)
            if slope * e != 0.0
        ]
        if cand:
            terms.append((m.open[j], float(inst.site_cost[j]) - icpt))
        # in units of the largest coefficient: rows in yuan would be 1e6 times the others
        unit = max(abs(c) for _v, c in terms)
        scaled = [(v, c / unit) for v, c in terms]
        m.row(scaled, GE, 0.0 if cand else icpt / unit, f"envelope_{j}_{k}")


def _district_rows(m: MinCostModel) -> None:
    """(coverage), (per1000), (budget)."""
    inst, opts = m.inst, m.options
    total_demand = float(inst.demand.sum())
    if opts.coverage_share > 0 and total_demand > 0:
        m.row(m.served, GE, opts.coverage_share * total_demand, "coverage")
    need_places = inst.places_needed_per_1000(opts.places_per_1000)
    if need_places > 0:
        m.row([(v, 1.0) for v in m.add.values()], GE, need_places - 1e-9, "per1000")
    if opts.budget_cny is not None:
        m.row(m.cost, LE, float(opts.budget_cny), "budget")


def _cover_rows(m: MinCostModel) -> None:
    """With ``cover_every_community``, (cover): a community beyond every existing
    facility's circle within the circle of an open candidate site."""
    inst = m.inst
    if not m.options.cover_every_community:
        return
    pairs, cand = inst.pairs, inst.is_candidate
    covered = np.zeros(inst.n_communities, dtype=bool)
    covered[pairs.rows[~cand[pairs.cols]]] = True
    reach: dict[int, list[int]] = {}
    for pc in np.flatnonzero(cand[pairs.cols]):
        reach.setdefault(int(pairs.rows[pc]), []).append(int(pairs.cols[pc]))
    for ci in np.flatnonzero(~covered).tolist():
        m.row([(m.open[j], 1.0) for j in reach.get(ci, [])], GE, 1.0, f"cover_{ci}")


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
    return read_solution(model, outcome)


def read_solution(model: MinCostModel, outcome: SolveOutcome) -> MinCostSolution:
    """The integer decisions of a solved model (:mod:`.phased` reads each year's)."""
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

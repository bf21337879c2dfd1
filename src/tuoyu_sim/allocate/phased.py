r"""The multi-year min-cost model: a phased plan over the projection's years.

:func:`optimize_phased` plans the years :math:`Y = (y_0, \dots, y_T)` together:
which sites open in which year (a site stays open), places by age class at every
site in every year (added, converted between classes, released), caregivers by
role in every year, so that every one-year target holds in every year at the
least present cost. Each year's demand is :func:`tuoyu_sim.projection.scenario_for_year`'s.

How it is built. Year :math:`y`'s rows are exactly the one-year model's
(:mod:`.mincost`, built by its own builders, :func:`~.mincost.add_rows`) on
variables of their own (names end in ``_<year>``), with three changes:
:math:`x_{jay}` may be negative at an existing facility (down to
:math:`-p^0_{ja}`: places released; a facility without a floor area gets
:math:`x_{jay} \in [-p^0_{ja}, 0]`), the one-year (per1000) and (budget) rows
are left out (replaced by (phase\_per1000) and (phase\_budget)), and the
(envelope) rows are left out: they bound the one-year cost (capital plus
``costs.years`` of salary) and are not valid for the phased cost. Every other
strengthening row of the one-year model (walkin\_pair, walkin\_open,
maxp\_class, link, hire\_open, roster\_open) is implied by the integer rows
whatever the cost and is kept. Then the linking rows below join the years.

Caregivers at an existing facility never fall below today's (as in the
one-year model, where :math:`y_{jr} \ge 0`): they are not dismissed; caregivers
hired within the horizon may be let go. ``costs.years`` does not apply: a
caregiver's salary is paid in every year of the horizon they are employed.

Linking rows
------------
:math:`w_y = (1 + r)^{-(y - y_0)}` the discount weight, :math:`c^v` the cost of
converting a place, :math:`c^r` the saving of releasing one
(:math:`c^r \le c^p`: validated), :math:`c^h, c^\ell` the one-off costs of
hiring and letting go, :math:`\bar c_r` the salary of role :math:`r` per year,
:math:`\mu` the minimum utilization, :math:`c^e` the cost of an empty
place-year, :math:`T_y` the year's places per 1,000 (``phasing.per_1000``),
:math:`H^{\max}` the most hires a year. :math:`x_{ja,y_0 - 1} = 0`,
:math:`y_{jr,y_0-1} = 0` and :math:`o_{j,y_0-1} = 0` (the scenario as it is).
:math:`D_i s_{ijy}` is the demand served, in places' worth (enrolled places and
walk-in erlangs): the places a site is expected to have in use.

.. math::

    \min\ & \sum_y w_y \Bigl[ \sum_{j \in C} c_j (o_{jy} - o_{j,y-1})
            + \sum_{j,a} (c^p a_{jay} + c^v v^+_{jay} - c^r \ell_{jay})
            + \sum_{j,r} \bigl(\bar c_r (s^0_{jr} + y_{jry}) + c^h h^+_{jry}
            + c^\ell h^-_{jry}\bigr) + c^e \sum_j e_{jy} \Bigr] \\
    \text{s.t.}\ & \text{every row of the one-year model in every year } y
        && && \text{(one-year)} \\
    & o_{jy} \ge o_{j,y-1} && \forall j \in C, y > y_0 && \text{(phase\_open)} \\
    & x_{jay} - x_{ja,y-1} = a_{jay} - \ell_{jay} + v^+_{jay} - v^-_{jay}
        && \forall j, a, y && \text{(phase\_places)} \\
    & \sum_a v^+_{jay} = \sum_a v^-_{jay} && \forall j, y && \text{(phase\_convert)} \\
    & y_{jry} - y_{jr,y-1} = h^+_{jry} - h^-_{jry}
        && \forall j, r, y && \text{(phase\_staff)} \\
    & \sum_{j,r} h^+_{jry} \le H^{\max} && \forall y && \text{(phase\_hires)} \\
    & \mu \sum_a (p^0_{ja} + x_{jay}) \le \sum_{i \in N(j)} D_{iy} s_{ijy}
        && \forall j, y && \text{(phase\_util)} \\
    & e_{jy} \ge \sum_a (p^0_{ja} + x_{jay}) - \sum_{i \in N(j)} D_{iy} s_{ijy}
        && \forall j, y && \text{(phase\_empty)} \\
    & \sum_{j,a} (p^0_{ja} + x_{jay}) \ge T_y \Pi / 1000
        && \forall y && \text{(phase\_per1000)} \\
    & \text{the objective} \le B && && \text{(phase\_budget)} \\
    & \star\ \textstyle\sum_r \bar c_r y_{jry} \ge \alpha_{jky} \sum_{i \in N(j)} e_{iy} s_{ijy}
        + \beta_{jky} o_{jy} && \forall j \in C, k, y && \text{(phase\_envelope)}

with :math:`a, \ell, v^\pm, h^\pm, e \ge 0` continuous (given the integer
places and staff, the cheapest split is integral: a transportation problem).
Conversions (:math:`v^\pm`) are built only when :math:`c^v < c^p - c^r`, when
converting is cheaper than adding and releasing; (phase\_staff) only with a
hiring or letting-go cost or a hire cap; (phase\_util) only with
:math:`\mu > 0`; (phase\_empty) only with :math:`c^e > 0`. At the optimum the
objective is exactly the accounting of :func:`phase_rows` (plus
:math:`c^e` times the empty place-years, which need the assignment).

:math:`\star` (phase\_envelope), a strengthening row (``envelope=True``, the
default): the one-year (envelope) re-derived for the phased cost. At a candidate
site (no places or staff there before, :math:`x_{jay} \ge 0`) a year's salaries
are at least the least salaries that carry the site's enrolled load that year:
:mod:`.envelope`'s curve with no site or place cost and one year's salary per
caregiver, whose lower convex hull gives :math:`(\alpha_{jky}, \beta_{jky})`.
Implied by the integer rows, so it changes no optimum. Not at existing
facilities: releasing places there can need fewer caregivers than the curve,
which starts from today's places, assumes.

Warm start (:func:`held_start`): the one-year plan for every year's largest
demand (class by class) and largest per-1,000 target, with salaries over the
discounted years, solved as ``optimize`` solves a year (by parts where the
district falls apart; the greedy plan if that finds none), held from the first
year, handed to the solver as its first incumbent when it satisfies every row.
With a time limit, half of it goes to this start.

Accounting (:func:`phase_rows`): the change of a site's places of a class
between consecutive years' networks (the first year against the scenario as it
is); conversions pair decreases with increases at the same site in the same
year, as many as possible, when :math:`c^v < c^p - c^r`, else none; the rest of
the increases are adds, the rest of the decreases releases; caregivers are paid
their salary every year they are employed; hires and let-go are the positive and
negative change by role. :func:`verify_phases` rebuilds every year's network
from those rows alone and checks every constraint of every year.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from tuoyu_sim.allocate.api import OptimizeOptions, min_cost_options
from tuoyu_sim.allocate.checks import check_min_cost
from tuoyu_sim.allocate.envelope import envelope, site_curve
from tuoyu_sim.allocate.instance import Instance, build_instance, rosters
from tuoyu_sim.allocate.mincost import (
    MinCostModel,
    MinCostOptions,
    MinCostSolution,
    add_rows,
    model_variables,
    read_solution,
)
from tuoyu_sim.allocate.results import Plan, SitePlan, make_plan, planned_scenario
from tuoyu_sim.allocate.solvers import SolveOutcome, SolverSpec, Terms, add_row, solve
from tuoyu_sim.errors import InfeasibleError, SolverError, UserError
from tuoyu_sim.scenario import ROLES, Phasing, Scenario

LE, GE, EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ

ACTIONS: tuple[str, ...] = ("open", "add", "convert", "release", "hire", "let_go", "staff", "empty")
"""The actions of :func:`phase_rows`, in the order a year's rows are written."""

COLUMNS: tuple[str, ...] = (
    "year",
    "site",
    "kind",
    "action",
    "age_class",
    "role",
    "count",
    "cost_cny",
    "discounted_cny",
)
"""The columns of :func:`phase_rows` (``phases.csv``)."""


# -- the scenario's phasing figures ----------------------------------------------------


def phasing_of(scenario: Scenario) -> Phasing:
    """The scenario's ``[phasing]`` section (every default without one)."""
    return scenario.phasing if scenario.phasing is not None else Phasing()


def weights(years: Sequence[int], rate: float) -> dict[int, float]:
    """Discount weight of each year, :math:`(1 + r)^{-(y - y_0)}`."""
    first = years[0]
    return {y: (1.0 + rate) ** -(y - first) for y in years}


def converts(scenario: Scenario) -> bool:
    """Whether places are converted: converting is cheaper than adding and releasing."""
    ph, place = phasing_of(scenario), scenario.costs.per_place_cny
    return ph.convert_cost(place) < place - ph.release_saving_per_place_cny


def _per_1000(scenario: Scenario, opts: OptimizeOptions, year: int) -> float | None:
    """Places per 1,000 residents ``year`` must reach: ``phasing.per_1000``, else the
    one-year target (``target_per_1000``, else ``targets.places_per_1000``)."""
    one = opts.target_per_1000
    return phasing_of(scenario).per_1000_in(
        year, one if one is not None else scenario.targets.places_per_1000
    )


def _years(scenario: Scenario, years: Sequence[int]) -> tuple[int, ...]:
    from tuoyu_sim.projection import horizon_years

    out = tuple(int(y) for y in years)
    if not out:
        raise UserError("years: at least one year")
    if list(out) != sorted(set(out)) or out != tuple(range(out[0], out[-1] + 1)):
        raise UserError(f"years {list(out)}: consecutive years, first to last")
    if scenario.projection is None:
        raise UserError(
            f"years {out[0]}–{out[-1]}: a phased plan needs the scenario's [projection] "
            "section (scenarios/README.md)"
        )
    horizon = horizon_years(scenario)
    outside = [y for y in out if y not in horizon]
    if outside:
        raise UserError(
            f"years {out[0]}–{out[-1]}: within projection.horizon "
            f"({horizon[0]}–{horizon[-1]}); {outside[0]} is not"
        )
    return out


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhasedPlan:
    """A phased plan: one network per year and what it costs over the years."""

    years: tuple[int, ...]
    variant: str
    plans: dict[int, Plan]
    """Year -> a one-year :class:`Plan` against that year's scenario
    (``scenario_for_year``); ``planned_scenario(plans[y], scenario_for_year(...))``
    is year ``y``'s network. Its ``cost_cny`` is the one-year reading (against the
    scenario as it is, salaries over ``costs.years``), not the phased cost: that is
    :attr:`rows`."""
    networks: dict[int, Scenario]
    """Year -> that year's network (the planned scenario of that year)."""
    rows: list[dict[str, Any]]
    """:func:`phase_rows` of the networks (with the empty place-years)."""
    status: str
    objective_cny: float
    """Present value of :attr:`rows` (:func:`present_cost`)."""
    bound_cny: float | None
    gap: float | None
    solve_seconds: float
    build_seconds: float
    discount_rate: float
    empty_places: dict[int, dict[str, float]] = field(default_factory=dict)
    """Year -> site -> empty places (places less the demand served there, >= 0)."""
    in_use: dict[int, dict[str, float]] = field(default_factory=dict)
    """Year -> site -> places' worth of demand served there."""
    message: str = ""

    def cost_by_year(self) -> dict[int, dict[str, float]]:
        """Year -> action -> cost in yuan (not discounted)."""
        out: dict[int, dict[str, float]] = {y: dict.fromkeys(ACTIONS, 0.0) for y in self.years}
        for r in self.rows:
            out[r["year"]][r["action"]] += r["cost_cny"]
        return out


@dataclass
class _YearModel(MinCostModel):
    """One year's rows of the phased model: the one-year model whose rows are named
    ``<row>_<year>``."""

    year: int = 0

    def row(
        self, terms: Terms | pulp.LpAffineExpression, sense: int, rhs: float, name: str
    ) -> None:
        add_row(self.prob, terms, sense, rhs, f"{name}_{self.year}")


def _rename(m: MinCostModel, year: int) -> None:
    families: list[Any] = [m.open, m.add, m.share, m.need, m.hire, m.fulltime, m.roster]
    families.append(m.seg_need)
    for fam in families:
        for v in fam.values():
            v.name = f"{v.name}_{year}"
    for vs in m.walk.values():
        for v in vs:
            v.name = f"{v.name}_{year}"


def _year_model(
    prob: pulp.LpProblem, inst: Instance, options: MinCostOptions, year: int
) -> _YearModel:
    """Year ``year``'s variables and one-year rows on ``prob``."""
    base = model_variables(inst, options)
    _rename(base, year)
    m = _YearModel(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, year=year)
    m.prob = prob
    # places may be released at an existing facility: x down to -p0
    for j in range(inst.n_existing):
        for a in range(len(inst.classes)):
            p0 = int(inst.places0[j, a])
            if p0 <= 0:
                continue
            v = m.add.get((j, a))
            if v is None:
                v = pulp.LpVariable(f"add_{j}_{a}_{year}", -p0, 0, cat=pulp.LpInteger)
                m.add[(j, a)] = v
            else:
                v.lowBound = -p0
    add_rows(m)
    return m


@dataclass
class _Phased:
    """The built phased model."""

    prob: pulp.LpProblem
    years: tuple[int, ...]
    insts: dict[int, Instance]
    models: dict[int, _YearModel]
    constant: float
    cost: pulp.LpAffineExpression
    served_at: dict[int, dict[int, Terms]]
    """Year -> site -> terms of the demand served there."""


def _site_served(m: MinCostModel) -> dict[int, Terms]:
    inst = m.inst
    demand = inst.demand
    out: dict[int, Terms] = {}
    for p, v in m.share.items():
        i, j = int(inst.pairs.rows[p]), int(inst.pairs.cols[p])
        out.setdefault(j, []).append((v, float(demand[i])))
    return out


def _floor_bounds(models: Mapping[int, _YearModel], floors: Mapping[int, Scenario] | None) -> None:
    """Lower bounds from ``floors``: places by class, staff by role, sites open."""
    if not floors:
        return
    for y, net in floors.items():
        if y not in models:
            raise UserError(
                f"floors: year {y} is not a year of the plan ({min(models)}–{max(models)})"
            )
        m = models[y]
        inst = m.inst
        index = {s: j for j, s in enumerate(inst.site_ids)}
        for f in net.facilities:
            j = index.get(f.id)
            if j is None:
                raise UserError(
                    f"floors: year {y}: {f.id} is neither a facility nor a candidate site"
                )
            if j in m.open:
                m.open[j].lowBound = 1
            for a, name in enumerate(inst.classes):
                need = int(f.places.get(name, 0)) - int(inst.places0[j, a])
                v = m.add.get((j, a))
                if v is None:
                    if need > 0:
                        raise UserError(
                            f"floors: year {y}: {f.id} cannot hold {f.places[name]} {name} places"
                        )
                    continue
                lo = max(float(v.lowBound or 0.0), float(need))
                if v.upBound is not None and lo > v.upBound:
                    raise UserError(
                        f"floors: year {y}: {f.id} cannot hold {f.places[name]} {name} places"
                    )
                v.lowBound = lo
            for r, role in enumerate(ROLES):
                need_r = int(getattr(f.staff, role)) - int(inst.staff0[j, r])
                v = m.hire[(j, r)]
                v.lowBound = max(float(v.lowBound or 0.0), float(need_r))


def _envelope_rows(m: _YearModel, salary: np.ndarray) -> None:
    """(phase_envelope) at every candidate site: the year's salaries there at least
    the convex envelope of the least salaries that carry its enrolled load
    (:mod:`.envelope` with no site or place cost and a year's salary)."""
    inst = m.inst
    pay = dataclasses.replace(
        inst, place_cost=0.0, role_cost=salary, site_cost=np.zeros_like(inst.site_cost)
    )
    by_site: dict[int, list[int]] = {}
    for p in m.share:
        by_site.setdefault(int(inst.pairs.cols[p]), []).append(p)
    n_a = len(inst.classes)
    for j, o in m.open.items():
        ps = by_site.get(j, [])
        enrolled = inst.enrolled[inst.pairs.rows[ps]] if ps else np.zeros((0, n_a))
        load = enrolled.sum(axis=1)
        mine = load > 0
        if not np.any(mine):
            continue
        mix = (enrolled[mine] / load[mine, None]).min(axis=0)
        ub = np.array([m.add[(j, a)].upBound if (j, a) in m.add else 0 for a in range(n_a)], float)
        seg_mix = np.minimum(inst.site_presence[j], inst.rule.walk[None, :])
        site: Terms = [(m.hire[(j, r)], float(salary[r])) for r in range(3)]
        for k, (slope, icpt) in enumerate(envelope(site_curve(pay, j, mix, ub, seg_mix))):
            if slope <= 0 and icpt <= 0:
                continue
            terms = site + [
                (m.share[p], -slope * float(e)) for p, e in zip(ps, load, strict=True) if e > 0
            ]
            terms.append((o, -icpt))
            unit = max(abs(c) for _v, c in terms)
            m.row([(v, c / unit) for v, c in terms], GE, 0.0, f"phase_envelope_{j}_{k}")


def build_phased(
    scenario: Scenario,
    years: Sequence[int],
    opts: OptimizeOptions,
    *,
    variant: str = "central",
    floors: Mapping[int, Scenario] | None = None,
    envelope: bool = True,
) -> _Phased:
    """Build the phased model (see the module docstring); nothing is solved here.

    ``envelope``: add the (phase_envelope) strengthening rows (with
    ``opts.strengthen``)."""
    envelope = envelope and opts.strengthen
    from tuoyu_sim.projection import scenarios_by_year

    ys = _years(scenario, years)
    ph = phasing_of(scenario)
    by_year = scenarios_by_year(scenario, variant, ys)
    prob = pulp.LpProblem("tuoyu_phased", pulp.LpMinimize)
    insts: dict[int, Instance] = {}
    models: dict[int, _YearModel] = {}
    for y in ys:
        inst = build_instance(by_year[y], radius_m=opts.radius_m, decay=opts.decay, beta=opts.beta)
        one = min_cost_options(by_year[y], opts)
        mc = dataclasses.replace(
            one, places_per_1000=None, budget_cny=None, envelope=False, decompose=False
        )
        try:  # a target no plan can meet in some year: said with that year's numbers
            check_min_cost(
                inst, dataclasses.replace(mc, places_per_1000=_per_1000(scenario, opts, y))
            )
        except InfeasibleError as exc:
            raise InfeasibleError(f"year {y} ({variant}): {exc}") from None
        insts[y] = inst
        models[y] = _year_model(prob, inst, mc, y)
    _floor_bounds(models, floors)
    w = weights(ys, ph.discount_rate)
    first = insts[ys[0]]
    n_j, n_a = first.n_sites, len(first.classes)
    place, conv = scenario.costs.per_place_cny, ph.convert_cost(scenario.costs.per_place_cny)
    release = ph.release_saving_per_place_cny
    rc = scenario.costs.per_caregiver_year_cny
    salary = np.array([rc.teacher, rc.nursery, rc.health], dtype=float)
    do_convert = converts(scenario)
    do_staff = ph.hire_cost_cny > 0 or ph.let_go_cost_cny > 0 or ph.max_hires_per_year is not None
    cost: Terms = []
    constant = 0.0
    served_at: dict[int, dict[int, Terms]] = {}

    def row(terms: Terms, sense: int, rhs: float, name: str) -> None:
        add_row(prob, terms, sense, rhs, name)

    for t, y in enumerate(ys):
        m, inst, wy = models[y], insts[y], w[y]
        prev = models[ys[t - 1]] if t > 0 else None
        for j, o in m.open.items():
            cost.append((o, wy * float(inst.site_cost[j])))
            if prev is not None:
                cost.append((prev.open[j], -wy * float(inst.site_cost[j])))
                row([(o, 1.0), (prev.open[j], -1.0)], GE, 0.0, f"phase_open_{j}_{y}")
        for j in range(n_j):
            ups: list[pulp.LpVariable] = []
            downs: list[pulp.LpVariable] = []
            for a in range(n_a):
                x = m.add.get((j, a))
                if x is None:
                    continue
                add = pulp.LpVariable(f"padd_{j}_{a}_{y}", 0)
                rel = pulp.LpVariable(f"prel_{j}_{a}_{y}", 0)
                terms: Terms = [(x, 1.0), (add, -1.0), (rel, 1.0)]
                if prev is not None:
                    terms.append((prev.add[(j, a)], -1.0))
                if do_convert:
                    up = pulp.LpVariable(f"pcin_{j}_{a}_{y}", 0)
                    down = pulp.LpVariable(f"pcout_{j}_{a}_{y}", 0)
                    terms += [(up, -1.0), (down, 1.0)]
                    ups.append(up)
                    downs.append(down)
                    cost.append((up, wy * conv))
                row(terms, EQ, 0.0, f"phase_places_{j}_{a}_{y}")
                cost += [(add, wy * place), (rel, -wy * release)]
            if len(ups) >= 2:
                row(
                    [(v, 1.0) for v in ups] + [(v, -1.0) for v in downs],
                    EQ,
                    0.0,
                    f"phase_convert_{j}_{y}",
                )
            elif ups:  # one class: nothing to convert between
                ups[0].upBound = 0
                downs[0].upBound = 0
        hires: Terms = []
        for (j, r), h in m.hire.items():
            cost.append((h, wy * salary[r]))
            if do_staff:
                hp = pulp.LpVariable(f"phire_{j}_{r}_{y}", 0)
                hm = pulp.LpVariable(f"plet_{j}_{r}_{y}", 0)
                terms = [(h, 1.0), (hp, -1.0), (hm, 1.0)]
                if prev is not None:
                    terms.append((prev.hire[(j, r)], -1.0))
                row(terms, EQ, 0.0, f"phase_staff_{j}_{r}_{y}")
                cost += [(hp, wy * ph.hire_cost_cny), (hm, wy * ph.let_go_cost_cny)]
                hires.append((hp, 1.0))
        # salaries of the caregivers the existing facilities have now (kept every year)
        constant += wy * float((inst.staff0[: inst.n_existing] @ salary).sum())
        if ph.max_hires_per_year is not None and hires:
            row(hires, LE, float(ph.max_hires_per_year), f"phase_hires_{y}")
        if envelope:
            _envelope_rows(m, salary)
        served = _site_served(m)
        served_at[y] = served
        for j in range(n_j):
            places: Terms = [(m.add[(j, a)], 1.0) for a in range(n_a) if (j, a) in m.add]
            p0 = float(inst.places0[j].sum())
            if not places and p0 <= 0:
                continue
            use = [(v, -c) for v, c in served.get(j, [])]
            if ph.min_utilization > 0:
                mu = ph.min_utilization
                row([(v, mu * c) for v, c in places] + use, LE, -mu * p0, f"phase_util_{j}_{y}")
            if ph.empty_place_year_cny > 0:
                e = pulp.LpVariable(f"pempty_{j}_{y}", 0)
                row(
                    [(e, 1.0), *((v, -c) for v, c in places), *((v, -c) for v, c in use)],
                    GE,
                    p0,
                    f"phase_empty_{j}_{y}",
                )
                cost.append((e, wy * ph.empty_place_year_cny))
        target = _per_1000(scenario, opts, y)
        if target is not None and target > 0:
            need = target * float(inst.population.sum()) / 1000.0 - inst.places0_total
            row([(v, 1.0) for v in m.add.values()], GE, need - 1e-9, f"phase_per1000_{y}")
    summed: dict[pulp.LpVariable, float] = {}
    for v, c in cost:  # a variable appears in two years' terms (o_jy): add, never replace
        summed[v] = summed.get(v, 0.0) + c
    expr = pulp.LpAffineExpression([(v, c) for v, c in summed.items() if c != 0.0])
    if opts.budget_cny is not None:
        row(list(expr.items()), LE, float(opts.budget_cny) - constant, "phase_budget")
    prob.setObjective(expr + constant)
    return _Phased(prob, ys, insts, models, constant, expr, served_at)


def held_start(model: _Phased, scenario: Scenario, opts: OptimizeOptions, spec: SolverSpec) -> bool:
    """Set a first incumbent: the one-year plan for every year's largest demand
    (class by class) and largest per-1,000 target, with salaries over the
    discounted years, held from the first year. It is solved as ``optimize``
    solves a year (:func:`~.strategy.solve_model`: by parts where the district
    falls apart) within ``spec``; without a plan from it, the greedy plan
    (:mod:`.greedy`). True when the start satisfies every row of the phased model
    (otherwise nothing is set): it may not, e.g. under a utilization floor, a
    budget or floors, or when holding the shares misses a year's coverage."""
    from tuoyu_sim.allocate.greedy import greedy_start
    from tuoyu_sim.allocate.strategy import solve_model

    ys = model.years
    first = model.insts[ys[0]]
    if model.prob.constraints.get("phase_budget") is not None:
        return False
    peak = dataclasses.replace(
        first,
        enrolled=np.max([model.insts[y].enrolled for y in ys], axis=0),
        walk_in=np.max([model.insts[y].walk_in for y in ys], axis=0),
    )
    targets = [_per_1000(scenario, opts, y) for y in ys]
    top = max((t for t in targets if t is not None), default=None)
    mc = model.models[ys[0]].options
    # salaries weighed by the discounted years: the one-year cost of the plan held
    rc = scenario.costs.per_caregiver_year_cny
    held_years = sum(weights(ys, phasing_of(scenario).discount_rate).values())
    peak = dataclasses.replace(
        peak, role_cost=np.array([rc.teacher, rc.nursery, rc.health], float) * held_years
    )
    # a little above the coverage target: the shares held must meet it in every year
    one = dataclasses.replace(
        mc,
        coverage_share=min(1.0, mc.coverage_share + HELD_COVERAGE_MARGIN)
        if mc.coverage_share > 0
        else 0.0,
        places_per_1000=top,
        decompose=True,
        envelope=True,
        budget_cny=None,
    )
    try:
        sol = solve_model(peak, one, spec)
        if sol.outcome.has_solution and _hold(model, scenario, sol.as_start()):
            return True
    except (SolverError, InfeasibleError):
        pass
    start = greedy_start(peak, mc.coverage_share, mc.min_community_share, top)
    return start is not None and _hold(model, scenario, start)


HELD_COVERAGE_MARGIN = 0.01
""":func:`held_start` solves the peak year for this much more coverage than the
target, so that its shares, held, meet the target in years of another age mix."""


def _hold(model: _Phased, scenario: Scenario, start: Mapping[str, np.ndarray]) -> bool:
    """Set ``start`` (one-year decisions) in every year and the linking variables;
    True when every row of the phased model holds (otherwise nothing is set)."""
    from tuoyu_sim.allocate.mincost import _valid, set_warm_start

    ys = model.years
    opened, added = start["opened"].astype(bool), start["added"]
    prev_x: dict[tuple[int, int], float] = {}
    prev_h: dict[tuple[int, int], float] = {}
    for y in ys:
        m, inst = model.models[y], model.insts[y]
        staff = np.asarray(start["staff"]).copy()
        roster = rosters(inst, opened, added, np.minimum(start["walk"], _walk_room(m, start)))
        for site in np.flatnonzero(opened).tolist():
            have = int(inst.staff0[site, :2].sum() + staff[site, :2].sum())
            short = int(roster[site].sum()) - have
            if short > 0:  # this year's presence shares may roster one more
                staff[site, 0 if salary_order(scenario) == 0 else 1] += short
        # walk-in places beyond what the year's whole reachable load needs: fewer do
        walk = np.zeros_like(start["walk"])
        for (j, a), vs in m.walk.items():
            walk[j, a] = min(int(start["walk"][j, a]), len(vs))
        year_start = {**start, "staff": staff, "walk": walk}
        # the year's own rows only: the linking rows hold variables not set yet
        own = pulp.LpProblem("year", pulp.LpMinimize)
        for name, row in m.prob.constraints.items():
            if name.endswith(f"_{y}") and not name.startswith("phase_"):
                own.constraints[name] = row
        year_model = dataclasses.replace(m, prob=own)
        if not set_warm_start(year_model, year_start, eps=1e-6):
            return False
        _link_values(model, y, prev_x, prev_h)
        prev_x = {k: float(v.varValue or 0.0) for k, v in m.add.items()}
        prev_h = {k: float(v.varValue or 0.0) for k, v in m.hire.items()}
    if _valid(model.prob, 1e-6):
        return True
    for v in model.prob.variables():
        v.varValue = None
    return False


def _walk_room(m: MinCostModel, start: Mapping[str, np.ndarray]) -> np.ndarray:
    """The most walk-in places each (site, class) has variables for in this year."""
    room = np.zeros_like(start["walk"])
    for (j, a), vs in m.walk.items():
        room[j, a] = len(vs)
    return room


def salary_order(scenario: Scenario) -> int:
    """0 when a teacher costs less than a nursery caregiver (the cheaper direct role)."""
    rc = scenario.costs.per_caregiver_year_cny
    return 0 if rc.teacher < rc.nursery else 1


def _link_values(
    model: _Phased,
    y: int,
    prev_x: Mapping[tuple[int, int], float],
    prev_h: Mapping[tuple[int, int], float],
) -> None:
    """Values of year ``y``'s linking variables from its places and staff."""
    by_name = {v.name: v for v in model.prob.variables()}
    m = model.models[y]

    def put(name: str, value: float) -> None:
        v = by_name.get(name)
        if v is not None:
            v.setInitialValue(value, check=False)

    for (j, a), v in m.add.items():
        d = float(v.varValue or 0.0) - prev_x.get((j, a), 0.0)
        put(f"padd_{j}_{a}_{y}", max(0.0, d))
        put(f"prel_{j}_{a}_{y}", max(0.0, -d))
        put(f"pcin_{j}_{a}_{y}", 0.0)
        put(f"pcout_{j}_{a}_{y}", 0.0)
    for (j, r), v in m.hire.items():
        d = float(v.varValue or 0.0) - prev_h.get((j, r), 0.0)
        put(f"phire_{j}_{r}_{y}", max(0.0, d))
        put(f"plet_{j}_{r}_{y}", max(0.0, -d))
    inst = m.inst
    for j in range(inst.n_sites):
        places = float(inst.places0[j].sum()) + sum(
            float(v.varValue or 0.0) for (jj, _a), v in m.add.items() if jj == j
        )
        used = sum(float(v.varValue or 0.0) * c for v, c in model.served_at[y].get(j, []))
        put(f"pempty_{j}_{y}", max(0.0, places - used))


def optimize_phased(
    scenario: Scenario,
    years: Sequence[int],
    opts: OptimizeOptions,
    spec: SolverSpec,
    *,
    variant: str = "central",
    floors: Mapping[int, Scenario] | None = None,
    warm_start: bool = True,
) -> PhasedPlan:
    """The least-cost phased plan over ``years`` (see the module docstring).

    ``warm_start``: hand the solver :func:`held_start` as its first incumbent when
    it holds (False: the flat model alone, as ``benchmarks/bench_phased.py``
    compares).

    ``floors``: year -> a network whose places by class and staff by role at each
    facility or site are lower bounds in that year (a site in it is open then).

    Raises
    ------
    UserError
        No ``[projection]``, years outside its horizon or not consecutive, a bad floor.
    InfeasibleError
        The targets cannot be met in some year (the solver's proof).
    SolverError
        No solution within the time limit.
    """
    if opts.objective != "min-cost":
        raise UserError(f"objective {opts.objective!r}: a phased plan is min-cost only")
    t0 = time.perf_counter()
    model = build_phased(scenario, years, opts, variant=variant, floors=floors)
    build_s = time.perf_counter() - t0
    started = False
    if warm_start:
        t1 = time.perf_counter()
        # with a time limit, half of it for the start and the rest for the whole model
        half = None if spec.time_limit_s is None else spec.time_limit_s / 2.0
        started = held_start(model, scenario, opts, dataclasses.replace(spec, time_limit_s=half))
        if spec.time_limit_s is not None:
            used = time.perf_counter() - t1
            spec = dataclasses.replace(spec, time_limit_s=max(1.0, spec.time_limit_s - used))
    outcome = solve(model.prob, spec, warm_start=started)
    # the start's solve counts: the seconds from the model built to the plan solved
    outcome = dataclasses.replace(outcome, seconds=time.perf_counter() - t0 - build_s)
    if outcome.status == "infeasible":
        raise InfeasibleError(
            f"the phased plan {model.years[0]}–{model.years[-1]} ({variant}) is infeasible: "
            "some year's targets cannot be met with the sites, places and limits given "
            "(optimize each year alone to see which)"
        )
    if not outcome.has_solution:
        raise SolverError(
            f"phased plan: the solver ({outcome.solver}) found no solution in "
            f"{outcome.seconds:.1f} s ({outcome.message or outcome.status})"
        )
    return _read_plan(scenario, model, opts, spec, variant, outcome, build_s)


def _read_plan(
    scenario: Scenario,
    model: _Phased,
    opts: OptimizeOptions,
    spec: SolverSpec,
    variant: str,
    outcome: SolveOutcome,
    build_s: float,
) -> PhasedPlan:
    from tuoyu_sim.allocate.api import _targets_record

    ph = phasing_of(scenario)
    plans: dict[int, Plan] = {}
    networks: dict[int, Scenario] = {}
    in_use: dict[int, dict[str, float]] = {}
    for y in model.years:
        m, inst = model.models[y], model.insts[y]
        sol: MinCostSolution = read_solution(m, outcome)
        mc = m.options
        targets = _targets_record(inst, opts, mc, spec)
        targets["places_per_1000"] = _per_1000(scenario, opts, y)
        plan = make_plan(
            inst,
            objective="min-cost",
            outcome=outcome,
            build_seconds=build_s,
            objective_value=outcome.objective,
            targets=targets,
            opened=sol.opened,
            added=sol.added_places,
            walk=sol.walk_in_places,
            staff=sol.added_staff,
            share=sol.share,
        )
        plans[y] = plan
        networks[y] = planned_scenario(plan, inst.scenario)
        used = np.zeros(inst.n_sites)
        np.add.at(used, inst.pairs.cols, inst.demand[inst.pairs.rows] * sol.share)
        in_use[y] = {inst.site_ids[j]: float(used[j]) for j in np.flatnonzero(sol.opened)}
    empty = empty_places(networks, in_use)
    rows = phase_rows(scenario, networks, empty_places=empty)
    total = present_cost(rows)
    bound = outcome.bound
    return PhasedPlan(
        years=model.years,
        variant=variant,
        plans=plans,
        networks=networks,
        rows=rows,
        status=outcome.status,
        objective_cny=total,
        bound_cny=bound,
        gap=outcome.gap,
        solve_seconds=outcome.seconds,
        build_seconds=build_s,
        discount_rate=ph.discount_rate,
        empty_places=empty,
        in_use=in_use,
        message=outcome.message,
    )


# -- accounting -------------------------------------------------------------------------


def _site_cost(scenario: Scenario, site_id: str) -> float:
    for s in scenario.candidate_sites:
        if s.id == site_id:
            return float(
                s.fixed_cost_cny if s.fixed_cost_cny is not None else scenario.costs.per_site_cny
            )
    return 0.0


def _state(net: Scenario) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    return {
        f.id: (dict(f.places), {r: int(getattr(f.staff, r)) for r in ROLES}) for f in net.facilities
    }


def phase_rows(
    scenario: Scenario,
    networks: Mapping[int, Scenario],
    *,
    empty_places: Mapping[int, Mapping[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """What each year does and costs (``phases.csv``): one row per action.

    ``networks``: year -> that year's network (consecutive years). ``count`` is
    signed: the change in places (``add`` > 0, ``release`` < 0, ``convert`` < 0
    for the class converted from, > 0 for the class converted to, which carries
    the cost), in caregivers (``hire`` > 0, ``let_go`` < 0), the caregivers
    employed (``staff``), 1 (``open``) or empty place-years (``empty``, only with
    ``empty_places`` and ``phasing.empty_place_year_cny``). ``discounted_cny`` is
    ``cost_cny`` at the year's discount weight. See the module docstring.
    """
    years = sorted(networks)
    ph = phasing_of(scenario)
    w = weights(years, ph.discount_rate)
    place = scenario.costs.per_place_cny
    conv, release = ph.convert_cost(place), ph.release_saving_per_place_cny
    do_convert = converts(scenario)
    rc = scenario.costs.per_caregiver_year_cny
    salary = {"teacher": rc.teacher, "nursery": rc.nursery, "health": rc.health}
    classes = list(scenario.age_groups)
    existing = {f.id for f in scenario.facilities}
    before = _state(scenario)
    rows: list[dict[str, Any]] = []

    def put(y: int, site: str, action: str, what: str, count: float, cost: float) -> None:
        is_role = action in ("hire", "let_go", "staff")
        rows.append(
            {
                "year": y,
                "site": site,
                "kind": "existing" if site in existing else "new",
                "action": action,
                "age_class": "" if is_role else what,
                "role": what if is_role else "",
                "count": count,
                "cost_cny": cost,
                "discounted_cny": cost * w[y],
            }
        )

    for y in years:
        now = _state(networks[y])
        for site, (places, staff) in now.items():
            if site not in before:
                put(y, site, "open", "", 1, _site_cost(scenario, site))
            old_p, old_s = before.get(site, ({}, dict.fromkeys(ROLES, 0)))
            delta = {a: int(places.get(a, 0)) - int(old_p.get(a, 0)) for a in classes}
            up = sum(d for d in delta.values() if d > 0)
            down = -sum(d for d in delta.values() if d < 0)
            paired = min(up, down) if do_convert else 0
            into, outof = paired, paired
            for a in classes:
                d = delta[a]
                if d > 0:
                    k = min(d, into)
                    into -= k
                    if k:
                        put(y, site, "convert", a, k, k * conv)
                    if d - k:
                        put(y, site, "add", a, d - k, (d - k) * place)
                elif d < 0:
                    k = min(-d, outof)
                    outof -= k
                    if k:
                        put(y, site, "convert", a, -k, 0.0)
                    if -d - k:
                        put(y, site, "release", a, d + k, (d + k) * release)
            for r in ROLES:
                d = staff[r] - old_s.get(r, 0)
                if d > 0:
                    put(y, site, "hire", r, d, d * ph.hire_cost_cny)
                elif d < 0:
                    put(y, site, "let_go", r, d, -d * ph.let_go_cost_cny)
            for r in ROLES:
                if staff[r]:
                    put(y, site, "staff", r, staff[r], staff[r] * salary[r])
            if empty_places is not None and ph.empty_place_year_cny > 0:
                e = float(empty_places.get(y, {}).get(site, 0.0))
                if e > 0:
                    put(y, site, "empty", "", e, e * ph.empty_place_year_cny)
        before = {**before, **now}
    return rows


def empty_places(
    networks: Mapping[int, Scenario], in_use: Mapping[int, Mapping[str, float]]
) -> dict[int, dict[str, float]]:
    """Empty places of every facility every year: its places less the demand the plan
    serves there (``PhasedPlan.in_use``), at least 0 — for networks the plan loop
    may have grown beyond the plan's."""
    return {
        y: {
            f.id: max(0.0, float(f.total_places) - float(in_use.get(y, {}).get(f.id, 0.0)))
            for f in net.facilities
            if f.id in in_use.get(y, {})
        }
        for y, net in networks.items()
    }


def present_cost(rows: Sequence[Mapping[str, Any]]) -> float:
    """The present value of phase rows: the sum of ``discounted_cny``."""
    return float(sum(float(r["discounted_cny"]) for r in rows))


# -- the independent checker ---------------------------------------------------------------

TOL = 1e-6


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def verify_phases(
    scenario: Scenario,
    years: Sequence[int],
    variant: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    plans: Mapping[int, Plan] | None = None,
    budget_cny: float | None = None,
) -> list[str]:
    """Every constraint the phase rows break, as readable lines (empty: they hold).

    Each year's network is rebuilt from the rows alone: the scenario's facilities,
    then year by year the sites opened, places added, converted and released and
    caregivers hired and let go. Checked in every year: sites open once, at
    candidate sites, and stay open; places never below 0; ``max_places`` and floor
    areas; the ratio rule and the health-staff rule; caregivers of the existing
    facilities never below today's; the per-1,000 target of the year; the hires
    cap; the ``staff`` rows are the caregivers employed; every row's cost and
    discounted cost recomputed from ``[costs]`` and ``[phasing]``; conversions
    exactly as :func:`phase_rows` pairs them; the budget on the present value.

    Who is served where is not in the rows: with ``plans`` (year -> the year's
    :class:`Plan`, e.g. :attr:`PhasedPlan.plans`), each year's assignment and
    walk-in places are checked against the network rebuilt from the rows by
    :func:`~tuoyu_sim.allocate.verify.verify_plan` (radius, open sites,
    capacity, walk-in turn-away, coverage, floor) and the utilization floor and
    empty place-years from them; without ``plans`` those are not checked.
    """
    from tuoyu_sim.allocate.verify import _demand, verify_plan
    from tuoyu_sim.projection import scenarios_by_year

    bad: list[str] = []
    try:
        ys = _years(scenario, years)
    except UserError as exc:
        return [str(exc)]
    by_year = scenarios_by_year(scenario, variant, ys)
    ph = phasing_of(scenario)
    w = weights(ys, ph.discount_rate)
    costs = scenario.costs
    place, conv = costs.per_place_cny, ph.convert_cost(costs.per_place_cny)
    saving = ph.release_saving_per_place_cny
    rc = costs.per_caregiver_year_cny
    salary = {"teacher": rc.teacher, "nursery": rc.nursery, "health": rc.health}
    groups = scenario.age_groups
    facs = {f.id: f for f in scenario.facilities}
    cands = {c.id: c for c in scenario.candidate_sites}
    places: dict[str, dict[str, int]] = {
        f.id: {a: int(f.places.get(a, 0)) for a in groups} for f in scenario.facilities
    }
    staff: dict[str, dict[str, int]] = {
        f.id: {r: int(getattr(f.staff, r)) for r in ROLES} for f in scenario.facilities
    }
    by: dict[int, list[Mapping[str, Any]]] = {y: [] for y in ys}
    for r in rows:
        y = r.get("year")
        if y not in by:
            bad.append(f"a row of year {y!r}, outside {ys[0]}–{ys[-1]}: {dict(r)}")
        elif r.get("action") not in ACTIONS:
            bad.append(f"{y} {r.get('site')}: unknown action {r.get('action')!r}")
        else:
            by[y].append(r)
    total = 0.0
    for y in ys:
        hires = 0
        moves: dict[str, dict[str, int]] = {}
        staffed: dict[str, dict[str, int]] = {}
        empty_rows: dict[str, float] = {}
        for r in by[y]:
            site, action = str(r["site"]), str(r["action"])
            count, cost = float(r["count"]), float(r["cost_cny"])
            where = f"{y} {site} {action}"
            total += float(r["discounted_cny"])
            if not _close(float(r["discounted_cny"]), cost * w[y]):
                bad.append(f"{where}: discounted {r['discounted_cny']} is not {cost} x {w[y]:.6f}")
            kind = "existing" if site in facs else "new"
            if r.get("kind") != kind:
                bad.append(f"{where}: kind {r.get('kind')!r}, but {site} is {kind}")
            if action == "open":
                if site not in cands:
                    bad.append(f"{where}: {site} is not a candidate site")
                    continue
                if site in places:
                    bad.append(f"{where}: {site} is open already")
                cand = cands[site]
                fixed = (
                    cand.fixed_cost_cny if cand.fixed_cost_cny is not None else costs.per_site_cny
                )
                if count != 1 or not _close(cost, fixed):
                    bad.append(f"{where}: count {count}, cost {cost}; opening costs {fixed}")
                places[site] = dict.fromkeys(groups, 0)
                staff[site] = dict.fromkeys(ROLES, 0)
                continue
            if site not in places:
                bad.append(f"{where}: {site} is not open")
                continue
            if action == "empty":
                empty_rows[site] = count
                if count < 0 or not _close(cost, count * ph.empty_place_year_cny):
                    bad.append(f"{where}: {count} empty place-years cost {cost}")
                continue
            what = str(r["role"] if action in ("hire", "let_go", "staff") else r["age_class"])
            if action in ("add", "convert", "release"):
                if what not in groups:
                    bad.append(f"{where}: {what!r} is not an age class")
                    continue
                n = round(count)
                want = {
                    "add": n * place if n > 0 else math.nan,
                    "release": n * saving if n < 0 else math.nan,
                    "convert": (n * conv if n > 0 else 0.0) if n != 0 else math.nan,
                }[action]
                if n != count or not _close(cost, want):
                    bad.append(f"{where} {what}: count {count}, cost {cost} (expected {want})")
                places[site][what] += n
                moves.setdefault(site, {}).setdefault(action, 0)
                moves[site].setdefault("up", 0)
                moves[site].setdefault("down", 0)
                if action == "convert":
                    moves[site]["up" if n > 0 else "down"] += abs(n)
                else:
                    moves[site][action] += abs(n)
                continue
            if what not in ROLES:
                bad.append(f"{where}: {what!r} is not a role")
                continue
            n = round(count)
            if action == "staff":
                staffed.setdefault(site, {})[what] = n
                if not _close(cost, n * salary[what]):
                    bad.append(
                        f"{where} {what}: {n} caregivers cost {cost}, not {n * salary[what]}"
                    )
                continue
            want = n * ph.hire_cost_cny if action == "hire" else -n * ph.let_go_cost_cny
            if (action == "hire") != (n > 0) or n != count or not _close(cost, want):
                bad.append(f"{where} {what}: count {count}, cost {cost} (expected {want})")
            staff[site][what] += n
            hires += max(0, n)
        # conversions: paired as phase_rows pairs them
        for site, mv in moves.items():
            up, down = mv.get("up", 0), mv.get("down", 0)
            if up != down:
                bad.append(f"{y} {site}: {up} places converted to a class but {down} from one")
            if converts(scenario):
                if mv.get("add", 0) and mv.get("release", 0):
                    bad.append(f"{y} {site}: places added and released, not converted")
            elif up:
                bad.append(
                    f"{y} {site}: places converted, but converting costs more than "
                    "adding and releasing"
                )
        if ph.max_hires_per_year is not None and hires > ph.max_hires_per_year:
            bad.append(f"{y}: {hires} caregivers hired > at most {ph.max_hires_per_year}")
        total_places = 0
        for site in places:
            p, s = places[site], staff[site]
            total_places += sum(p.values())
            for a, n in p.items():
                if n < 0:
                    bad.append(f"{y} {site}: {n} places of {a}")
            for rl in ROLES:
                have = staffed.get(site, {}).get(rl, 0)
                if have != s[rl]:
                    bad.append(f"{y} {site}: staff rows say {have} {rl}, the changes {s[rl]}")
                if s[rl] < 0:
                    bad.append(f"{y} {site}: {s[rl]} {rl}")
                if site in facs and s[rl] < getattr(facs[site].staff, rl):
                    bad.append(
                        f"{y} {site}: {s[rl]} {rl} < the {getattr(facs[site].staff, rl)} "
                        "employed now (existing caregivers are kept)"
                    )
            area = sum(groups[a].area_m2_per_child * n for a, n in p.items())
            if site in cands:
                c = cands[site]
                if sum(p.values()) > c.max_places:
                    bad.append(f"{y} {site}: {sum(p.values())} places > max_places {c.max_places}")
                if c.area_m2 is not None and area > c.area_m2 + TOL:
                    bad.append(f"{y} {site}: places need {area:,.1f} m² > area {c.area_m2:,.1f} m²")
            else:
                f = facs[site]
                area0 = sum(groups[a].area_m2_per_child * n for a, n in f.places.items())
                limit = area0 if f.area_m2 is None else max(f.area_m2, area0)
                if area > limit + TOL:
                    bad.append(f"{y} {site}: places need {area:,.1f} m² > {limit:,.1f} m²")
            need = sum(math.ceil(n / groups[a].ratio) for a, n in p.items())
            if s["teacher"] + s["nursery"] < need:
                bad.append(f"{y} {site}: {s['teacher'] + s['nursery']} direct caregivers < {need}")
            need_h = scenario.staff.min_health_per_facility
            if sum(p.values()) >= scenario.staff.full_time_health_from_children:
                need_h = max(need_h, 1)
            if s["health"] < need_h:
                bad.append(f"{y} {site}: {s['health']} health staff < {need_h} required")
        year_sc = by_year[y]
        target = ph.per_1000_in(y, scenario.targets.places_per_1000)
        pop = sum(c.population for c in year_sc.communities)
        if target is not None and pop and 1000.0 * total_places / pop < target - 1e-9:
            bad.append(f"{y}: {1000.0 * total_places / pop:.4f} places per 1,000 < {target}")
        if plans is not None and y in plans:
            bad += _check_assignment(
                year_sc, y, plans[y], places, staff, empty_rows, ph, target, _demand, verify_plan
            )
    if budget_cny is not None and total > budget_cny * (1 + 1e-9) + TOL:
        bad.append(f"present cost {total:,.2f} exceeds the budget {budget_cny:,.2f}")
    return bad


def _check_assignment(
    year_sc: Scenario,
    y: int,
    plan: Plan,
    places: Mapping[str, Mapping[str, int]],
    staff: Mapping[str, Mapping[str, int]],
    empty_rows: Mapping[str, float],
    ph: Phasing,
    target: float | None,
    demand_of: Any,
    verify_plan: Any,
) -> list[str]:
    """One year's assignment (from ``plan``) against the network rebuilt from the rows."""
    bad: list[str] = []
    given = {s.id: s for s in plan.sites}
    if set(given) != set(places):
        bad.append(
            f"{y}: the plan's open sites differ from the rows' ({sorted(set(given) ^ set(places))})"
        )
    sites = []
    for sid, p in places.items():
        s = given.get(sid)
        if s is not None and dict(s.places) != dict(p):
            bad.append(f"{y} {sid}: the plan's places {s.places} are not the rows' {dict(p)}")
        sites.append(
            SitePlan(
                sid,
                "existing" if sid in {f.id for f in year_sc.facilities} else "new",
                dict(p),
                dict(p),
                None if s is None else s.walk_in_places,
                dict(staff[sid]),
                dict(staff[sid]),
                0.0,
            )
        )
    targets = {**plan.targets, "budget_cny": None, "places_per_1000": target}
    # nothing added against itself: the one-year cost is the new sites' opening cost
    opening = sum(_site_cost(year_sc, s.id) for s in sites if s.kind == "new")
    static = dataclasses.replace(plan, sites=tuple(sites), cost_cny=opening, targets=targets)
    bad += [f"{y}: {line}" for line in verify_plan(year_sc, static)]
    enrolled, walk = demand_of(year_sc)
    used: dict[str, float] = dict.fromkeys(places, 0.0)
    for cid, sid, share in plan.assignment:
        if sid in used:
            used[sid] += share * (sum(enrolled[cid].values()) + sum(walk[cid].values()))
    for sid, p in places.items():
        n = sum(p.values())
        if ph.min_utilization > 0 and used[sid] < ph.min_utilization * n - 1e-6 * max(1.0, n):
            bad.append(
                f"{y} {sid}: {used[sid]:.4f} places' worth in use of {n} places < "
                f"utilization {ph.min_utilization}"
            )
        if ph.empty_place_year_cny > 0:
            e = max(0.0, n - used[sid])
            if abs(e - empty_rows.get(sid, 0.0)) > 1e-6 * max(1.0, n):
                said = empty_rows.get(sid, 0.0)
                bad.append(f"{y} {sid}: {said} empty places in the rows, {e:.6f} by the plan")
    return bad

"""The data every allocation model reads: demand, sites, sparse pairs, costs.

:func:`build_instance` turns a :class:`~tuoyu_sim.scenario.Scenario` into plain
NumPy arrays once, so that the models, the pre-solve checks and the independent
checker all see the same numbers.

Units
-----
* Enrolled demand ``enrolled[i, a]`` is in **places**: children under three x
  age share x propensity of each enrolled care type x the place share of that
  type (a half-day child holds half a place).
* Walk-in load ``walk_in[i, a]`` is in **erlangs** (the mean number of walk-in
  children that would be present if nobody were turned away): arrivals per
  child per open day x children x age share x mean stay hours / hours of the
  care type's arrival window (the opening hours when it has none).
* ``site_presence[j, a, s]`` is the share of a site's enrolled places of class
  ``a`` in use in segment ``s`` of the day (:mod:`tuoyu_sim.staffing`), from the
  mix of enrolled care types among the communities within reach.
* Distances in metres; costs in yuan (CNY); caregiver costs over
  ``costs.years``.
* ``demand[i] = sum_a enrolled[i, a] + walk_in[i, a]`` — the places' worth of
  demand a community brings. It weights the coverage-share target. With no
  walk-in demand it is exactly the spec's "enrolled demand".

Only community–site pairs within the service radius are kept (a KD-tree
query, :func:`tuoyu_sim.geography.pairs_within`); no dense matrix is built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tuoyu_sim.allocate.walkin import WalkInShape, walk_in_shape
from tuoyu_sim.demand import stay_distribution
from tuoyu_sim.errors import UserError
from tuoyu_sim.geography import DecayKind, Pairs, decay_factor, pairs_within, sites
from tuoyu_sim.scenario import ROLES, Scenario
from tuoyu_sim.staffing import StaffingRule, shift_counts, staffing_rule
from tuoyu_sim.takeup import at_fees


@dataclass(frozen=True)
class Instance:
    """One allocation problem in arrays (read-only by convention).

    Sites are the existing facilities (indices ``0 .. n_existing - 1``) followed
    by the candidate sites.
    """

    scenario: Scenario
    radius_m: float
    community_ids: tuple[str, ...]
    site_ids: tuple[str, ...]
    n_existing: int
    classes: tuple[str, ...]
    population: np.ndarray
    """Residents per community, shape (I,)."""
    under3: np.ndarray
    """Children under three per community, shape (I,)."""
    enrolled: np.ndarray
    """Enrolled demand in places, shape (I, A)."""
    walk_in: np.ndarray
    """Walk-in load in erlangs, shape (I, A)."""
    pairs: Pairs
    """Community -> site pairs within ``radius_m`` (rows: communities, cols: sites)."""
    decay: np.ndarray
    """Distance-decay factor in [0, 1] of each pair (all 1 without decay)."""
    places0: np.ndarray
    """Existing places, shape (J, A) (zero at candidate sites)."""
    staff0: np.ndarray
    """Existing staff by role (``ROLES`` order), shape (J, 3)."""
    add_cap: np.ndarray
    """Most places that may be added at each site, shape (J,)."""
    area_free_m2: np.ndarray
    """Floor area still free for added places, shape (J,) (``inf`` when not given)."""
    area_per_child_m2: np.ndarray
    """Floor area per child by class, shape (A,)."""
    ratio: np.ndarray
    """Children per direct caregiver by class, shape (A,)."""
    site_cost: np.ndarray
    """Cost of opening each site, shape (J,) (zero for existing facilities)."""
    place_cost: float
    role_cost: np.ndarray
    """Cost of one added caregiver of each role over the horizon, shape (3,)."""
    min_health: int
    full_time_health_from: int
    max_turn_away: float
    decay_kind: DecayKind
    rule: StaffingRule
    """The staffing rule (segments of the day, presence shares, absence)."""
    site_presence: np.ndarray
    """Presence share of each site's enrolled places by class and segment, shape
    (J, A, S) (see Units)."""
    shifts0: np.ndarray
    """Existing direct caregivers on each shift, shape (J, shifts) (zero at candidates)."""
    walk_in_shape: WalkInShape | None
    """Walk-in load through the day (None: steady; :mod:`.walkin`)."""

    @property
    def n_communities(self) -> int:
        return len(self.community_ids)

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def is_candidate(self) -> np.ndarray:
        """Boolean mask over sites: candidate (True) or existing facility (False)."""
        mask = np.zeros(self.n_sites, dtype=bool)
        mask[self.n_existing :] = True
        return mask

    @property
    def demand(self) -> np.ndarray:
        """Places' worth of demand per community (enrolled + walk-in), shape (I,)."""
        return np.asarray(self.enrolled.sum(axis=1) + self.walk_in.sum(axis=1))

    def class_add_cap(self) -> np.ndarray:
        """Most places of each class that may be added at each site, shape (J, A):
        at most ``add_cap`` and what the free floor area holds at the class's m² per
        child, :math:`u_{ja} = \\min(u_j, \\lfloor m_j / \\alpha_a \\rfloor)`."""
        by_area = np.floor(self.area_free_m2[:, None] / self.area_per_child_m2[None, :] + 1e-9)
        ub = np.minimum(self.add_cap[:, None].astype(float), by_area)
        return np.maximum(0.0, ub).astype(np.int64)

    @property
    def places0_total(self) -> int:
        return int(self.places0.sum())

    def places_needed_per_1000(self, target: float | None) -> float:
        """Places to add to reach ``target`` places per 1,000 residents (>= 0)."""
        if target is None:
            return 0.0
        need = target * float(self.population.sum()) / 1000.0 - self.places0_total
        return max(0.0, need)


def _window_hours(scenario: Scenario, care_type: str) -> float:
    ct = scenario.care_types[care_type]
    lo, hi = (
        ct.window
        if ct.window is not None
        else (scenario.simulation.open, scenario.simulation.close)
    )
    return (hi - lo) / 60.0


def build_instance(
    scenario: Scenario,
    *,
    radius_m: float | None = None,
    decay: DecayKind | Literal["auto"] = "auto",
    beta: float | None = None,
) -> Instance:
    """Arrays of one allocation problem.

    Parameters
    ----------
    scenario
        A validated scenario.
    radius_m
        Service radius in metres (> 0); default ``geography.service_radius_m``.
    decay
        Distance decay of demand: ``"auto"`` follows the scenario
        (``geography.assignment = "decay"`` uses ``geography.decay``), ``"off"``
        counts all demand within the radius fully.
    beta
        Decay parameter; default ``geography.decay.beta``.
    """
    scenario = at_fees(scenario)  # demand at the scenario's fees; itself without [takeup]
    geo = scenario.geography
    radius = float(radius_m if radius_m is not None else geo.service_radius_m)
    if not math.isfinite(radius) or radius <= 0:
        raise UserError(f"radius_m {radius_m}: a distance in metres > 0")
    if decay == "auto":
        kind: DecayKind = geo.decay.kind if geo.assignment == "decay" else "off"
    else:
        kind = decay
    b = float(beta if beta is not None else geo.decay.beta)
    if kind != "off" and (not math.isfinite(b) or b <= 0):
        raise UserError(f"beta {beta}: a decay parameter > 0")

    comms = scenario.communities
    targets = sites(scenario)
    classes = tuple(scenario.age_groups)
    n_c, n_a, n_j = len(comms), len(classes), len(targets)
    n_f = len(scenario.facilities)

    rule = staffing_rule(scenario)
    type_index = {t: k for k, t in enumerate(rule.care_types)}
    enrolled = np.zeros((n_c, n_a))
    by_type = np.zeros((n_c, len(rule.care_types), n_a))
    walk_in = np.zeros((n_c, n_a))
    walk_factor: dict[str, float] = {}
    for t, ct in scenario.care_types.items():
        if ct.mode == "walk_in":
            stay_h = stay_distribution(ct.stay).mean_minutes / 60.0
            walk_factor[t] = stay_h / _window_hours(scenario, t)
    for i, c in enumerate(comms):
        u = c.under3
        for a_idx, a in enumerate(classes):
            share = c.age_mix.get(a, 0.0)
            if share <= 0:
                continue
            for t, p in c.demand.items():
                if p <= 0:
                    continue
                if scenario.care_types[t].mode == "enrolled":
                    held = u * share * p * scenario.place_share(t)
                    enrolled[i, a_idx] += held
                    by_type[i, type_index[t], a_idx] += held
                else:
                    walk_in[i, a_idx] += u * share * p * walk_factor[t]

    pairs = pairs_within(scenario, comms, targets, radius)
    factor = decay_factor(pairs.dist_m, kind, b, radius)
    # each site's mix of enrolled care types: the communities within reach (the
    # district's where none is)
    district = rule.presence_mix(by_type.sum(axis=0))
    reach_mix = np.zeros((n_j, len(rule.care_types), n_a))
    np.add.at(reach_mix, pairs.cols, by_type[pairs.rows])
    site_presence = (
        np.stack([rule.presence_mix(reach_mix[j], district).T for j in range(n_j)])
        if n_j
        else np.zeros((0, n_a, len(rule.segments)))
    )

    places0 = np.zeros((n_j, n_a), dtype=np.int64)
    staff0 = np.zeros((n_j, len(ROLES)), dtype=np.int64)
    shifts0 = np.zeros((n_j, len(rule.shift_names)), dtype=np.int64)
    add_cap = np.zeros(n_j, dtype=np.int64)
    area_free = np.full(n_j, np.inf)
    site_cost = np.zeros(n_j)
    area_pc = np.array([scenario.age_groups[a].area_m2_per_child for a in classes])
    min_area = float(area_pc.min()) if n_a else 1.0
    for j, f in enumerate(scenario.facilities):
        for a_idx, a in enumerate(classes):
            places0[j, a_idx] = f.places.get(a, 0)
        staff0[j] = [f.staff.teacher, f.staff.nursery, f.staff.health]
        shifts0[j] = shift_counts(scenario, f)
        if f.area_m2 is None:
            add_cap[j] = 0  # no floor area given: the facility is not expanded
            area_free[j] = 0.0
        else:
            used = float(places0[j] @ area_pc)
            area_free[j] = max(0.0, f.area_m2 - used)
            add_cap[j] = math.floor(area_free[j] / min_area + 1e-9)
    for k, s in enumerate(scenario.candidate_sites):
        j = n_f + k
        add_cap[j] = s.max_places
        if s.area_m2 is not None:
            area_free[j] = s.area_m2
            add_cap[j] = min(add_cap[j], math.floor(s.area_m2 / min_area + 1e-9))
        site_cost[j] = (
            s.fixed_cost_cny if s.fixed_cost_cny is not None else scenario.costs.per_site_cny
        )
    rc = scenario.costs.per_caregiver_year_cny
    years = scenario.costs.years
    role_cost = np.array([rc.teacher * years, rc.nursery * years, rc.health * years])
    return Instance(
        scenario=scenario,
        radius_m=radius,
        community_ids=tuple(c.id for c in comms),
        site_ids=tuple(t.id for t in targets),
        n_existing=n_f,
        classes=classes,
        population=np.array([c.population for c in comms], dtype=float),
        under3=np.array([c.under3 for c in comms], dtype=float),
        enrolled=enrolled,
        walk_in=walk_in,
        pairs=pairs,
        decay=factor,
        places0=places0,
        staff0=staff0,
        add_cap=add_cap,
        area_free_m2=area_free,
        area_per_child_m2=area_pc,
        ratio=np.array([scenario.age_groups[a].ratio for a in classes], dtype=np.int64),
        site_cost=site_cost,
        place_cost=float(scenario.costs.per_place_cny),
        role_cost=role_cost,
        min_health=scenario.staff.min_health_per_facility,
        full_time_health_from=scenario.staff.full_time_health_from_children,
        max_turn_away=scenario.targets.max_turn_away,
        decay_kind=kind,
        rule=rule,
        site_presence=site_presence,
        shifts0=shifts0,
        walk_in_shape=walk_in_shape(scenario),
    )


def segment_loads(inst: Instance, added: np.ndarray, walk: np.ndarray) -> np.ndarray:
    """Places' worth of children present at each site by class and segment of the
    day, shape (J, A, S), by the staffing rule (:mod:`tuoyu_sim.staffing`): the
    places not held for walk-ins by the site's presence mix, the walk-in places
    by the walk-in presence share."""
    places = (inst.places0 + added).astype(float)
    w = np.minimum(walk.astype(float), places)
    out = inst.site_presence * (places - w)[:, :, None] + w[:, :, None] * inst.rule.walk
    return np.clip(out, 0.0, places[:, :, None])


def rosters(inst: Instance, opened: np.ndarray, added: np.ndarray, walk: np.ndarray) -> np.ndarray:
    """Direct caregivers per shift at every site by the staffing rule, shape (J, shifts)
    (zero where the site is not open); never fewer than a facility has now."""
    loads = segment_loads(inst, added, walk)
    out = np.zeros((inst.n_sites, len(inst.rule.shift_names)), dtype=np.int64)
    for j in np.flatnonzero(opened):
        places = inst.places0[j] + added[j]
        out[j] = inst.rule.roster_at(loads[j].T, places, inst.shifts0[j])
    return out


def covered_mask(inst: Instance, open_sites: np.ndarray) -> np.ndarray:
    """Communities within the radius of at least one open site (boolean, shape (I,))."""
    hit = open_sites[inst.pairs.cols]
    covered = np.zeros(inst.n_communities, dtype=bool)
    covered[inst.pairs.rows[hit]] = True
    return covered

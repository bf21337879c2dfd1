"""A plan as values: what each site gets, and its summary, table and scenario.

:class:`Plan` is what ``optimize`` returns; :func:`summary`, :func:`plan_rows`
and :func:`planned_scenario` turn it into ``summary.json``, ``plan.csv`` and
``scenario.planned.toml`` (the input scenario with opened sites turned into
facilities with their places and staff).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuoyu_sim.allocate.coverage import covered_children
from tuoyu_sim.allocate.instance import Instance, rosters
from tuoyu_sim.allocate.solvers import SolveOutcome
from tuoyu_sim.scenario import ROLES, WALK_IN_POOL, Scenario, validate_data


@dataclass(frozen=True)
class SitePlan:
    """One open site after the plan (an existing facility or a newly opened site)."""

    id: str
    kind: str
    """``"existing"`` or ``"new"``."""
    places_before: dict[str, int]
    places: dict[str, int]
    walk_in_places: dict[str, int] | None
    """Places of each class held for walk-in children (None: left as they were)."""
    staff_before: dict[str, int]
    staff: dict[str, int]
    cost_cny: float
    shifts: dict[str, int] | None = None
    """Direct caregivers on each shift by the staffing rule (:mod:`tuoyu_sim.staffing`);
    None without named shifts."""

    @property
    def added_places(self) -> int:
        return sum(self.places.values()) - sum(self.places_before.values())

    @property
    def added_staff(self) -> dict[str, int]:
        return {r: self.staff[r] - self.staff_before[r] for r in ROLES}

    @property
    def changed(self) -> bool:
        return self.kind == "new" or self.added_places > 0 or any(self.added_staff.values())


@dataclass(frozen=True)
class Plan:
    """The result of one optimize run."""

    objective: str
    status: str
    solver: str
    gap: float | None
    solve_seconds: float
    build_seconds: float
    objective_value: float | None
    radius_m: float
    targets: Mapping[str, Any]
    """The targets imposed: coverage_share, min_community_share, places_per_1000,
    budget_cny, max_sites, max_turn_away, decay."""
    sites: tuple[SitePlan, ...]
    assignment: tuple[tuple[str, str, float], ...]
    """(community id, site id, share of the community's demand served there)."""
    cost_cny: float
    covered_children: float
    children_under3: float
    served_share: float | None
    places_per_1000_before: float
    places_per_1000_after: float
    messages: tuple[str, ...] = field(default=())

    @property
    def new_sites(self) -> list[str]:
        return [s.id for s in self.sites if s.kind == "new"]

    @property
    def added_places(self) -> int:
        return sum(s.added_places for s in self.sites)

    @property
    def added_caregivers(self) -> dict[str, int]:
        return {r: sum(s.added_staff[r] for s in self.sites) for r in ROLES}

    @property
    def coverage_share(self) -> float:
        return self.covered_children / self.children_under3 if self.children_under3 else 1.0


def make_plan(
    inst: Instance,
    *,
    objective: str,
    outcome: SolveOutcome,
    build_seconds: float,
    objective_value: float | None,
    targets: Mapping[str, Any],
    opened: np.ndarray,
    added: np.ndarray,
    walk: np.ndarray | None,
    staff: np.ndarray,
    share: np.ndarray,
    messages: tuple[str, ...] = (),
) -> Plan:
    """Assemble a :class:`Plan` from a solve's outcome and its site-indexed
    decision arrays."""
    classes = inst.classes
    sites: list[SitePlan] = []
    total_cost = 0.0
    named = inst.scenario.staff.shifts is not None
    walk_arr = np.zeros_like(added) if walk is None else walk
    roster = rosters(inst, opened, added, walk_arr)
    staff = staff.copy()
    for j in np.flatnonzero(opened).tolist():
        # the solver's direct hires cover the roster; a rounding crumb never leaves
        # it short
        short = int(roster[j].sum()) - int(inst.staff0[j, :2].sum() + staff[j, :2].sum())
        if short > 0:
            staff[j, 0 if inst.role_cost[0] < inst.role_cost[1] else 1] += short
    for j in range(inst.n_sites):
        if not opened[j]:
            continue
        new = j >= inst.n_existing
        before = {a: int(inst.places0[j, k]) for k, a in enumerate(classes)}
        after = {a: int(inst.places0[j, k] + added[j, k]) for k, a in enumerate(classes)}
        sb = {r: int(inst.staff0[j, k]) for k, r in enumerate(ROLES)}
        sa = {r: int(inst.staff0[j, k] + staff[j, k]) for k, r in enumerate(ROLES)}
        cost = (float(inst.site_cost[j]) if new else 0.0) + inst.place_cost * float(added[j].sum())
        cost += float(staff[j] @ inst.role_cost)
        wk = None
        if walk is not None and (new or objective == "min-cost"):
            wk = {a: int(walk[j, k]) for k, a in enumerate(classes)}
        elif new:
            wk = {a: 0 for a in classes}
        shifts = None
        if named:
            counts = roster[j].copy()
            extra = sa["teacher"] + sa["nursery"] - int(counts.sum())
            if extra > 0:  # caregivers beyond the rule (kept from before): the longest shift
                times = inst.rule.shift_times
                counts[int(np.argmax([e - b for b, e in times]))] += extra
            shifts = dict(zip(inst.rule.shift_names, (int(x) for x in counts), strict=True))
        sites.append(
            SitePlan(
                inst.site_ids[j],
                "new" if new else "existing",
                before,
                after,
                wk,
                sb,
                sa,
                cost,
                shifts,
            )
        )
        total_cost += cost
    assignment = tuple(
        (inst.community_ids[inst.pairs.rows[p]], inst.site_ids[inst.pairs.cols[p]], float(share[p]))
        for p in np.flatnonzero(share > 1e-9)
    )
    pop = float(inst.population.sum())
    before_total = inst.places0_total
    after_total = before_total + int(added[opened].sum())
    demand = inst.demand
    served = None
    if objective == "min-cost" and float(demand.sum()) > 0:
        served = float((demand[inst.pairs.rows] * inst.decay * share).sum() / demand.sum())
    return Plan(
        objective=objective,
        status=outcome.status,
        solver=outcome.solver,
        gap=outcome.gap,
        solve_seconds=outcome.seconds,
        build_seconds=build_seconds,
        objective_value=objective_value,
        radius_m=inst.radius_m,
        targets=dict(targets),
        sites=tuple(sites),
        assignment=assignment,
        cost_cny=total_cost,
        covered_children=covered_children(inst, opened),
        children_under3=float(inst.under3.sum()),
        served_share=served,
        places_per_1000_before=1000.0 * before_total / pop if pop else 0.0,
        places_per_1000_after=1000.0 * after_total / pop if pop else 0.0,
        messages=messages,
    )


def versions() -> dict[str, str]:
    """Versions of the engine, Python and the solver stack."""
    import numpy
    import pulp

    from tuoyu_sim import __version__

    out = {
        "tuoyu_sim": __version__,
        "python": platform.python_version(),
        "pulp": str(pulp.__version__),
        "numpy": numpy.__version__,
    }
    try:
        import highspy

        out["highspy"] = str(getattr(highspy, "__version__", "installed"))
    except ImportError:
        pass
    return out


def summary(plan: Plan, scenario: Scenario) -> dict[str, Any]:
    """The ``summary.json`` record of a plan (spec keys plus context)."""
    return {
        "scenario": scenario.name,
        "seed": scenario.simulation.seed,
        "versions": versions(),
        "objective": plan.objective,
        "status": plan.status,
        "solver": plan.solver,
        "gap": plan.gap,
        "solve_seconds": round(plan.solve_seconds, 4),
        "build_seconds": round(plan.build_seconds, 4),
        "objective_value": plan.objective_value,
        "radius_m": plan.radius_m,
        "targets": dict(plan.targets),
        "new_sites": plan.new_sites,
        "added_places": plan.added_places,
        "added_caregivers": plan.added_caregivers,
        "cost": round(plan.cost_cny, 2),
        "covered_children": round(plan.covered_children, 4),
        "children_under3": round(plan.children_under3, 4),
        "coverage_share": round(plan.coverage_share, 6),
        "served_demand_share": None if plan.served_share is None else round(plan.served_share, 6),
        "places_per_1000_before": round(plan.places_per_1000_before, 4),
        "places_per_1000_after": round(plan.places_per_1000_after, 4),
        "sites": [
            {
                "id": s.id,
                "kind": s.kind,
                "places": s.places,
                "places_total": sum(s.places.values()),
                "added_places": s.added_places,
                "walk_in_places": s.walk_in_places,
                "staff": s.staff,
                "added_staff": s.added_staff,
                "cost": round(s.cost_cny, 2),
            }
            for s in plan.sites
        ],
        "messages": list(plan.messages),
    }


def plan_rows(plan: Plan, classes: tuple[str, ...]) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows and columns of ``plan.csv``: one row per new or changed site."""
    cols = ["site", "kind"]
    cols += [f"places_{a}" for a in classes] + [f"added_{a}" for a in classes]
    cols += [f"walk_in_{a}" for a in classes]
    cols += [r for r in ROLES] + [f"added_{r}" for r in ROLES] + ["cost_cny"]
    rows = []
    for s in plan.sites:
        if not s.changed:
            continue
        row: dict[str, Any] = {"site": s.id, "kind": s.kind}
        for a in classes:
            row[f"places_{a}"] = s.places[a]
            row[f"added_{a}"] = s.places[a] - s.places_before[a]
            row[f"walk_in_{a}"] = "" if s.walk_in_places is None else s.walk_in_places[a]
        for r in ROLES:
            row[r] = s.staff[r]
            row[f"added_{r}"] = s.added_staff[r]
        row["cost_cny"] = round(s.cost_cny, 2)
        rows.append(row)
    return rows, cols


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    if total <= 0 or not weights:
        return [0] * len(weights)
    w = np.asarray(weights, dtype=float)
    if w.sum() <= 0:
        w = np.ones_like(w)
    raw = total * w / w.sum()
    out = np.floor(raw).astype(int)
    for k in np.argsort(-(raw - out), kind="stable")[: total - int(out.sum())]:
        out[k] += 1
    return [int(x) for x in out]


def planned_scenario(plan: Plan, scenario: Scenario) -> Scenario:
    """The scenario with the plan applied (validated).

    Opened sites become facilities (position, name, group and floor area kept;
    places, staff and walk-in reserved places from the plan); existing
    facilities get their added places and caregivers. Shifts (when the
    scenario names them) get the caregivers in proportion to
    ``staff.shifts.*.share``, unless the plan rostered them by the staffing rule.
    Walk-in places are written as ``reserved`` places: one pool shared by every
    walk-in care type (``reserved.walk_in``) when there are several.
    """
    data = scenario.to_dict()
    by_id = {s.id: s for s in plan.sites}
    shift_names = list(scenario.staff.shifts or {})
    shift_share = (
        [scenario.staff.shifts[s].share for s in shift_names] if scenario.staff.shifts else []
    )
    walk_types = [t for t, ct in scenario.care_types.items() if ct.mode == "walk_in"]
    type_load = {t: {a: 0.0 for a in scenario.age_groups} for t in walk_types}
    for c in scenario.communities:
        for t in walk_types:
            for a, mix in c.age_mix.items():
                type_load[t][a] += c.under3 * mix * c.demand.get(t, 0.0)

    def reserved_for(wk: dict[str, int]) -> dict[str, dict[str, int]]:
        if len(walk_types) > 1:
            # one pool every walk-in type shares: the places were sized for the
            # pooled load (Erlang B), and pools split by type would turn more away
            pooled = {a: n for a, n in wk.items() if n > 0}
            return {WALK_IN_POOL: pooled} if pooled else {}
        out: dict[str, dict[str, int]] = {}
        for a, n in wk.items():
            split = _largest_remainder(n, [type_load[t][a] for t in walk_types])
            for t, k in zip(walk_types, split, strict=True):
                if k > 0:
                    out.setdefault(t, {})[a] = k
        return out

    def shifts_for(direct_total: int, current: dict[str, int] | None) -> dict[str, int] | None:
        if not shift_names:
            return None
        base = dict(current) if current else {s: 0 for s in shift_names}
        extra = direct_total - sum(base.values())
        for s, k in zip(shift_names, _largest_remainder(max(0, extra), shift_share), strict=True):
            base[s] = base.get(s, 0) + k
        return base

    for f in data["facilities"]:
        s = by_id.get(f["id"])
        if s is None:
            continue
        f["places"] = {a: n for a, n in s.places.items() if n > 0 or a in f.get("places", {})}
        f["staff"] = dict(s.staff)
        if s.walk_in_places is not None and walk_types:
            res = reserved_for(s.walk_in_places)
            if res:
                f["reserved"] = res
            else:
                f.pop("reserved", None)
        if s.shifts is not None:
            f["shifts"] = dict(s.shifts)
        elif "shifts" in f or shift_names:
            sh = shifts_for(s.staff["teacher"] + s.staff["nursery"], f.get("shifts"))
            if sh is not None:
                f["shifts"] = sh
    keep = []
    new_facilities = []
    for c in data.get("candidate_sites", []):
        s = by_id.get(c["id"])
        if s is None:
            keep.append(c)
            continue
        fac: dict[str, Any] = {
            k: c[k]
            for k in ("id", "name", "group", "x_m", "y_m", "lon", "lat", "area_m2")
            if k in c
        }
        fac["places"] = {a: n for a, n in s.places.items() if n > 0}
        fac["staff"] = dict(s.staff)
        if s.walk_in_places is not None and walk_types:
            res = reserved_for(s.walk_in_places)
            if res:
                fac["reserved"] = res
        sh = (
            dict(s.shifts)
            if s.shifts is not None
            else shifts_for(s.staff["teacher"] + s.staff["nursery"], None)
        )
        if sh is not None:
            fac["shifts"] = sh
        new_facilities.append(fac)
    data["facilities"] = [*data["facilities"], *new_facilities]
    data["candidate_sites"] = keep
    if plan.new_sites or plan.added_places:
        data["description"] = (
            data.get("description", "") + "\n" if data.get("description") else ""
        ) + (
            f"Plan applied by tuoyu-sim optimize ({plan.objective}, {plan.status}): "
            f"{len(plan.new_sites)} new sites, {plan.added_places} added places."
        )
    base = scenario.source.parent if scenario.source is not None else None
    planned = validate_data(data, scenario.source, base_dir=base)
    planned._matrix = scenario.matrix()
    return planned


@dataclass(frozen=True)
class MapPoint:
    """A point to draw: id, coordinates (x, y in metres or lon, lat in degrees), value."""

    id: str
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class MapData:
    """What the plan map draws (computed here, so the plot only draws)."""

    degrees: bool
    radius_m: float
    communities: tuple[MapPoint, ...]
    """value: children under three."""
    unmet: tuple[MapPoint, ...]
    """value: demand (places' worth) not served (min-cost) or children not covered."""
    existing: tuple[MapPoint, ...]
    """value: places after the plan."""
    new: tuple[MapPoint, ...]
    """value: places at the new site."""
    closed_candidates: tuple[MapPoint, ...]
    title: str


def _xy(p: Any, degrees: bool) -> tuple[float, float]:
    return (float(p.lon), float(p.lat)) if degrees else (float(p.x_m), float(p.y_m))


def map_data(plan: Plan, inst: Instance) -> MapData:
    """Points, values and unmet demand for :func:`tuoyu_sim.plots.maps.plan_map`."""
    from tuoyu_sim.allocate.instance import covered_mask

    sc = inst.scenario
    degrees = sc.geography.distance == "haversine"
    open_ids = {s.id: s for s in plan.sites}
    opened = np.array([sid in open_ids for sid in inst.site_ids])
    if plan.objective == "min-cost":
        served = dict.fromkeys(inst.community_ids, 0.0)
        for cid, _sid, sh in plan.assignment:
            served[cid] += sh
        unmet_v = [
            max(0.0, 1.0 - served[c.id]) * float(inst.demand[i])
            for i, c in enumerate(sc.communities)
        ]
    else:
        cov = covered_mask(inst, opened)
        unmet_v = [0.0 if cov[i] else float(inst.under3[i]) for i in range(inst.n_communities)]
    comms = tuple(
        MapPoint(c.id, *_xy(c, degrees), float(inst.under3[i]))
        for i, c in enumerate(sc.communities)
    )
    unmet = tuple(
        MapPoint(c.id, *_xy(c, degrees), v)
        for c, v in zip(sc.communities, unmet_v, strict=True)
        if v > 1e-6
    )
    existing = tuple(
        MapPoint(f.id, *_xy(f, degrees), float(sum(open_ids[f.id].places.values())))
        for f in sc.facilities
    )
    new = tuple(
        MapPoint(s.id, *_xy(s, degrees), float(sum(open_ids[s.id].places.values())))
        for s in sc.candidate_sites
        if s.id in open_ids
    )
    closed = tuple(
        MapPoint(s.id, *_xy(s, degrees), 0.0) for s in sc.candidate_sites if s.id not in open_ids
    )
    title = (
        f"{sc.name} — {plan.objective} ({plan.status}): {len(plan.new_sites)} new sites, "
        f"+{plan.added_places} places"
    )
    return MapData(
        degrees,
        plan.radius_m / sc.geography.detour_factor,
        comms,
        unmet,
        existing,
        new,
        closed,
        title,
    )

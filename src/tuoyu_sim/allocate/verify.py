"""An independent checker: recompute every constraint of a plan from the plan alone.

It does not reuse the model, the instance arrays or the KD-tree: demand is
derived again from the scenario's communities, distances from
:func:`tuoyu_sim.geography.distance_m`, turn-away from
:func:`tuoyu_sim.queueing.erlang_b`, costs from ``[costs]``. A plan that passes
serves demand only within the radius and at open sites, never more than the
places there, keeps walk-in turn-away at or below the target, respects
``max_places`` and floor areas, meets the ratio and health-staff rules, the
coverage, floor and per-1,000 targets, the budget, and reports its true cost.
"""

from __future__ import annotations

import math
from collections import defaultdict

from tuoyu_sim.allocate.results import Plan
from tuoyu_sim.allocate.walkin import walk_in_shape
from tuoyu_sim.demand import stay_distribution
from tuoyu_sim.geography import distance_m
from tuoyu_sim.queueing import erlang_b
from tuoyu_sim.scenario import Scenario
from tuoyu_sim.takeup import at_fees

TOL = 1e-6


def _decay(d: float, kind: str, beta: float, radius: float) -> float:
    # A deliberate second copy of tuoyu_sim.geography.decay_factor: the checker
    # recomputes everything itself, so a mistake there is not shared here.
    if kind == "off":
        return 1.0
    if kind == "linear":
        return min(1.0, max(0.0, 1.0 - d / radius))
    if kind == "power":
        return min(1.0, max(d, 1.0) ** (-beta))
    return math.exp(-beta * d)


def _demand(scenario: Scenario) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Enrolled places and walk-in erlangs by community and class."""
    scenario = at_fees(scenario)  # take-up is an input here, not what is checked
    enrolled: dict[str, dict[str, float]] = {}
    walk: dict[str, dict[str, float]] = {}
    sim = scenario.simulation
    for c in scenario.communities:
        e = dict.fromkeys(scenario.age_groups, 0.0)
        w = dict.fromkeys(scenario.age_groups, 0.0)
        for t, p in c.demand.items():
            ct = scenario.care_types[t]
            for a, share in c.age_mix.items():
                kids = c.under3 * share * p
                if ct.mode == "enrolled":
                    e[a] += kids * scenario.place_share(t)
                else:
                    lo, hi = ct.window if ct.window is not None else (sim.open, sim.close)
                    w[a] += kids * stay_distribution(ct.stay).mean_minutes / (hi - lo)
        enrolled[c.id], walk[c.id] = e, w
    return enrolled, walk


def _site_cost(fixed: float | None, default: float) -> float:
    return default if fixed is None else fixed


def verify_plan(scenario: Scenario, plan: Plan) -> list[str]:
    """Every constraint the plan breaks, as readable lines (empty: the plan holds)."""
    bad: list[str] = []
    t = plan.targets
    radius = plan.radius_m
    comms = {c.id: c for c in scenario.communities}
    facs = {f.id: f for f in scenario.facilities}
    cands = {s.id: s for s in scenario.candidate_sites}
    groups = scenario.age_groups
    beta = scenario.targets.max_turn_away
    open_sites = {s.id: s for s in plan.sites}
    enrolled, walk = _demand(scenario)
    decay_kind = str(t.get("decay", "off"))
    decay_beta = float(t.get("decay_beta", scenario.geography.decay.beta))

    # every existing facility stays open; new sites are candidates
    for f in scenario.facilities:
        if f.id not in open_sites:
            bad.append(f"existing facility {f.id} is missing from the plan")
    for s in plan.sites:
        if s.kind == "new" and s.id not in cands:
            bad.append(f"new site {s.id} is not a candidate site")

    # assignment: within the radius, at open sites, shares add to at most 1
    load_e: dict[tuple[str, str], float] = defaultdict(float)
    load_w: dict[tuple[str, str], float] = defaultdict(float)
    served_by: dict[str, float] = defaultdict(float)
    served_w: dict[str, float] = defaultdict(float)
    for cid, sid, share in plan.assignment:
        if share < -TOL or share > 1 + TOL:
            bad.append(f"share of {cid} at {sid} is {share}, outside [0, 1]")
        if sid not in open_sites:
            bad.append(f"{cid} is served at {sid}, which is not open")
            continue
        site = facs.get(sid) or cands.get(sid)
        assert site is not None
        d = distance_m(scenario, comms[cid], site)
        if d > radius * (1 + 1e-9):
            bad.append(f"{cid} is served at {sid}, {d:,.1f} m away, beyond {radius:,.1f} m")
        served_by[cid] += share
        served_w[cid] += share * _decay(d, decay_kind, decay_beta, radius)
        for a in groups:
            load_e[(sid, a)] += enrolled[cid][a] * share
            load_w[(sid, a)] += walk[cid][a] * share
    for cid, tot in served_by.items():
        if tot > 1 + TOL:
            bad.append(f"{cid} is served {tot:.6f} times over (shares add to more than 1)")

    # each site: capacity, walk-in sizing, max places, area, ratios, health
    cost = 0.0
    costs = scenario.costs
    rc = costs.per_caregiver_year_cny
    role_cost = {
        "teacher": rc.teacher * costs.years,
        "nursery": rc.nursery * costs.years,
        "health": rc.health * costs.years,
    }
    shape = walk_in_shape(scenario)
    for s in plan.sites:
        total = sum(s.places.values())
        before_total = sum(s.places_before.values())
        for a in groups:
            if s.places.get(a, 0) < s.places_before.get(a, 0):
                bad.append(f"{s.id}: places of {a} fall from {s.places_before[a]} to {s.places[a]}")
            wk = (s.walk_in_places or {}).get(a, 0)
            used = load_e[(s.id, a)] + wk
            if used > s.places.get(a, 0) + TOL:
                bad.append(
                    f"{s.id}: {a} enrolled demand {load_e[(s.id, a)]:.4f} + walk-in places "
                    f"{wk} exceed its {s.places.get(a, 0)} places"
                )
            if load_w[(s.id, a)] > TOL and s.walk_in_places is not None:
                # with an hourly profile, the day's turn-away of the time-varying load
                # (the model's sizing, .walkin); else Erlang B
                b = (
                    shape.turn_away(int(wk), load_w[(s.id, a)])
                    if shape is not None
                    else erlang_b(int(wk), load_w[(s.id, a)])
                )
                if b > beta + 1e-9:
                    bad.append(
                        f"{s.id}: {a} walk-in load {load_w[(s.id, a)]:.4f} erlangs on {wk} "
                        f"places turns away {b:.4f} > {beta}"
                    )
        for r in ("teacher", "nursery", "health"):
            if s.staff[r] < s.staff_before[r]:
                bad.append(f"{s.id}: {r} staff fall from {s.staff_before[r]} to {s.staff[r]}")
        added = total - before_total
        area_used = sum(groups[a].area_m2_per_child * n for a, n in s.places.items())
        area_before = sum(groups[a].area_m2_per_child * n for a, n in s.places_before.items())
        if s.kind == "new":
            cand = cands[s.id]
            if total > cand.max_places:
                bad.append(f"{s.id}: {total} places exceed max_places {cand.max_places}")
            if cand.area_m2 is not None and area_used > cand.area_m2 + TOL:
                bad.append(f"{s.id}: places need {area_used:,.1f} m² > area {cand.area_m2:,.1f} m²")
            site_cost = (
                cand.fixed_cost_cny if cand.fixed_cost_cny is not None else costs.per_site_cny
            )
            cost += site_cost
        else:
            fac = facs[s.id]
            if added > 0 and fac.area_m2 is None:
                bad.append(f"{s.id}: {added} places added to a facility without a floor area")
            if (
                added > 0
                and fac.area_m2 is not None
                and area_used > max(fac.area_m2, area_before) + TOL
            ):
                bad.append(f"{s.id}: places need {area_used:,.1f} m² > area {fac.area_m2:,.1f} m²")
        direct_need = sum(math.ceil(n / groups[a].ratio) for a, n in s.places.items())
        direct = s.staff["teacher"] + s.staff["nursery"]
        if direct < direct_need and (s.kind == "new" or plan.objective == "min-cost"):
            bad.append(f"{s.id}: {direct} direct caregivers < {direct_need} the ratios need")
        if s.kind == "new" or plan.objective == "min-cost":
            need_h = scenario.staff.min_health_per_facility
            if total >= scenario.staff.full_time_health_from_children:
                need_h = max(need_h, 1)
            if s.staff["health"] < need_h:
                bad.append(f"{s.id}: {s.staff['health']} health staff < {need_h} required")
        cost += costs.per_place_cny * added
        cost += sum(role_cost[r] * (s.staff[r] - s.staff_before[r]) for r in role_cost)
    if abs(cost - plan.cost_cny) > 1e-6 * max(1.0, cost):
        bad.append(f"cost reported {plan.cost_cny:,.2f} but recomputed {cost:,.2f}")

    # district targets
    budget = t.get("budget_cny")
    if budget is not None:
        spent = cost
        if plan.objective == "max-coverage":
            spent = sum(
                _site_cost(cands[s.id].fixed_cost_cny, costs.per_site_cny)
                for s in plan.sites
                if s.kind == "new"
            )
        if spent > float(budget) * (1 + 1e-9) + TOL:
            bad.append(f"cost {spent:,.2f} exceeds the budget {float(budget):,.2f}")
    max_sites = t.get("max_sites")
    if max_sites is not None and len(plan.new_sites) > int(max_sites):
        bad.append(f"{len(plan.new_sites)} new sites > at most {max_sites}")
    if plan.objective == "min-cost":
        weight = {cid: sum(enrolled[cid].values()) + sum(walk[cid].values()) for cid in comms}
        total_d = sum(weight.values())
        served = sum(weight[c] * served_w[c] for c in comms)
        cov = float(t.get("coverage_share") or 0.0)
        if total_d > 0 and served < cov * total_d - 1e-6 * max(1.0, total_d):
            bad.append(f"served demand {served:,.4f} < {cov:.1%} of {total_d:,.4f}")
        floor = float(t.get("min_community_share") or 0.0)
        if floor > 0:
            for c in comms:
                if weight[c] > 0 and served_w[c] < floor - TOL:
                    bad.append(f"{c}: served share {served_w[c]:.4f} < floor {floor}")
        per = t.get("places_per_1000")
        if per is not None:
            pop = sum(c.population for c in scenario.communities)
            have = sum(sum(s.places.values()) for s in plan.sites)
            if pop and 1000.0 * have / pop < float(per) - 1e-9:
                bad.append(f"places per 1,000 {1000.0 * have / pop:.4f} < target {per}")
    if plan.objective == "cover-all" or t.get("cover_every_community"):
        open_pts = [facs.get(s.id) or cands[s.id] for s in plan.sites]
        for comm in scenario.communities:
            if not any(distance_m(scenario, comm, p) <= radius * (1 + 1e-9) for p in open_pts):
                bad.append(f"{comm.id} is not within {radius:,.0f} m of any open site")
    return bad

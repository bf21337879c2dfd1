"""A greedy feasible plan for the min-cost model, used as the solver's warm start.

Communities are served, those with the fewest sites in reach first (then the
largest demand), at the nearest open sites within reach that still have room
(split if need be); when they have none, the candidate within reach with the
lowest site cost per place is opened. Places are then sized per class (enrolled demand rounded up,
walk-in places by Erlang B), caregivers by the ratio rule with the cheaper
direct role, the health rules, and places added where cheapest until the
places-per-1,000 target holds. The start is only handed to the solver if every
constraint of the built model holds for it (:meth:`pulp.LpProblem.valid`), so a
poor or infeasible greedy plan never harms the solve.
"""

from __future__ import annotations

import math

import numpy as np

from tuoyu_sim.allocate.instance import Instance, rosters
from tuoyu_sim.allocate.sizing import places_for


def greedy_start(
    inst: Instance,
    coverage_share: float,
    min_community_share: float,
    places_per_1000: float | None,
) -> dict[str, np.ndarray] | None:
    """Decision arrays of a greedy plan (``opened, added, walk, staff, share``), or None."""
    n_j, n_a = inst.n_sites, len(inst.classes)
    pairs = inst.pairs
    demand = inst.demand
    total = float(demand.sum())
    caps = (inst.places0 + inst.class_add_cap()).astype(float)  # most places by class
    opened = ~inst.is_candidate.copy()
    enrolled = np.zeros((n_j, n_a))
    load = np.zeros((n_j, n_a))
    share = np.zeros(len(pairs))
    bounds = np.searchsorted(pairs.rows, np.arange(inst.n_communities + 1))

    def fits(j: int, i: int, theta: float) -> bool:
        e = enrolled[j] + theta * inst.enrolled[i]
        w = load[j] + theta * inst.walk_in[i]
        tot, _walk = places_for(inst, e, w)
        if np.any(tot > caps[j] + 1e-9):
            return False
        added = np.maximum(0.0, tot - inst.places0[j])
        if added.sum() > inst.add_cap[j]:
            return False
        return not (
            math.isfinite(inst.area_free_m2[j])
            and float(added @ inst.area_per_child_m2) > inst.area_free_m2[j] + 1e-9
        )

    def most(j: int, i: int, want: float) -> float:
        """The largest share (up to ``want``) of community i that site j can still take."""
        if fits(j, i, want):
            return want
        lo, hi = 0.0, want
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if fits(j, i, mid) else (lo, mid)
        return lo

    def take(p: int, i: int, theta: float) -> None:
        j = int(pairs.cols[p])
        enrolled[j] += theta * inst.enrolled[i]
        load[j] += theta * inst.walk_in[i]
        share[p] += theta

    served = 0.0
    must_all = min_community_share > 0 or coverage_share >= 1.0
    n_reach = np.diff(bounds)
    # most constrained first (fewest sites in reach), then largest demand
    for i in np.lexsort((-demand, n_reach)):
        if demand[i] <= 0:
            continue
        if not must_all and served >= coverage_share * total - 1e-9:
            break
        ps = [int(p) for p in range(bounds[i], bounds[i + 1])]
        left = 1.0
        for p in ps:
            if left <= 1e-9:
                break
            if opened[pairs.cols[p]]:
                t = most(int(pairs.cols[p]), int(i), left)
                if t > 1e-9:
                    take(p, int(i), t)
                    left -= t
        while left > 1e-9:
            cands = [p for p in ps if not opened[pairs.cols[p]] and inst.add_cap[pairs.cols[p]] > 0]
            if not cands:
                break
            p = min(
                cands,
                key=lambda q: inst.site_cost[pairs.cols[q]] / max(1, inst.add_cap[pairs.cols[q]]),
            )
            opened[pairs.cols[p]] = True
            t = most(int(pairs.cols[p]), int(i), left)
            if t > 1e-9:
                take(p, int(i), t)
                left -= t
        if must_all and left > 1e-6:
            return None
        served += float(sum(demand[i] * inst.decay[p] * share[p] for p in ps))
    if total > 0 and served < coverage_share * total - 1e-9:
        return None
    walk = np.zeros((n_j, n_a), dtype=np.int64)
    places = inst.places0.astype(float).copy()
    for j in np.flatnonzero(opened).tolist():
        need, walk[j] = places_for(inst, enrolled[j], load[j])
        places[j] = np.maximum(places[j], need)
    added = (places - inst.places0).astype(np.int64)
    # places per 1,000: add where the marginal cost (place + caregivers) is least
    short = math.ceil(inst.places_needed_per_1000(places_per_1000) - added.sum() - 1e-9)
    if short > 0:
        cheapest_class = int(np.argmax(inst.ratio))
        room = [
            (j, caps[j, cheapest_class] - places[j, cheapest_class])
            for j in range(n_j)
            if opened[j]
        ]
        for j, r in sorted(room, key=lambda t: -t[1]):
            n_take = int(min(short, max(0.0, r), inst.add_cap[j] - added[j].sum()))
            if math.isfinite(inst.area_free_m2[j]):
                spare = inst.area_free_m2[j] - float(added[j] @ inst.area_per_child_m2)
                n_take = min(n_take, int(spare // inst.area_per_child_m2[cheapest_class]))
            if n_take > 0:
                added[j, cheapest_class] += n_take
                short -= n_take
            if short <= 0:
                break
        spare_sites = sorted(
            (j for j in range(n_j) if not opened[j] and inst.add_cap[j] > 0),
            key=lambda j: inst.site_cost[j] / inst.add_cap[j],
        )
        for j in spare_sites:
            if short <= 0:
                break
            n_take = int(min(short, caps[j, cheapest_class], inst.add_cap[j]))
            if n_take > 0:
                opened[j] = True
                added[j, cheapest_class] += n_take
                short -= n_take
        if short > 0:
            return None
    staff = np.zeros((n_j, 3), dtype=np.int64)
    role = 0 if inst.role_cost[0] < inst.role_cost[1] else 1
    roster = rosters(inst, opened, added, walk)
    for j in range(n_j):
        if not opened[j]:
            continue
        p = inst.places0[j] + added[j]
        direct = int(roster[j].sum())
        staff[j, role] = max(0, direct - int(inst.staff0[j, 0] + inst.staff0[j, 1]))
        health = inst.min_health
        if p.sum() >= inst.full_time_health_from:
            health = max(health, 1)
        staff[j, 2] = max(0, health - int(inst.staff0[j, 2]))
    return {"opened": opened, "added": added, "walk": walk, "staff": staff, "share": share}

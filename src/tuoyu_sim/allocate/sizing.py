"""Places and caregivers for the sites a covering model opens.

``cover-all`` and ``max-coverage`` choose sites only. A new site is then sized
for the demand of the communities whose nearest open site it is: enrolled
places by class (rounded up), walk-in places by Erlang B for the walk-in load
it receives, capped by ``max_places`` and the floor area (if capped, every
assigned community gets the same smaller share). Caregivers follow the ratio
rule with the cheaper direct role, and the health-staff rules. Existing
facilities are left as they are.
"""

from __future__ import annotations

import math

import numpy as np

from tuoyu_sim.allocate.instance import Instance, rosters
from tuoyu_sim.allocate.walkin import places_for_load


def nearest_open(inst: Instance, opened: np.ndarray) -> np.ndarray:
    """For every pair, True if its site is the community's nearest open site."""
    pairs = inst.pairs
    live = opened[pairs.cols]
    first = np.zeros(len(pairs), dtype=bool)
    seen = np.zeros(inst.n_communities, dtype=bool)
    for p in np.flatnonzero(live):  # pairs are sorted by community, then distance
        i = pairs.rows[p]
        if not seen[i]:
            seen[i] = True
            first[p] = True
    return first


def places_for(
    inst: Instance, enrolled: np.ndarray, load: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Places by class for ``enrolled`` demand (places, rounded up) and walk-in
    ``load`` (erlangs, by Erlang B at the turn-away target), and the walk-in
    places among them; both int (A,)."""
    beta = inst.max_turn_away
    walk = np.array(
        [places_for_load(float(x), beta, inst.walk_in_shape) if beta < 1 else 0 for x in load]
    )
    return np.ceil(enrolled - 1e-9).astype(np.int64) + walk, walk


def staff_for(inst: Instance, places: np.ndarray, direct: int) -> np.ndarray:
    """Least-cost staff (teacher, nursery, health) at a new site with ``places`` by
    class and ``direct`` caregivers (the staffing rule's roster)."""
    health = inst.min_health if places.sum() > 0 else 0
    if places.sum() >= inst.full_time_health_from:
        health = max(health, 1)
    staff = np.zeros(3, dtype=np.int64)
    role = 0 if inst.role_cost[0] < inst.role_cost[1] else 1
    staff[role] = direct
    staff[2] = health
    return staff


def size_new_sites(
    inst: Instance, opened: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(added places, walk-in places, added staff, share per pair)`` for opened sites."""
    n_j, n_a = inst.n_sites, len(inst.classes)
    added = np.zeros((n_j, n_a), dtype=np.int64)
    walk = np.zeros((n_j, n_a), dtype=np.int64)
    staff = np.zeros((n_j, 3), dtype=np.int64)
    share = np.zeros(len(inst.pairs))
    first = nearest_open(inst, opened)
    pairs = inst.pairs
    for j in range(inst.n_existing, n_j):
        if not opened[j]:
            continue
        ps = np.flatnonzero(first & (pairs.cols == j))
        rows = pairs.rows[ps]
        e = inst.enrolled[rows].sum(axis=0)
        w = inst.walk_in[rows].sum(axis=0)

        def fits(theta: float, e: np.ndarray = e, w: np.ndarray = w, j: int = j) -> bool:
            tot, _ = places_for(inst, theta * e, theta * w)
            area_ok = (
                not math.isfinite(inst.area_free_m2[j])
                or float(tot @ inst.area_per_child_m2) <= inst.area_free_m2[j] + 1e-9
            )
            return bool(tot.sum() <= inst.add_cap[j] and area_ok)

        theta = 1.0
        if not fits(1.0):
            lo, hi = 0.0, 1.0
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if fits(mid) else (lo, mid)
            theta = lo
        tot, wk = places_for(inst, theta * e, theta * w)
        added[j], walk[j] = tot, wk
        share[ps] = theta
    new = opened & inst.is_candidate
    roster = rosters(inst, new, added, walk)
    for j in np.flatnonzero(new).tolist():
        staff[j] = staff_for(inst, added[j], int(roster[j].sum()))
    return added, walk, staff, share

r"""The least cost of one site as a function of its enrolled load, and its convex
envelope: the cuts that give the min-cost model's LP relaxation the staircase of
the ceil ratio rule.

With every class's load a fixed share :math:`m_a` of a site's enrolled load
:math:`T`, the cheapest way to carry :math:`T` at site :math:`j` is a step
function :math:`F_j(T)`: the site cost, :math:`\lceil m_a T \rceil - p^0_{ja}`
added places per class, the caregivers the staffing rule rosters for those
places and that load (:mod:`tuoyu_sim.staffing`) less the staff there, the
health staff. The LP
relaxation sees only the straight line through it; with three classes whose
steps never line up, the gap is up to a caregiver per class at every site. Any
line :math:`\alpha T + \beta` below :math:`F_j` on the loads the site can carry
gives a valid cut

.. math::

    c_j o_j + c^p \sum_a x_{ja} + \sum_r c_r y_{jr} \ \ge\ \alpha
        \sum_{i \in N(j)} e_i s_{ij} + \beta o_j

(:math:`e_i` the community's enrolled demand, :math:`o_j \equiv 1` at an
existing facility): at :math:`o_j = 1` the site's cost is at least
:math:`F_j(T) \ge \alpha T + \beta`; at :math:`o_j = 0` both sides are 0. The
facets of the lower convex hull of :math:`F_j` give the tightest such set (the
convex hull of the site's integer points in :math:`(T, \text{cost}, o)`).

When the communities within reach have different age mixes, :math:`m_a` is the
smallest share of class :math:`a` among them: every class load is at least that
share of :math:`T`, and :math:`F_j` only rises with more places, so the cuts
stay valid (only weaker). Walk-in places only add to a class's places, so
leaving walk-in load out of :math:`T` is valid too.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from tuoyu_sim.allocate.instance import Instance

MARGIN_CNY = 1.0
"""Each cut is lowered by this much (yuan), against floating-point round-off."""


def site_curve(
    inst: Instance,
    j: int,
    mix: np.ndarray,
    class_ub: np.ndarray,
    seg_mix: np.ndarray | None = None,
) -> np.ndarray:
    """Points ``(T, F_j(T))`` of the least cost at site ``j`` (open), shape (K, 2).

    ``T`` runs over 0 and every load at which some class needs one more place,
    up to the most the site can carry with class shares ``mix``; ``F_j`` is
    constant between two such loads and takes the value at the right end, so
    the lower hull of these points lies below ``F_j`` on the whole range.
    ``class_ub``: most places that may be added per class at ``j``.

    Caregivers are the staffing rule's roster (:mod:`tuoyu_sim.staffing`): the
    full segments of the day from the places, the others from the places times
    ``seg_mix[a, s]`` (at most the presence share of the load in segment ``s``,
    so the cost is a lower bound). Without ``seg_mix``, only the full segments
    count.
    """
    p0 = inst.places0[j].astype(float)
    live = mix > 0
    if not np.any(live):
        return np.zeros((0, 2))
    tmax = float(np.min((p0[live] + class_ub[live]) / mix[live]))
    rule = inst.rule
    if seg_mix is None:
        seg_mix = np.zeros((len(mix), len(rule.segments)))
    ts = [np.zeros(1)]
    for a in np.flatnonzero(live):
        k = np.arange(1, math.floor(tmax * mix[a] + 1e-9) + 1)
        ts.append(k / mix[a])
    t = np.unique(np.concatenate(ts))
    t = t[t <= tmax + 1e-9]
    places = np.ceil(mix[None, :] * t[:, None] - 1e-9)
    x = np.maximum(0.0, places - p0[None, :])
    ok = np.all(x <= class_ub[None, :], axis=1) & (x.sum(axis=1) <= inst.add_cap[j] + 1e-9)
    if math.isfinite(inst.area_free_m2[j]):
        ok &= x @ inst.area_per_child_m2 <= inst.area_free_m2[j] + 1e-9
    # past the first load the site cannot carry, no larger load fits either
    stop = int(np.argmin(ok)) if not ok.all() else t.size
    t, x = t[:stop], x[:stop]
    total = p0[None, :] + x
    direct = np.array(
        [
            sum(rule.roster_at(seg_mix.T * total[k][None, :], total[k], inst.shifts0[j]))
            for k in range(t.size)
        ],
        dtype=float,
    )
    hires = np.maximum(0.0, direct - inst.staff0[j, 0] - inst.staff0[j, 1])
    health = np.where(
        total.sum(axis=1) >= inst.full_time_health_from, max(inst.min_health, 1), inst.min_health
    )
    health_hires = np.maximum(0.0, health - inst.staff0[j, 2])
    cost = (
        (inst.site_cost[j] if inst.is_candidate[j] else 0.0)
        + inst.place_cost * x.sum(axis=1)
        + hires * float(min(inst.role_cost[0], inst.role_cost[1]))
        + health_hires * float(inst.role_cost[2])
    )
    return np.column_stack([t, cost])


def envelope(points: np.ndarray) -> list[tuple[float, float]]:
    """Lines ``(slope, intercept)`` whose maximum is the lower convex hull of
    ``points`` over their range; each line lies on or below every point."""
    if points.shape[0] < 2:
        return []
    lines: list[tuple[float, float]] = []
    try:
        hull = ConvexHull(points)
        for nx, ny, off in hull.equations:
            if ny < -1e-12:  # outward normal points down: a lower facet
                lines.append((-nx / ny, -off / ny))
    except QhullError:  # every point on one line
        (x0, y0), (x1, y1) = points[0], points[-1]
        slope = (y1 - y0) / (x1 - x0)
        lines.append((slope, y0 - slope * x0))
    valid = []
    for slope, icpt in lines:
        over = float(np.max(slope * points[:, 0] + icpt - points[:, 1]))
        valid.append((float(slope), float(icpt - max(0.0, over) - MARGIN_CNY)))
    return valid

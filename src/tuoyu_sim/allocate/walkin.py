r"""Walk-in place sizing by the Erlang loss formula, in a form a MILP can use.

Drop-in and hourly care have no waiting room: a walk-in child finding no free
place is turned away, so a facility's walk-in places form an Erlang loss
system (M/M/c/c; blocking is insensitive to the stay distribution). With
``c`` places and offered load ``a`` erlangs the turn-away share is Erlang B
``B(c, a)`` (:func:`tuoyu_sim.queueing.erlang_b`).

The MILP cannot hold ``B`` itself. Instead, for every size ``k`` we precompute
``Lambda_k``, the largest load that ``k`` places carry with ``B(k, a) <= beta``;
``Lambda_k`` increases with ``k``. Choosing ``k`` places (``k`` ordered 0/1
increments ``delta_1 >= delta_2 >= ...``) allows a load up to
``sum_k (Lambda_k - Lambda_{k-1}) delta_k = Lambda_{sum delta}``.
Each ``Lambda_k`` is taken on the feasible side of a bisection, so any load the
model accepts meets the target exactly in Erlang B.

**Arrivals that vary through the day.** With an hourly profile the load is not
steady: more children arrive at 09:00 than at 15:00, and the day's turn-away is
weighted by the busy hours. A :class:`WalkInShape` carries the load over the
day relative to its mean, :math:`h(\tau)`, from the modified offered load (the
mean number present in an infinite-server system fed by the profile, which lags
the arrivals by the stays), and the share of arrivals at each time,
:math:`p(\tau)`. The day's turn-away with ``c`` places at mean load ``w`` is then

.. math::

    \mathrm{TA}(c, w) = \sum_\tau p(\tau)\, B\bigl(c, w\,h(\tau)\bigr)

(the modified-offered-load approximation of Jagerman, Massey and Whitt), still
increasing in ``w``, so ``Lambda_k`` is found the same way. Flat profiles keep
the stationary Erlang B (no shape): the day then starts empty, so the
stationary figure is a little conservative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuoyu_sim.queueing import erlang_b, erlang_b_servers, erlang_b_table
from tuoyu_sim.scenario import Scenario

SHAPE_STEP_MIN = 5.0
"""Time step (minutes) of a :class:`WalkInShape`."""


@dataclass(frozen=True)
class WalkInShape:
    """Walk-in load through the day relative to its mean (see the module docstring)."""

    load: np.ndarray
    """:math:`h(\\tau)`: the load at each time over the mean load the allocation
    model counts (arrivals x mean stay / window)."""
    weight: np.ndarray
    """:math:`p(\\tau)`: the share of the day's arrivals at each time (sums to 1)."""

    def turn_away(self, places: int, mean_load: float) -> float:
        """The day's turn-away share with ``places`` places at mean load ``mean_load``."""
        table = erlang_b_table(places, mean_load * self.load)
        return float(self.weight @ table[places])


def walk_in_shape(scenario: Scenario) -> WalkInShape | None:
    """The district's walk-in load shape, or None when every walk-in profile is flat.

    Walk-in care types are pooled by their district arrivals a day (children
    under three x age share x arrivals per child a day, summed over communities).
    """
    from tuoyu_sim.demand import ArrivalProfile, stay_distribution
    from tuoyu_sim.staffing import walk_in_occupancy

    sim = scenario.simulation
    walk = {t: ct for t, ct in scenario.care_types.items() if ct.mode == "walk_in"}
    if not walk or all(ct.profile == "flat" for ct in walk.values()):
        return None
    per_day = {t: sum(c.under3 * c.demand.get(t, 0.0) for c in scenario.communities) for t in walk}
    total = sum(per_day.values())
    if total <= 0:
        return None
    times = np.arange(sim.open, sim.close, SHAPE_STEP_MIN) + SHAPE_STEP_MIN / 2
    occupancy = np.zeros_like(times)
    weight = np.zeros_like(times)
    mean = 0.0
    for t, ct in walk.items():
        share = per_day[t] / total
        occupancy += share * walk_in_occupancy(scenario, t, times)
        profile = ArrivalProfile.for_care_type(ct, sim.open, sim.close)
        rate = np.zeros_like(times)
        for lo, hi, r in zip(
            profile.edges[:-1], profile.edges[1:], profile.rate_per_min(1.0), strict=True
        ):
            rate[(times >= lo) & (times < hi)] = r
        weight += share * rate
        lo, hi = ct.window if ct.window is not None else (sim.open, sim.close)
        mean += share * stay_distribution(ct.stay).mean_minutes / (hi - lo)
    return WalkInShape(load=occupancy / mean, weight=weight / weight.sum())


def max_loads(
    max_places: int, max_turn_away: float, shape: WalkInShape | None = None
) -> np.ndarray:
    """``Lambda_k`` for ``k = 0 .. max_places``: the most erlangs ``k`` places carry.

    Parameters
    ----------
    max_places
        Largest size, >= 0.
    max_turn_away
        Target turn-away share ``beta`` in (0, 1).
    shape
        The load through the day (None: steady, Erlang B).

    Returns
    -------
    numpy.ndarray
        Shape ``(max_places + 1,)``, increasing, ``Lambda_0 = 0`` and
        ``erlang_b(k, Lambda_k) <= beta`` (with a shape, ``TA(k, Lambda_k) <= beta``)
        for every ``k``.
    """
    beta = float(max_turn_away)
    out = np.zeros(max_places + 1)

    def turn_away(k: int, load: float) -> float:
        return erlang_b(k, load) if shape is None else shape.turn_away(k, load)

    for k in range(1, max_places + 1):
        lo, hi = out[k - 1], k / (1.0 - beta) + 1.0
        while shape is not None and turn_away(k, hi) <= beta:
            hi *= 2.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if turn_away(k, mid) <= beta:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-12 * max(1.0, hi):
                break
        out[k] = lo
    return out


def places_for_load(
    load_erlangs: float, max_turn_away: float, shape: WalkInShape | None = None
) -> int:
    """Smallest number of places whose turn-away is at most the target (Erlang B,
    or with a shape the day's turn-away :math:`\\mathrm{TA}`)."""
    if load_erlangs <= 0:
        return 0
    steady = erlang_b_servers(float(load_erlangs), float(max_turn_away))
    if shape is None:
        return steady
    # the day's turn-away falls with more places: bracket by doubling, then bisect
    w = float(load_erlangs)
    lo, hi = 0, max(1, steady)
    while shape.turn_away(hi, w) > max_turn_away:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if shape.turn_away(mid, w) > max_turn_away else (lo, mid)
    return hi

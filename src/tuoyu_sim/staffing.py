r"""The staffing rule: how many direct caregivers each shift of a facility needs.

One rule, stated here once, staffs a facility in both models: the allocation
model (:mod:`tuoyu_sim.allocate.mincost`, rows ``seg_class`` and ``seg``) and the
rosters written into a planned scenario (:func:`roster`); the simulation
(:mod:`tuoyu_sim.centre`) then holds the caregivers on shift to the ratios minute
by minute, with absent caregivers drawn each day.

Terms
-----
* **Segments.** The open day is cut at every shift start and end; within a
  segment :math:`\sigma` the same shifts :math:`S(\sigma)` are on duty.
  Without named shifts there is one shift (``staff.shift``, by default the
  opening hours) and one segment.
* **Presence share** :math:`\varphi_{t\sigma} \in [0, 1]` of a care type
  :math:`t`: the largest share of its places in use at any minute of the
  segment, from the care type's own time pattern (:func:`presence`). Enrolled
  types: arrivals uniform over the window of each session, stays from the stay
  distribution, cut at ``until``. Walk-in types: the mean number present in an
  infinite-server system fed by the arrival profile (the modified offered load),
  relative to its peak over the day.
* **Load** of class :math:`a` in :math:`\sigma`, with :math:`P_a` places,
  :math:`W_a` of them held for walk-ins (the reserved places; for a facility
  without reserved places, the places its walk-in load needs by the walk-in
  sizing) and :math:`m_{ta}` the share of care type :math:`t` among the
  enrolled children the facility serves (or may serve) in class :math:`a`:

  .. math::

      L_{a\sigma} = \bar\varphi_{a\sigma} (P_a - W_a) + \varphi_{w\sigma} W_a,
      \qquad \bar\varphi_{a\sigma} = \sum_{t\ \mathrm{enrolled}} m_{ta}
      \varphi_{t\sigma}, \quad
      \varphi_{w\sigma} = \max_{t\ \mathrm{walk\text{-}in}} \varphi_{t\sigma}

  Staffing is for the places, as the national rule is: the places not held
  for walk-ins count as enrolled, with the facility's mix of care types (in the
  simulation a facility enrols up to its places, nearest children first).
* **Caregivers needed** in :math:`\sigma`: :math:`G_\sigma = \sum_a \lceil
  L_{a\sigma} / \rho_a \rceil` (each class its own caregivers, 1:3, 1:5, 1:7).
  In a *full* segment, where every enrolled care type is present with share 1
  (the core of the day), the need is the national rule on all places,
  :math:`G_\sigma = \sum_a \lceil P_a / \rho_a \rceil`: a full house.
* **Cover for absence.** Each caregiver is absent on a day with probability
  :math:`q` (``staff.absence_probability``). The caregivers rostered on the
  shifts on duty must meet the need in expectation:

  .. math::

      (1 - q) \sum_{s \in S(\sigma)} n_s \ge G_\sigma \qquad \forall \sigma

  and, the national floor, :math:`\sum_s n_s \ge \sum_a \lceil P_a / \rho_a
  \rceil`.
* **Roster.** The fewest caregivers per shift that meet every segment, never
  fewer than a facility already has on a shift (:func:`roster`; shifts are
  intervals of the day, so covering segments left to right, each deficit met by
  the shift on duty that reaches furthest, is optimal).

Attendance below 1 and the day-to-day spread of walk-ins mean that on most days
fewer children are present than the loads above; absence means that on some
days fewer caregivers come. The rule is held to the simulation by
``tests/test_theory_staffing_agreement.py``: for facilities of several sizes and
care-type mixes the integer program rosters exactly what this rule asks, one
more caregiver on each shift meets the breach target in simulation, and two
fewer on a shift miss it, so what the simulation needs is within one caregiver
per shift of the rule.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tuoyu_sim.scenario import Facility, Scenario

GRID_MIN = 1.0
"""Time step (minutes) of the presence computation."""


@dataclass(frozen=True)
class Segment:
    """A stretch of the open day in which the same shifts are on duty."""

    start: float
    end: float
    shifts: tuple[int, ...]
    """Indices (into :attr:`StaffingRule.shift_names`) of the shifts on duty."""


@dataclass(frozen=True)
class StaffingRule:
    """The staffing rule of one scenario (see the module docstring)."""

    shift_names: tuple[str, ...]
    shift_times: tuple[tuple[float, float], ...]
    segments: tuple[Segment, ...]
    care_types: tuple[str, ...]
    ages: tuple[str, ...]
    ratios: np.ndarray
    """Children per caregiver by class, shape (A,)."""
    presence: np.ndarray
    """:math:`\\varphi_{t\\sigma}`, shape (K, S); 0 for a care type never present."""
    walk_in: np.ndarray
    """Bool (K,): walk-in care types."""
    absence: float

    @property
    def walk(self) -> np.ndarray:
        """:math:`\\varphi_{w\\sigma}`, shape (S,) (0 without walk-in types)."""
        if not self.walk_in.any():
            return np.zeros(len(self.segments))
        return self.presence[self.walk_in].max(axis=0)

    @property
    def full(self) -> np.ndarray:
        """Bool (S,): segments in which every enrolled care type can fill its places
        (presence share 1): there the need is the national rule on all places."""
        enrolled = ~self.walk_in
        if not enrolled.any():
            return np.zeros(len(self.segments), dtype=bool)
        return np.asarray(np.all(self.presence[enrolled] >= 1.0 - 1e-9, axis=0))

    @property
    def cover(self) -> np.ndarray:
        """Bool (S, shifts): shift on duty in segment."""
        out = np.zeros((len(self.segments), len(self.shift_names)), dtype=bool)
        for k, seg in enumerate(self.segments):
            out[k, list(seg.shifts)] = True
        return out

    @property
    def availability(self) -> float:
        """Expected share of rostered caregivers who come in, :math:`1 - q`."""
        return 1.0 - self.absence

    def presence_mix(self, enrolled: np.ndarray, default: np.ndarray | None = None) -> np.ndarray:
        """:math:`\\bar\\varphi_{a\\sigma}` (S, A) of an enrolled mix: places held
        for each care type by class, shape (K, A) (any scale; walk-in rows ignored).
        A class with no enrolled children takes ``default`` (S, A), else the plain
        mean over enrolled types."""
        e = np.where(self.walk_in[:, None], 0.0, np.asarray(enrolled, dtype=float))
        total = e.sum(axis=0)
        enrolled_types = ~self.walk_in
        fallback = (
            self.presence[enrolled_types].mean(axis=0)
            if enrolled_types.any()
            else np.zeros(len(self.segments))
        )
        out = np.empty((len(self.segments), e.shape[1]))
        for a in range(e.shape[1]):
            if total[a] > 0:
                out[:, a] = (self.presence.T @ e[:, a]) / total[a]
            else:
                out[:, a] = fallback if default is None else default[:, a]
        return out

    def loads(self, places: np.ndarray, enrolled: np.ndarray, walk_in: np.ndarray) -> np.ndarray:
        """:math:`L_{a\\sigma}`, shape (S, A).

        Parameters
        ----------
        places
            Places by class, shape (A,).
        enrolled
            The facility's mix of enrolled care types: places held for each by
            class, shape (K, A) (rows of walk-in types are ignored); a half-day
            child holds half a place.
        walk_in
            Places held for walk-ins by class, shape (A,).
        """
        p = np.asarray(places, dtype=float)
        w = np.minimum(np.asarray(walk_in, dtype=float), p)
        load = self.presence_mix(enrolled) * (p - w)[None, :] + self.walk[:, None] * w[None, :]
        return np.clip(load, 0.0, p[None, :])

    def needs(self, places: np.ndarray, enrolled: np.ndarray, walk_in: np.ndarray) -> np.ndarray:
        """:math:`G_\\sigma`, caregivers needed in each segment, shape (S,) (ints)."""
        return self.needs_at(self.loads(places, enrolled, walk_in), places)

    def needs_at(self, loads: np.ndarray, places: np.ndarray) -> np.ndarray:
        """:math:`G_\\sigma` from loads by segment and class (S, A) and places (A,)."""
        need = np.ceil(loads / self.ratios[None, :] - 1e-6).sum(axis=1).astype(np.int64)
        return np.where(self.full, self.floor(places), need)

    def floor(self, places: np.ndarray) -> int:
        """The national floor: :math:`\\sum_a \\lceil P_a / \\rho_a \\rceil`."""
        return int(np.ceil(np.asarray(places, dtype=float) / self.ratios - 1e-9).sum())

    def required(self, needs: np.ndarray) -> np.ndarray:
        """Caregivers to roster on duty in each segment: :math:`\\lceil G_\\sigma/(1-q) \\rceil`."""
        return np.ceil(np.asarray(needs, dtype=float) / self.availability - 1e-9).astype(np.int64)

    def roster(
        self,
        places: np.ndarray,
        enrolled: np.ndarray,
        walk_in: np.ndarray,
        at_least: Sequence[int] | None = None,
    ) -> tuple[int, ...]:
        """Caregivers per shift: the fewest that meet the rule, each shift at least
        ``at_least`` (what the facility has now)."""
        n = np.zeros(len(self.shift_names), dtype=np.int64)
        if at_least is not None:
            n[:] = np.asarray(at_least, dtype=np.int64)
        return self.roster_at(self.loads(places, enrolled, walk_in), places, n)

    def roster_at(
        self, loads: np.ndarray, places: np.ndarray, at_least: np.ndarray | None = None
    ) -> tuple[int, ...]:
        """:meth:`roster` from loads by segment and class (S, A)."""
        start = (
            np.zeros(len(self.shift_names), dtype=np.int64)
            if at_least is None
            else np.asarray(at_least, dtype=np.int64)
        )
        need = self.required(self.needs_at(loads, places))
        return cover_segments(self, need, start, self.floor(places))


def cover_segments(
    rule: StaffingRule, required: np.ndarray, start: np.ndarray, total_floor: int = 0
) -> tuple[int, ...]:
    """Add the fewest caregivers to ``start`` so that every segment has its
    ``required`` on duty and the total is at least ``total_floor``.

    Segments left to right; a deficit goes to the shift on duty that ends last
    (it also serves the most segments still to come). Optimal for shifts that are
    intervals of the day.
    """
    n = np.array(start, dtype=np.int64)
    cover = rule.cover
    ends = np.array([e for _, e in rule.shift_times])
    for k in range(len(rule.segments)):
        on = np.flatnonzero(cover[k])
        if on.size == 0:
            continue  # nobody can be on duty then: the scenario's shifts leave a gap
        short = int(required[k]) - int(n[on].sum())
        if short > 0:
            n[on[int(np.argmax(ends[on]))]] += short
    if n.sum() < total_floor:
        # the national floor: on the shift on duty the longest
        longest = int(np.argmax([e - s for s, e in rule.shift_times]))
        n[longest] += total_floor - int(n.sum())
    return tuple(int(x) for x in n)


def _survival(dist: object, x: np.ndarray) -> np.ndarray:
    """P(stay > x) for a :class:`~tuoyu_sim.demand.StayDistribution` (x in minutes)."""
    survival = getattr(dist, "survival", None)
    assert survival is not None, f"{type(dist).__name__} has no survival function"
    return np.asarray(survival(x), dtype=float)


def _enrolled_presence(scenario: Scenario, care_type: str, times: np.ndarray) -> np.ndarray:
    """P(a place of an enrolled type is in use at each time), given its child attends.

    Sessions of one place follow each other, so a place is in use when the child
    of the session at that time is present: the largest over sessions.
    """
    from tuoyu_sim.demand import stay_distribution

    sim = scenario.simulation
    ct = scenario.care_types[care_type]
    dist = stay_distribution(ct.stay)
    if ct.sessions:
        sessions = [(s.window, s.until) for s in ct.sessions]
    else:
        window = ct.window if ct.window is not None else (sim.open, sim.open)
        sessions = [(window, ct.until if ct.until is not None else sim.close)]
    out = np.zeros_like(times)
    for (lo, hi), until in sessions:
        arrivals = np.linspace(lo, hi, 61) if hi > lo else np.array([lo])
        since = times[None, :] - arrivals[:, None]
        here = np.where(since >= 0, _survival(dist, np.maximum(since, 0.0)), 0.0)
        here = np.where(times[None, :] < until, here, 0.0)
        out = np.maximum(out, here.mean(axis=0))
    return out


def walk_in_occupancy(scenario: Scenario, care_type: str, times: np.ndarray) -> np.ndarray:
    """Mean walk-ins of one type present at each time, per arrival a day.

    The infinite-server (no turn-away) occupancy of the care type's arrival
    profile: :math:`m(\\tau) = \\int \\lambda(u) P(S > \\tau - u)\\,du` with
    :math:`\\int \\lambda = 1`; stays end at closing time at the latest.
    """
    from tuoyu_sim.demand import ArrivalProfile, stay_distribution

    sim = scenario.simulation
    ct = scenario.care_types[care_type]
    profile = ArrivalProfile.for_care_type(ct, sim.open, sim.close)
    dist = stay_distribution(ct.stay)
    mids, weights = [], []
    for lo, hi, m in zip(profile.edges[:-1], profile.edges[1:], profile.mass, strict=True):
        k = max(1, math.ceil((hi - lo) / GRID_MIN))
        mids.append(lo + (np.arange(k) + 0.5) * (hi - lo) / k)
        weights.append(np.full(k, m / k))
    u = np.concatenate(mids)
    w = np.concatenate(weights)
    since = times[None, :] - u[:, None]
    here = np.where(since >= 0, _survival(dist, np.maximum(since, 0.0)), 0.0)
    here = np.where(times[None, :] < sim.close, here, 0.0)
    return np.asarray(w @ here)


def presence(scenario: Scenario, segments: Sequence[Segment]) -> np.ndarray:
    """:math:`\\varphi_{t\\sigma}` for every care type and segment, shape (K, S)."""
    sim = scenario.simulation
    times = np.arange(sim.open, sim.close, GRID_MIN) + GRID_MIN / 2
    out = np.zeros((len(scenario.care_types), len(segments)))
    for k, (t, ct) in enumerate(scenario.care_types.items()):
        if ct.mode == "walk_in":
            curve = walk_in_occupancy(scenario, t, times)
            peak = float(curve.max())
            curve = curve / peak if peak > 0 else curve
        else:
            curve = _enrolled_presence(scenario, t, times)
        for s, seg in enumerate(segments):
            inside = (times >= seg.start) & (times < seg.end)
            out[k, s] = float(curve[inside].max()) if inside.any() else 0.0
    return np.clip(out, 0.0, 1.0)


def shift_names(scenario: Scenario) -> tuple[str, ...]:
    """Names of the scenario's shifts (``("all",)`` without named shifts)."""
    return tuple(scenario.staff.shifts) if scenario.staff.shifts else ("all",)


def staffing_rule(scenario: Scenario) -> StaffingRule:
    """The staffing rule of ``scenario``: its segments and presence shares."""
    sim = scenario.simulation
    named = scenario.staff.shifts
    times = tuple((s.start, s.end) for s in named.values()) if named else (scenario.shift_window(),)
    cuts = sorted(
        {sim.open, sim.close, *(t for se in times for t in se if sim.open < t < sim.close)}
    )
    segments = tuple(
        Segment(lo, hi, tuple(i for i, (s, e) in enumerate(times) if s <= lo and hi <= e))
        for lo, hi in itertools.pairwise(cuts)
    )
    ages = tuple(scenario.age_groups)
    return StaffingRule(
        shift_names=shift_names(scenario),
        shift_times=times,
        segments=segments,
        care_types=tuple(scenario.care_types),
        ages=ages,
        ratios=np.array([scenario.age_groups[a].ratio for a in ages], dtype=float),
        presence=presence(scenario, segments),
        walk_in=np.array([ct.mode == "walk_in" for ct in scenario.care_types.values()]),
        absence=scenario.staff.absence_probability,
    )


def facility_shifts(scenario: Scenario, facility: Facility) -> tuple[tuple[float, float, int], ...]:
    """(start, end, caregivers) of a facility's direct caregivers.

    A facility's own ``shifts`` counts win; otherwise ``[staff.shifts]`` shares
    split its caregivers (largest remainder); otherwise all work ``staff.shift``
    (by default the opening hours).
    """
    n = facility.staff.direct
    named = scenario.staff.shifts
    if named:
        if facility.shifts is not None:
            counts = dict(facility.shifts)
        else:
            shares = np.array([s.share for s in named.values()])
            exact = n * shares
            base = np.floor(exact).astype(int)
            for i in np.argsort(-(exact - base), kind="stable")[: n - int(base.sum())]:
                base[i] += 1
            counts = dict(zip(named, base.tolist(), strict=True))
        return tuple((s.start, s.end, counts.get(name, 0)) for name, s in named.items())
    lo, hi = scenario.shift_window()
    return ((lo, hi, n),)


def shift_counts(scenario: Scenario, facility: Facility) -> tuple[int, ...]:
    """Caregivers on each shift of a facility, in :func:`shift_names` order."""
    return tuple(n for _, _, n in facility_shifts(scenario, facility))


def facility_enrolled(scenario: Scenario, enrolled_children: np.ndarray) -> np.ndarray:
    """Places held for each enrolled care type by class, shape (K, A), from a
    facility's enrolled children (K, A) (:func:`tuoyu_sim.demand.plan_demand`):
    a half-day child holds half a place."""
    share = np.array([scenario.place_share(t) for t in scenario.care_types])
    return np.asarray(enrolled_children, dtype=float) * share[:, None]


def facility_places(scenario: Scenario, facility: Facility) -> np.ndarray:
    """Places by class, shape (A,)."""
    return np.array([facility.places.get(a, 0) for a in scenario.age_groups], dtype=float)


__all__ = [
    "Segment",
    "StaffingRule",
    "cover_segments",
    "facility_enrolled",
    "facility_places",
    "facility_shifts",
    "presence",
    "shift_counts",
    "shift_names",
    "staffing_rule",
    "walk_in_occupancy",
]

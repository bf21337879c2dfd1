"""Ordinary days at every facility: a day, a replication, and many in parallel.

:func:`build_model` turns a scenario into everything static (demand placed on
facilities, shifts, distributions); :func:`run_replication` simulates the
scenario's days one after another in SimPy and returns running totals (no
per-child records, so memory stays flat as days grow); :func:`simulate` runs the
replications, in a process pool if asked, and returns a
:class:`SimulationResult`. The same seed gives the same result whatever the
number of workers: each replication has its own random streams
(:mod:`tuoyu_sim.streams`) and results are combined in replication order.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from tuoyu_sim._simpy import Environment
from tuoyu_sim.centre import ArrivalChain, Centre, CentreSpec
from tuoyu_sim.demand import (
    ArrivalProfile,
    DemandPlan,
    FacilityDemand,
    StayDistribution,
    plan_demand,
    stay_distribution,
)
from tuoyu_sim.scenario import WALK_IN_POOL, Scenario
from tuoyu_sim.staffing import facility_shifts
from tuoyu_sim.streams import STREAMS, check_distinct_keys, generator

SHORT_BINS = 16
"""Daily most caregivers short in an hour: 0, 1, ..., 14, and 15 or more."""

HIST_BINS = 41
"""Utilization histogram: 40 bins of width 0.025 over [0, 1), and one for ≥ 1."""

COUNTS = (
    "arrivals",
    "admitted",
    "redirected",
    "turned_away",
    "redirected_in",
    "refused_for_staff",
)
"""The count columns; ``refused_for_staff``: walk-ins a place was free for but not
the caregivers (then redirected or turned away)."""


@dataclass(frozen=True)
class EnrolledPattern:
    """Arrival windows of an enrolled care type, one per session."""

    windows: tuple[tuple[float, float], ...]
    until: tuple[float, ...]
    attendance: float


@dataclass(frozen=True)
class Model:
    """Everything static about a scenario, ready to simulate (picklable)."""

    scenario: Scenario
    plan: DemandPlan
    specs: tuple[CentreSpec, ...]
    stays: tuple[StayDistribution, ...]
    profiles: tuple[ArrivalProfile | None, ...]
    patterns: tuple[EnrolledPattern | None, ...]
    walk_in_types: tuple[int, ...]
    curve_edges: np.ndarray
    hour_edges: np.ndarray

    @property
    def n_types(self) -> int:
        return len(self.plan.care_types)

    @property
    def open(self) -> float:
        return self.scenario.simulation.open

    @property
    def close(self) -> float:
        return self.scenario.simulation.close


def build_model(scenario: Scenario) -> Model:
    """Everything static about ``scenario``: demand, shifts, distributions.

    Raises
    ------
    ScenarioError
        If two facility ids would share random streams
        (:func:`tuoyu_sim.streams.check_distinct_keys`).
    """
    check_distinct_keys(f.id for f in scenario.facilities)
    plan = plan_demand(scenario)
    types = plan.care_types
    ages = plan.ages
    sim = scenario.simulation
    specs = []
    for j, f in enumerate(scenario.facilities):
        reserved: list[tuple[int, ...] | None] = []
        places = np.array([f.places.get(a, 0) for a in ages])
        pooled = f.reserved.get(WALK_IN_POOL)
        for t in types:
            r = f.reserved.get(t)
            if r is None and scenario.care_types[t].mode == "walk_in":
                r = pooled
            if r is None:
                reserved.append(None)
            elif isinstance(r, dict):
                reserved.append(tuple(int(r.get(a, 0)) for a in ages))
            else:
                from tuoyu_sim.demand import _spread

                reserved.append(tuple(int(x) for x in _spread(r, places)))
        # walk-in types without places of their own share the walk_in pool
        pool_of = tuple(
            next(
                (
                    m
                    for m, u in enumerate(types)
                    if scenario.care_types[u].mode == "walk_in" and u not in f.reserved
                )
            )
            if pooled is not None
            and scenario.care_types[t].mode == "walk_in"
            and t not in f.reserved
            else k
            for k, t in enumerate(types)
        )
        specs.append(
            CentreSpec(
                index=j,
                id=f.id,
                places=tuple(int(x) for x in places),
                reserved=tuple(reserved),
                pool_of=pool_of,
                ratios=tuple(scenario.age_groups[a].ratio for a in ages),
                shifts=facility_shifts(scenario, f),
                redirect=tuple(scenario.care_types[t].redirect for t in types),
            )
        )
    stays = tuple(stay_distribution(scenario.care_types[t].stay) for t in types)
    profiles: list[ArrivalProfile | None] = []
    patterns: list[EnrolledPattern | None] = []
    for t in types:
        ct = scenario.care_types[t]
        if ct.mode == "walk_in":
            profiles.append(ArrivalProfile.for_care_type(ct, sim.open, sim.close))
            patterns.append(None)
        else:
            profiles.append(None)
            if ct.sessions:
                windows = tuple(s.window for s in ct.sessions)
                until = tuple(s.until for s in ct.sessions)
            else:
                windows = (ct.window if ct.window is not None else (sim.open, sim.open),)
                until = (ct.until if ct.until is not None else sim.close,)
            patterns.append(EnrolledPattern(windows, until, ct.attendance))
    step = float(sim.curve_step_minutes)
    curve_edges = np.append(np.arange(sim.open, sim.close, step), sim.close)
    hour_edges = np.append(np.arange(sim.open, sim.close, 60.0), sim.close)
    return Model(
        scenario=scenario,
        plan=plan,
        specs=tuple(specs),
        stays=stays,
        profiles=tuple(profiles),
        patterns=tuple(patterns),
        walk_in_types=tuple(k for k, p in enumerate(profiles) if p is not None),
        curve_edges=curve_edges,
        hour_edges=hour_edges,
    )


@dataclass
class ReplicationResult:
    """Totals of one replication over all its days (plain arrays)."""

    replication: int
    counts: np.ndarray
    """(F, K, 6): the :data:`COUNTS` columns."""
    occupancy_min: np.ndarray
    """(F, K): child-minutes present."""
    curve: np.ndarray
    """(F, K, B): sum over days of the mean children present in each curve step."""
    hist_facility: np.ndarray
    """(F, B, HIST_BINS): days by utilization bin, per facility and curve step."""
    hist_district: np.ndarray
    """(B, HIST_BINS)."""
    breach_min: np.ndarray
    """(F,): minutes of ratio breach."""
    breach_days: np.ndarray
    """(F,): days with any minute of ratio breach."""
    breach_by_hour: np.ndarray
    """(F, H): minutes of breach in each hour of the open day."""
    short_by_hour: np.ndarray
    """(F, H, SHORT_BINS): days by the most caregivers short during each hour."""
    refused_by_hour: np.ndarray
    """(F, H): walk-ins refused for want of a caregiver (a place was free), by hour."""
    episodes: list[tuple[int, int, float, float, int, int, str]] | None
    """Per-child records ``(day, facility, arrival, departure, care type, age class,
    outcome)`` if asked for, else None. A redirected child has a ``redirected`` row
    at the facility that sent it on and an ``admitted`` row where it stayed."""
    daily: np.ndarray
    """(D, F, K, 4): arrivals, admitted, turned_away, child-minutes, per day."""


def _integrate(
    times: list[float], changes: list[int], n_types: int, edges: np.ndarray
) -> np.ndarray:
    """Child-minutes by care type between consecutive ``edges`` (K, len(edges) - 1).

    ``times`` and ``changes`` are a centre's log (:class:`~tuoyu_sim.centre.Centre`):
    at ``times[i]`` a child of care type ``abs(changes[i]) - 1`` arrived
    (``changes[i] > 0``) or left.
    """
    if not times:
        return np.zeros((n_types, edges.size - 1))
    t = np.array(times, dtype=float)
    change = np.array(changes, dtype=float)
    # children present after each change: whole numbers, so exact however summed;
    # one care type stays one-dimensional (the same arithmetic, no broadcasting)
    if n_types == 1:
        n = change.cumsum()
    else:
        onehot = np.zeros((n_types, t.size))  # (K, N): summed along contiguous rows
        onehot[np.abs(change).astype(np.intp) - 1, np.arange(t.size)] = np.sign(change)
        n = np.ascontiguousarray(onehot.cumsum(axis=1).T)

    def col(x: np.ndarray) -> np.ndarray:  # x along the log, against n's columns
        return x if n.ndim == 1 else x[:, None]

    area = np.empty_like(n)
    area[0] = 0.0
    np.cumsum(n[:-1] * col(t[1:] - t[:-1]), axis=0, out=area[1:])
    j = t.searchsorted(edges, side="right") - 1
    if j[0] < 0:  # edges before the first change (j is sorted)
        jj = np.maximum(j, 0)
        at = area[jj] + n[jj] * col(edges - t[jj])
        at[j < 0] = 0.0
    else:
        at = area[j] + n[j] * col(edges - t[j])
    steps = at[1:] - at[:-1]
    return steps[None, :] if n.ndim == 1 else steps.T


_DAILY_ROWS = np.array([0, 1, 3])


def _hist_index_finite(util: np.ndarray) -> np.ndarray:
    """Histogram bin of each utilization (finite, ≥ 0), elementwise.

    The small nudge keeps an exact multiple of 0.025 in its own bin whatever the
    last bit of floating-point rounding.
    """
    idx = (util / 0.025 + 1e-9).astype(np.int64)
    np.minimum(idx, HIST_BINS - 1, out=idx)
    return idx


_BLOCK_DAYS = 64
"""Days whose results are kept in buffers before being added to the totals."""


def _count_bins(hist: np.ndarray, rows: np.ndarray, idx: np.ndarray) -> None:
    """Add one to ``hist[rows[r], b, idx[d, r, b]]`` for every day ``d``, row and step.

    ``hist`` is (R, B, HIST_BINS) and ``idx`` (D, len(rows), B); whole numbers,
    so the counts are exact in any order.
    """
    _, n_steps, n_bins = hist.shape
    flat = (rows[None, :, None] * n_steps + np.arange(n_steps)) * n_bins + idx
    hist += np.bincount(flat.ravel(), minlength=hist.size).reshape(hist.shape)


class _Redirects:
    """Redirects a walk-in turned away at one facility to the nearest one with room.

    The child's community is drawn from the communities whose walk-ins this
    facility receives (weighted by their rates); facilities within reach of that
    community are tried nearest first.
    """

    def __init__(self, plan: DemandPlan, rngs: list[np.random.Generator]) -> None:
        self.plan = plan
        self.rngs = rngs
        self.cum = [[np.cumsum(w) for (_, w) in fd.origins] for fd in plan.facilities]
        self.centres: list[Centre] = []

    def __call__(self, origin: Centre, k: int, age: int, stay: float, now: float) -> bool:
        j0 = origin.spec.index
        idx = self.plan.facilities[j0].origins[k][0]
        if not idx.size:
            return False
        cum = self.cum[j0][k]
        u = self.rngs[j0].random() * cum[-1]
        community = int(idx[min(int(np.searchsorted(cum, u, side="right")), idx.size - 1)])
        centres = self.centres
        for j in self.plan.reach[community].tolist():
            if j != j0 and centres[j].try_admit(k, age, stay, now):
                centres[j].redirected_in[k] += 1
                return True
        return False


@dataclass(frozen=True)
class _EnrolledChildren:
    """A facility's enrolled children, fixed for a whole run; index ``m`` is one child."""

    kinds: list[int]
    """Care type of each child (a list: indexed once per child and day)."""
    attendance: np.ndarray
    """Probability that each child attends on a given day."""
    ages: list[int]
    """Age class of each child."""
    slot_of: list[int]
    """The enrolled place (slot) each child holds, 0 .. n_slots - 1."""
    n_slots: int
    groups: tuple[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int], ...]
    """Per care type with children, in increasing order: ``(k, mask of its children,
    window start, window width, until, children)``, the windows and ``until`` in
    minutes, per child, from the child's session."""

    @classmethod
    def of(cls, fd: FacilityDemand, model: Model) -> _EnrolledChildren:
        ks_l: list[int] = []
        sess_l: list[int] = []
        ages_l: list[int] = []
        slot_l: list[int] = []
        for si, slot in enumerate(fd.slots):
            for k, s in slot.members:
                ks_l.append(k)
                sess_l.append(s)
                ages_l.append(slot.age)
                slot_l.append(si)
        ks = np.array(ks_l, dtype=np.int64)
        sess = np.array(sess_l, dtype=np.int64)
        attendance = np.array([p.attendance if p else 1.0 for p in model.patterns])
        groups = []
        for k in np.unique(ks).tolist():
            pat = model.patterns[k]
            assert pat is not None
            mask = ks == k
            w_lo = np.array([w[0] for w in pat.windows])[sess[mask]]
            w_hi = np.array([w[1] for w in pat.windows])[sess[mask]]
            until = np.array(pat.until)[sess[mask]]
            groups.append((k, mask, w_lo, w_hi - w_lo, until, int(mask.sum())))
        return cls(
            kinds=ks_l,
            attendance=attendance[ks],
            ages=ages_l,
            slot_of=slot_l,
            n_slots=len(fd.slots),
            groups=tuple(groups),
        )


_WalkIns = list[tuple[int, ArrivalProfile, StayDistribution, list[tuple[int, float]]]]
"""A facility's walk-in streams (:func:`_walk_in_streams`)."""


def _walk_in_streams(fd: FacilityDemand, model: Model) -> _WalkIns:
    """A facility's walk-in streams: per walk-in care type ``k`` with any demand
    here, ``(k, profile, stay distribution, [(age class, expected arrivals a day)])``,
    in the order their random numbers are drawn."""
    rates = fd.walk_in_per_day
    out = []
    for k in model.walk_in_types:
        profile = model.profiles[k]
        assert profile is not None
        lams = [(age, rates[k, age]) for age in range(rates.shape[1]) if rates[k, age] > 0]
        if lams:
            out.append((k, profile, model.stays[k], lams))
    return out


@dataclass(frozen=True)
class _Streams:
    """One replication's random streams (:data:`~tuoyu_sim.streams.STREAMS`), one
    generator per facility in each, in facility order."""

    attendance: list[np.random.Generator]
    enrolled_arrival: list[np.random.Generator]
    enrolled_stay: list[np.random.Generator]
    walk_in_arrival: list[np.random.Generator]
    walk_in_stay: list[np.random.Generator]
    absence: list[np.random.Generator]
    redirect_origin: list[np.random.Generator]

    @classmethod
    def of(cls, model: Model, replication: int) -> _Streams:
        seed = model.scenario.simulation.seed
        return cls(
            **{
                name: [generator(seed, replication, name, s.id) for s in model.specs]
                for name in STREAMS
            }
        )


def _on_duty(spec: CentreSpec, absence: float, rng: np.random.Generator) -> list[int]:
    """Caregivers who came in today, per shift: each absent with probability ``absence``."""
    return [int(rng.binomial(n, 1.0 - absence)) if absence > 0 else n for (_, _, n) in spec.shifts]


def _schedule_enrolled(
    c: Centre, ec: _EnrolledChildren, model: Model, streams: _Streams, j: int
) -> None:
    """Draw who of facility ``j``'s enrolled children attend today, when they come and
    leave, hold their places, and schedule their arrivals."""
    n_children = len(ec.kinds)
    if not n_children:
        return
    attend = streams.attendance[j].random(n_children) < ec.attendance
    arrive = np.empty(n_children)
    depart = np.empty(n_children)
    u = streams.enrolled_arrival[j].random(n_children)
    for k, mask, w_lo, w_span, until, n_k in ec.groups:
        a = w_lo + w_span * u[mask]
        stay = model.stays[k].sample(streams.enrolled_stay[j], n_k)
        arrive[mask] = a
        depart[mask] = np.minimum(a + stay, until)
    attending = np.flatnonzero(attend).tolist()
    arrive_l, depart_l = arrive.tolist(), depart.tolist()
    # a slot is released when its last attending child leaves
    last = [-1] * ec.n_slots
    best = [-math.inf] * ec.n_slots
    slot_of = ec.slot_of
    for m in attending:
        s = slot_of[m]
        if depart_l[m] > best[s]:
            best[s], last[s] = depart_l[m], m
    for m in last:
        if m >= 0:
            c.hold_slot(ec.ages[m])
    releasing = {m for m in last if m >= 0}
    for m in attending:
        c.enrol_arrival(arrive_l[m], depart_l[m], ec.kinds[m], ec.ages[m], m in releasing)


def _schedule_walk_ins(
    c: Centre,
    walk_ins: _WalkIns,
    streams: _Streams,
    j: int,
) -> None:
    """Draw facility ``j``'s walk-ins of the day (times and stays) and start their chain."""
    t_parts: list[np.ndarray] = []
    tags: list[tuple[int, int]] = []
    s_parts: list[np.ndarray] = []
    for k, profile, stay_dist, lams in walk_ins:
        n_new = 0
        for age, lam in lams:
            times = profile.sample(streams.walk_in_arrival[j], lam)
            t_parts.append(times)
            tags.append((k, age))
            n_new += times.size
        if n_new:
            s_parts.append(stay_dist.sample(streams.walk_in_stay[j], n_new))
    if len(t_parts) == 1:
        # one (type, age) stream: already sorted by ArrivalProfile.sample
        n_new = t_parts[0].size
        if n_new:
            k, age = tags[0]
            ArrivalChain(
                c, t_parts[0].tolist(), [k] * n_new, [age] * n_new, s_parts[0].tolist()
            ).start()
    elif t_parts:
        times = np.concatenate(t_parts)
        if times.size:
            order = np.argsort(times, kind="stable")
            sizes = [p.size for p in t_parts]
            ArrivalChain(
                c,
                times[order].tolist(),
                np.repeat([k for k, _ in tags], sizes)[order].tolist(),
                np.repeat([age for _, age in tags], sizes)[order].tolist(),
                np.concatenate(s_parts)[order].tolist(),
            ).start()


@dataclass(frozen=True)
class _Fixed:
    """What one replication draws on every day: streams, enrolled children, walk-in
    streams and the redirector, per facility."""

    streams: _Streams
    enrol: list[_EnrolledChildren]
    walk_ins: list[_WalkIns]
    redirector: _Redirects

    @classmethod
    def of(cls, model: Model, replication: int) -> _Fixed:
        streams = _Streams.of(model, replication)
        facilities = model.plan.facilities
        return cls(
            streams=streams,
            enrol=[_EnrolledChildren.of(fd, model) for fd in facilities],
            walk_ins=[_walk_in_streams(fd, model) for fd in facilities],
            redirector=_Redirects(model.plan, streams.redirect_origin),
        )


def _set_up_day(model: Model, fixed: _Fixed, env: Environment, episodes: bool) -> list[Centre]:
    """Every facility's day on ``env``, before it runs: caregivers on shift, enrolled
    arrivals and walk-ins scheduled, facility after facility."""
    centres: list[Centre] = []
    fixed.redirector.centres = centres
    absence = model.scenario.staff.absence_probability
    streams = fixed.streams
    n_types, close = model.n_types, model.close
    for j, spec in enumerate(model.specs):
        c = Centre(env, spec, n_types, close, fixed.redirector)
        if episodes:
            c.episodes = []
        centres.append(c)
        c.start_shifts(_on_duty(spec, absence, streams.absence[j]))
        _schedule_enrolled(c, fixed.enrol[j], model, streams, j)
        _schedule_walk_ins(c, fixed.walk_ins[j], streams, j)
    return centres


class _Totals:
    """A replication's running totals, and the days waiting to be added to them.

    A day's results (:meth:`record_day`) wait in buffers and are folded into the
    totals once every ``_BLOCK_DAYS`` days and after the last (:meth:`fold_block`);
    row 0 of the float buffers carries the running total, so the sums are the
    same additions in the same order as adding day after day.
    """

    def __init__(self, model: Model) -> None:
        days = model.scenario.simulation.days
        K = model.n_types
        F = len(model.specs)
        B = model.curve_edges.size - 1
        H = model.hour_edges.size - 1
        self.model = model
        self.days = days
        self.open = model.open
        self.counts = np.zeros((F, K, len(COUNTS)), dtype=np.int64)
        self.occupancy = np.zeros((F, K))
        self.curve = np.zeros((F, K, B))
        self.hist_f = np.zeros((F, B, HIST_BINS), dtype=np.int64)
        self.hist_d = np.zeros((B, HIST_BINS), dtype=np.int64)
        self.breach_min = np.zeros(F)
        self.breach_days = np.zeros(F, dtype=np.int64)
        self.breach_hour = np.zeros((F, H))
        self.short_hist = np.zeros((F, H, SHORT_BINS), dtype=np.int64)
        self.refused_hour = np.zeros((F, H), dtype=np.int64)
        self.daily = np.zeros((days, F, K, 4))
        self.no_breach = np.zeros(F, dtype=np.int64)
        self.episode_rows: list[tuple[int, int, float, float, int, int, str]] = []
        # fixed shapes of the day
        places_f = np.array([sum(s.places) for s in model.specs], dtype=float)
        self.widths = np.diff(model.curve_edges)
        self.hour_lo, self.hour_hi = model.hour_edges[:-1], model.hour_edges[1:]
        self.range_h = np.arange(H)
        self.places_total = float(places_f.sum())
        # facilities with places have a utilization histogram (usually all of them)
        self.staffed = np.flatnonzero(places_f > 0)
        self.staffed_places = places_f[self.staffed, None]
        # the block of days not yet folded into the totals
        nb = max(1, min(days, _BLOCK_DAYS))
        self.block_days = nb
        self.buf_child = np.zeros((nb + 1, F, K))  # child-minutes by facility and type
        self.buf_mean = np.zeros((nb + 1, F, K, B))  # mean children present by step
        self.buf_total = np.zeros((nb, F, B))  # the same summed over care types
        self.tally_rows: list[list[int]] = []
        self.block_start = 0

    def record_day(self, day: int, centres: list[Centre]) -> None:
        """Close the day at every facility and keep what it saw in the block."""
        model = self.model
        K = model.n_types
        i = day - self.block_start
        tally: list[int] = []
        for j, c in enumerate(centres):
            c.end_day()
            if c.episodes is not None:
                self.episode_rows.extend((day, j, *e) for e in c.episodes)
            by_step = _integrate(c.log_times, c.log_changes, K, model.curve_edges)
            # the same three operations as ever, their results kept for the block
            by_step.sum(axis=1, out=self.buf_child[i + 1, j])
            mean_step = by_step / self.widths
            self.buf_mean[i + 1, j] = mean_step
            mean_step.sum(axis=0, out=self.buf_total[i, j])
            tally += c.arrivals
            tally += c.admitted
            tally += c.redirected_out
            tally += c.turned_away
            tally += c.redirected_in
            tally += c.refused_staff
            self._record_staffing(j, c)
        self.tally_rows.append(tally)

    def block_ends(self, day: int) -> bool:
        """Whether ``day`` is the last of its block (full, or the replication's last day)."""
        return day + 1 - self.block_start == self.block_days or day + 1 == self.days

    def _record_staffing(self, j: int, c: Centre) -> None:
        """Walk-ins refused for want of a caregiver, and ratio breaches, by hour."""
        H = self.range_h.size
        if c.refused_staff_at:
            hours = np.minimum(
                ((np.asarray(c.refused_staff_at) - self.open) // 60.0).astype(np.int64),
                H - 1,
            )
            np.add.at(self.refused_hour[j], hours, 1)
        if c.breach_intervals:
            short = np.zeros(H, dtype=np.int64)
            self.breach_days[j] += 1
            for lo, hi, level in c.breach_intervals:
                self.breach_min[j] += hi - lo
                overlap = np.minimum(self.hour_hi, hi) - np.maximum(self.hour_lo, lo)
                self.breach_hour[j] += np.maximum(overlap, 0.0)
                short = np.where(overlap > 0, np.maximum(short, level), short)
            self.short_hist[j, self.range_h, np.minimum(short, SHORT_BINS - 1)] += 1
        else:
            self.no_breach[j] += 1

    def fold_block(self, day: int) -> None:
        """Add the block of days ending with ``day`` to the totals; start a new block."""
        start = self.block_start
        n = day + 1 - start
        F = len(self.model.specs)
        B = self.widths.size
        K = self.model.n_types
        buf_child, buf_mean = self.buf_child, self.buf_mean
        # running totals: day after day from row 0, each an elementwise addition
        # in day order (accumulate never reassociates), as ``total += today`` did
        self.daily[start : day + 1, :, :, 3] = buf_child[1 : n + 1]
        buf_child[0] = self.occupancy
        np.add.accumulate(buf_child[: n + 1], axis=0, out=buf_child[: n + 1])
        self.occupancy[...] = buf_child[n]
        buf_mean[0] = self.curve
        np.add.accumulate(buf_mean[: n + 1], axis=0, out=buf_mean[: n + 1])
        self.curve[...] = buf_mean[n]
        # whole numbers: exact whatever the order
        tallies = np.array(self.tally_rows, dtype=np.int64).reshape(n, F, len(COUNTS), K)
        self.counts += tallies.sum(axis=0).transpose(0, 2, 1)
        self.daily[start : day + 1, :, :, :3] = tallies[:, :, _DAILY_ROWS].transpose(0, 1, 3, 2)
        day_total = self.buf_total[:n]
        if self.staffed.size:
            util = day_total[:, self.staffed] / self.staffed_places
            _count_bins(self.hist_f, self.staffed, _hist_index_finite(util))
        if self.places_total > 0:
            district_bins = np.zeros((n, B))
            for j in range(F):  # facility after facility, as before
                district_bins += day_total[:, j]
            _count_bins(
                self.hist_d[None],
                np.zeros(1, dtype=np.intp),
                _hist_index_finite(district_bins / self.places_total)[:, None],
            )
        self.tally_rows = []
        self.block_start = day + 1

    def result(self, replication: int, episodes: bool) -> ReplicationResult:
        """The totals as a :class:`ReplicationResult` (after the last block is folded)."""
        self.short_hist[:, :, 0] += self.no_breach[:, None]
        return ReplicationResult(
            episodes=self.episode_rows if episodes else None,
            replication=replication,
            counts=self.counts,
            occupancy_min=self.occupancy,
            curve=self.curve,
            hist_facility=self.hist_f,
            hist_district=self.hist_d,
            breach_min=self.breach_min,
            breach_days=self.breach_days,
            breach_by_hour=self.breach_hour,
            short_by_hour=self.short_hist,
            refused_by_hour=self.refused_hour,
            daily=self.daily,
        )


def run_replication(model: Model, replication: int, episodes: bool = False) -> ReplicationResult:
    """Simulate every day of one replication; return its totals.

    Each day every facility is set up (staff on shift, enrolled children and
    walk-ins drawn and scheduled), the day runs in SimPy, and what each facility
    saw is integrated and kept; blocks of days are folded into the totals.
    """
    fixed = _Fixed.of(model, replication)
    totals = _Totals(model)
    for day in range(model.scenario.simulation.days):
        env = Environment(initial_time=model.open)
        centres = _set_up_day(model, fixed, env, episodes)
        env.run()
        totals.record_day(day, centres)
        if totals.block_ends(day):
            totals.fold_block(day)
    return totals.result(replication, episodes)


@dataclass
class SimulationResult:
    """All replications of one scenario, in replication order."""

    model: Model
    replications: list[ReplicationResult]

    @property
    def scenario(self) -> Scenario:
        return self.model.scenario

    def extended(self, more: SimulationResult) -> SimulationResult:
        """This result with the replications of ``more`` (same model) after its own."""
        return SimulationResult(
            model=self.model, replications=self.replications + more.replications
        )


_WORKER_MODEL: Model | None = None


_WORKER_EPISODES = False


def _init_worker(model: Model, episodes: bool) -> None:
    global _WORKER_MODEL, _WORKER_EPISODES
    _WORKER_MODEL = model
    _WORKER_EPISODES = episodes


def _run_in_worker(replication: int) -> ReplicationResult:
    assert _WORKER_MODEL is not None
    return run_replication(_WORKER_MODEL, replication, _WORKER_EPISODES)


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def simulate(
    scenario: Scenario,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    model: Model | None = None,
    episodes: bool = False,
    replications: range | None = None,
) -> SimulationResult:
    """Run every replication of ``scenario``.

    Parameters
    ----------
    scenario
        A validated scenario; its ``simulation`` section sets days, replications
        and seed.
    workers
        Processes to use (1 runs in this process). Results do not depend on it.
    progress
        Called with the number of replications finished so far.
    model
        A prebuilt :func:`build_model` of ``scenario``, to skip rebuilding it.
    episodes
        Also keep one record per child (memory grows with days and arrivals).
    replications
        Which replications to run (default ``range(simulation.replications)``);
        replication ``k`` has the same random streams whichever others run, so
        more replications can be added to a result later
        (:meth:`SimulationResult.extended`).
    """
    model = model or build_model(scenario)
    ids = replications if replications is not None else range(scenario.simulation.replications)
    n = len(ids)
    results: list[ReplicationResult | None] = [None] * n
    workers = max(1, min(workers, n))
    if workers == 1:
        for i, r in enumerate(ids):
            results[i] = run_replication(model, r, episodes)
            if progress:
                progress(i + 1)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(model, episodes),
        ) as pool:
            chunk = max(1, math.ceil(n / (workers * 4)))
            for done, res in enumerate(pool.map(_run_in_worker, ids, chunksize=chunk), 1):
                results[res.replication - ids.start] = res
                if progress:
                    progress(done)
    return SimulationResult(model=model, replications=[r for r in results if r is not None])

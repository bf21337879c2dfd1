"""SimPy processes of one facility (托育机构) during one open day.

State per age class ``c``: children present, and free places in two kinds of
pool — the shared pool (places not reserved for a walk-in type) and one pool
per walk-in type with reserved places. Enrolled places ("slots") are held from
opening until the slot's last attending child leaves, so a walk-in never takes a
place an enrolled child will need later that day, and occupancy never exceeds
places.

Caregivers needed = sum over classes of ceil(present_c / ratio_c), kept up to
date incrementally.

Staffing, in the terms of :mod:`tuoyu_sim.staffing` (the rule both the
allocation model and the plan loop roster by): each caregiver works one shift;
the shifts on duty change at the segment boundaries of the day; on each day a
caregiver is absent with probability q (``staff.absence_probability``), so the
caregivers on shift in a segment are a binomial draw of those rostered on the
shifts on duty. The rule rosters, per segment, caregivers whose expected number
present, (1 - q) times those rostered, covers the national ratios for the
children who can be there then (all places in the core of the day); here the
children actually present, minute by minute, are held to the ratios.

A walk-in is admitted only if a place of its class is free *and* the
caregivers on shift still meet the ratio after admitting it; an enrolled child
is always admitted, and a shortfall is a *ratio breach*, timed to the minute.

SimPy drives the day: arrivals (one chain of timeouts per facility, only the
next arrival on the queue), enrolled arrivals and shift changes are SimPy
timeouts with callbacks (no generator per child). A child's departure time is
known when it is admitted, so departures wait in the facility's own heap
(``due``) and are applied, in time order and at their own times, before the
facility handles its next event. That is exact — no decision at time t depends
on a departure after t — and it spares the event queue one timeout per child.
Each event carries the time it fires, computed when it was scheduled, so
nothing here reads SimPy's private clock; the private parts used (re-scheduling
a processed timeout, reading an event's value) are behind
:mod:`tuoyu_sim._simpy`.
Clock: minutes after midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

from tuoyu_sim._simpy import NORMAL, Environment, Event, event_heap, event_value


@dataclass(frozen=True)
class CentreSpec:
    """What does not change from day to day at one facility."""

    index: int
    id: str
    places: tuple[int, ...]
    """Places per age class."""
    reserved: tuple[tuple[int, ...] | None, ...]
    """Per care type: reserved places per age class, or None."""
    ratios: tuple[int, ...]
    shifts: tuple[tuple[float, float, int], ...]
    """(start, end, caregivers) of direct caregivers, in minutes after midnight."""
    redirect: tuple[bool, ...]
    """Per care type: whether a walk-in turned away here may be redirected."""
    pool_of: tuple[int, ...] = ()
    """Per care type: the care type whose reserved pool it uses (itself, or the
    first walk-in type of a pool several share); empty: each its own."""

    def owner(self, k: int) -> int:
        return self.pool_of[k] if self.pool_of else k

    @property
    def shared_places(self) -> list[int]:
        shared = list(self.places)
        for k, pool in enumerate(self.reserved):
            if pool is not None and self.owner(k) == k:
                for c, n in enumerate(pool):
                    shared[c] -= n
        return shared


Redirector = Callable[["Centre", int, int, float, float], bool]
"""Called with (origin centre, care type, age class, stay minutes, now) when a
walk-in cannot be admitted; returns True if another facility admitted the child."""


class Centre:
    """One facility during one day: state, counters and the event log.

    Counters are lists indexed by care type. ``log_times`` and ``log_changes``
    hold one entry per change of the children present — its time, and ``k + 1``
    when a child of care type ``k`` arrives or ``-(k + 1)`` when one leaves —
    from which the day's occupancy curves are integrated after the day (two flat
    lists turn into NumPy arrays faster than one list of tuples).
    """

    __slots__ = (
        "admitted",
        "arrivals",
        "breach_intervals",
        "breach_level",
        "breach_since",
        "close",
        "due",
        "env",
        "episodes",
        "free_res",
        "free_shared",
        "last_drop",
        "log_changes",
        "log_times",
        "needed",
        "on_shift",
        "present",
        "ratios",
        "redirected_in",
        "redirected_out",
        "redirector",
        "refused_staff",
        "refused_staff_at",
        "schedule",
        "short_staff",
        "spec",
        "turned_away",
    )

    def __init__(
        self,
        env: Environment,
        spec: CentreSpec,
        n_types: int,
        close: float,
        redirector: Redirector | None = None,
    ) -> None:
        self.env = env
        self.spec = spec
        self.close = close
        self.ratios = list(spec.ratios)
        self.present = [0] * len(spec.places)
        self.free_shared = spec.shared_places
        # care types that share a pool hold the same list
        self.free_res: list[list[int] | None] = []
        for k, p in enumerate(spec.reserved):
            own = spec.owner(k)
            if p is None:
                self.free_res.append(None)
            elif own == k:
                self.free_res.append(list(p))
            else:
                self.free_res.append(self.free_res[own])
        self.needed = 0
        self.on_shift = 0
        self.breach_since = -1.0
        self.breach_level = 0
        self.breach_intervals: list[tuple[float, float, int]] = []
        self.arrivals = [0] * n_types
        self.admitted = [0] * n_types
        self.redirected_out = [0] * n_types
        self.redirected_in = [0] * n_types
        self.turned_away = [0] * n_types
        self.refused_staff = [0] * n_types
        """Walk-ins refused although a place was free: too few caregivers."""
        self.refused_staff_at: list[float] = []
        """When each of those walk-ins came (minutes after midnight)."""
        self.short_staff = False
        """Why the last :meth:`try_admit` refused: caregivers (True) or places."""
        self.log_times: list[float] = []
        self.log_changes: list[int] = []
        self.redirector = redirector
        self.episodes: list[tuple[float, float, int, int, str]] | None = None
        """Per-child records ``(arrival, departure, care type, age class, outcome)``,
        kept only when asked (``simulate --episodes``)."""
        self.schedule: list[tuple[float, int]] = []
        self.last_drop = -1.0
        self.due: list[tuple[float, int, int, int]] = []
        """Departures to come: (time, care type, age class, place pool)."""

    # -- staff -------------------------------------------------------------

    def start_shifts(self, on_duty: Sequence[int]) -> None:
        """Schedule today's shifts; ``on_duty[i]`` caregivers of shift i came in."""
        env = self.env
        now = env.now
        changes: list[tuple[float, int]] = []
        for (start, end, _), n in zip(self.spec.shifts, on_duty, strict=True):
            if n == 0 or end <= now or start >= self.close:
                continue
            if start <= now:
                self.on_shift += n
            else:
                delay = start - now
                env.timeout(delay, (now + delay, n)).callbacks.append(self._shift_change)
                changes.append((start, n))
            if end < self.close:
                delay = end - now
                env.timeout(delay, (now + delay, -n)).callbacks.append(self._shift_change)
                changes.append((end, -n))
        # caregivers on shift after each change today, to look ahead at admission
        level = self.on_shift
        for t, delta in sorted(changes):
            level += delta
            self.schedule.append((t, level))
            if delta < 0:
                self.last_drop = t

    def _shift_change(self, event: Event) -> None:
        """Caregivers come on shift (``change`` > 0) or go off it (< 0) at ``now``."""
        now, change = event_value(event)  # set in start_shifts
        if self.due and self.due[0][0] <= now:
            self._drain(now)
        self.on_shift += change
        self._check_breach(now)

    def _check_breach(self, now: float) -> None:
        short = self.needed - self.on_shift
        if short > 0:
            if self.breach_since < 0:
                self.breach_since = now
            if short > self.breach_level:
                self.breach_level = short
        elif self.breach_since >= 0:
            self._end_breach(now)

    def _end_breach(self, now: float) -> None:
        self.breach_intervals.append((self.breach_since, now, self.breach_level))
        self.breach_since = -1.0
        self.breach_level = 0

    def end_day(self) -> None:
        """Apply the last departures and close an open breach interval at closing time."""
        self._drain(self.close)
        if self.breach_since >= 0:
            self._end_breach(self.close)

    # -- enrolled children -----------------------------------------------------

    def hold_slot(self, age: int) -> None:
        """An enrolled place is held for the day (some child of it attends)."""
        self.free_shared[age] -= 1

    def enrol_arrival(self, arrive: float, depart: float, k: int, age: int, releases: bool) -> None:
        """Schedule an enrolled child's arrival; it leaves at ``depart``."""
        env = self.env
        now = env.now
        delay = arrive - now
        ev = env.timeout(delay, (now + delay, depart, k, age, releases))
        ev.callbacks.append(self._enrolled_arrives)

    def _enrolled_arrives(self, event: Event) -> None:
        now, depart, k, age, releases = event_value(event)  # set in enrol_arrival
        if self.due and self.due[0][0] <= now:
            self._drain(now)
        self.arrivals[k] += 1
        self.admitted[k] += 1
        p = self.present[age]
        if p % self.ratios[age] == 0:
            self.needed += 1
        self.present[age] = p + 1
        self.log_times.append(now)
        self.log_changes.append(k + 1)
        if self.needed > self.on_shift:
            self._check_breach(now)
        depart = depart if depart > now else now
        heappush(self.due, (depart, k, age, -2 if releases else -3))
        if self.episodes is not None:
            self.episodes.append((now, depart, k, age, "enrolled"))

    # -- walk-ins --------------------------------------------------------------

    def _fewest_on_shift(self, now: float, until: float) -> int:
        """The fewest caregivers on shift between ``now`` and ``until``."""
        fewest = self.on_shift
        for t, level in self.schedule:
            if t >= until:
                break
            if t > now and level < fewest:
                fewest = level
        return fewest

    def _covered_until(self, now: float, until: float, age: int) -> bool:
        """Whether the caregivers on shift still meet the ratios, with one more child
        of class ``age`` present until ``until``, at every shift change before then.

        At a change at time t the children present are those here now whose
        departure (known: ``due``) comes after t, plus the newcomer.
        """
        ratios = self.ratios
        for t, level in self.schedule:
            if t >= until:
                break
            if t <= now:
                continue
            left = list(self.present)
            for d, _k, a, _pool in self.due:
                if d <= t:
                    left[a] -= 1
            left[age] += 1
            need = 0
            for c, n in enumerate(left):
                if n > 0:
                    need += -(-n // ratios[c])
            if need > level:
                return False
        return True

    def try_admit(self, k: int, age: int, stay: float, now: float) -> bool:
        """Admit a walk-in of care type ``k`` arriving at ``now`` if a place and caregivers allow.

        The caregivers on shift must meet the ratios with this child added, now
        and at every shift change until the child is collected (parents book a
        drop-in or hourly block, and the centre knows when the children already
        there leave, so it knows whether a shift change would leave it short).
        """
        due = self.due
        if due and due[0][0] <= now:
            self._drain(now)
        res = self.free_res[k]
        if res is not None and res[age] > 0:
            pool = k
        elif self.free_shared[age] > 0:
            pool = -1
        else:
            self.short_staff = False
            return False
        p = self.present[age]
        add = 1 if p % self.ratios[age] == 0 else 0
        if self.needed + add > self.on_shift:
            self.short_staff = True
            return False
        left = self.close - now
        if stay > left:
            stay = left
        if (
            now < self.last_drop
            # quick: the children here now fit every shift to come (departures only help)
            and self.needed + add > self._fewest_on_shift(now, now + stay)
            and not self._covered_until(now, now + stay, age)
        ):
            self.short_staff = True
            return False
        if pool < 0:
            self.free_shared[age] -= 1
        else:
            res[age] -= 1  # type: ignore[index]
        self.present[age] = p + 1
        self.needed += add
        self.log_times.append(now)
        self.log_changes.append(k + 1)
        heappush(due, (now + stay, k, age, pool))
        if self.episodes is not None:
            self.episodes.append((now, now + stay, k, age, "admitted"))
        return True

    def walk_in(self, k: int, age: int, stay: float, now: float) -> None:
        """A walk-in arrives here at ``now``: admitted, redirected, or turned away."""
        self.arrivals[k] += 1
        if self.try_admit(k, age, stay, now):
            self.admitted[k] += 1
        else:
            self.refused(k, age, stay, now)

    def refused(self, k: int, age: int, stay: float, now: float) -> None:
        """A walk-in found no room here: redirected if allowed and possible, else turned away."""
        if self.short_staff:
            self.refused_staff[k] += 1
            self.refused_staff_at.append(now)
        if (
            self.redirector is not None
            and self.spec.redirect[k]
            and self.redirector(self, k, age, stay, now)
        ):
            self.redirected_out[k] += 1
            if self.episodes is not None:
                self.episodes.append((now, now, k, age, "redirected"))
        else:
            self.turned_away[k] += 1
            if self.episodes is not None:
                self.episodes.append((now, now, k, age, "turned_away"))

    # -- departures ------------------------------------------------------------

    def _drain(self, now: float) -> None:
        """Apply, in time order, every departure due at or before ``now``."""
        due = self.due
        while due and due[0][0] <= now:
            t, k, age, pool = heappop(due)
            self._depart(t, k, age, pool)

    def _depart(self, t: float, k: int, age: int, pool: int) -> None:
        """A child leaves at time ``t``; its place returns to the pool it came from.

        ``pool``: a walk-in type's reserved pool (≥ 0), the shared pool (-1), an
        enrolled child whose slot is released (-2) or not yet (-3).
        """
        p = self.present[age] - 1
        self.present[age] = p
        if p % self.ratios[age] == 0:
            self.needed -= 1
        if pool == -1 or pool == -2:  # shared walk-in place, or an enrolled slot released
            self.free_shared[age] += 1
        elif pool >= 0:
            reserved = self.free_res[pool]
            assert reserved is not None
            reserved[age] += 1
        self.log_times.append(t)
        self.log_changes.append(-1 - k)
        if self.breach_since >= 0 and self.needed <= self.on_shift:
            self._end_breach(t)


class ArrivalChain:
    """Walk-in arrivals at one facility as a chain of timeouts, one at a time.

    Only the next arrival is ever on the event queue, so the queue stays small,
    and it is one Timeout, scheduled again for each arrival (no event per child).
    ``times`` (sorted, minutes after midnight), ``kinds`` (care type), ``ages``
    (age class) and ``stays`` (minutes) are plain lists, one entry per walk-in:
    the hot path indexes them, and a list indexes faster than an array.
    """

    __slots__ = ("ages", "at", "centre", "i", "ids", "kinds", "n", "queue", "stays", "times")

    def __init__(
        self,
        centre: Centre,
        times: list[float],
        kinds: list[int],
        ages: list[int],
        stays: list[float],
    ) -> None:
        self.centre = centre
        self.times = times
        self.kinds = kinds
        self.ages = ages
        self.stays = stays
        self.i = 0
        self.n = len(times)
        self.at = 0.0
        """When the pending arrival fires (the environment's clock then)."""
        self.queue, self.ids = event_heap(centre.env)

    def start(self) -> None:
        if self.times:
            env = self.centre.env
            now = env.now
            delay = self.times[0] - now
            self.at = now + delay
            env.timeout(delay).callbacks.append(self._fire)

    def _fire(self, event: Event) -> None:
        # Centre.walk_in, spelt out: this runs once per walk-in (the hot path)
        i = self.i
        c = self.centre
        now = self.at
        k = self.kinds[i]
        c.arrivals[k] += 1
        if c.try_admit(k, self.ages[i], self.stays[i], now):
            c.admitted[k] += 1
        else:
            c.refused(k, self.ages[i], self.stays[i], now)
        i += 1
        self.i = i
        if i < self.n:
            # ``env.timeout(delay).callbacks.append(self._fire)`` without a new event:
            # the Timeout just processed goes back on the heap, as Environment.schedule
            # would put a new one (same time, priority and next event id); see
            # tuoyu_sim._simpy.event_heap
            delay = self.times[i] - now
            if delay < 0:
                raise ValueError(f"Negative delay {delay}")
            at = now + delay
            self.at = at
            event.callbacks = [self._fire]
            heappush(self.queue, (at, NORMAL, next(self.ids), event))

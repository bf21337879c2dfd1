"""Demand: stay distributions, arrival profiles, and who goes where.

* Stay distributions are objects that know their own mean and variance and
  draw stays in minutes (:func:`stay_distribution`).
* Arrival profiles are piecewise-constant rates over a window; arrivals are
  drawn exactly as a non-homogeneous Poisson process (:class:`ArrivalProfile`).
* :func:`plan_demand` turns communities into enrolled children per facility
  (nearest first within the cut-off, waitlist when full) and walk-in arrival
  rates per facility (nearest facility, or split by distance decay).

Clock unit: minutes after midnight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from tuoyu_sim.geography import decay_factor, pairs_within
from tuoyu_sim.scenario import CARE_TYPES, CareType, Scenario, Stay
from tuoyu_sim.takeup import at_fees, logit_split

# -- stay distributions ---------------------------------------------------------


class StayDistribution:
    """A stay-length distribution in minutes."""

    mean_minutes: float
    var_minutes2: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def survival(self, minutes: np.ndarray) -> np.ndarray:  # pragma: no cover
        """P(stay > minutes), elementwise."""
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(StayDistribution):
    mean_minutes: float

    @property
    def var_minutes2(self) -> float:  # type: ignore[override]
        return self.mean_minutes**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_minutes, n)

    def survival(self, minutes: np.ndarray) -> np.ndarray:
        return np.exp(-np.maximum(np.asarray(minutes, dtype=float), 0.0) / self.mean_minutes)


@dataclass(frozen=True)
class Lognormal(StayDistribution):
    """Lognormal given by its mean and standard deviation (not mu and sigma)."""

    mean_minutes: float
    sd_minutes: float

    @property
    def var_minutes2(self) -> float:  # type: ignore[override]
        return self.sd_minutes**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        s2 = math.log1p((self.sd_minutes / self.mean_minutes) ** 2)
        mu = math.log(self.mean_minutes) - s2 / 2.0
        return rng.lognormal(mu, math.sqrt(s2), n)

    def survival(self, minutes: np.ndarray) -> np.ndarray:
        s2 = math.log1p((self.sd_minutes / self.mean_minutes) ** 2)
        mu = math.log(self.mean_minutes) - s2 / 2.0
        x = np.maximum(np.asarray(minutes, dtype=float), 1e-12)
        return np.asarray(special.ndtr(-(np.log(x) - mu) / math.sqrt(s2)))


@dataclass(frozen=True)
class TruncatedNormal(StayDistribution):
    """Normal(mu, sd) truncated to [lo, hi], drawn by inversion."""

    mu_minutes: float
    sd_minutes: float
    lo_minutes: float
    hi_minutes: float

    def _dist(self) -> Any:
        from scipy import stats  # lazy: importing scipy.stats costs ~0.5 s

        if self.sd_minutes == 0:
            return stats.uniform(self.mu_minutes, 0.0)  # degenerate; handled below
        a = (self.lo_minutes - self.mu_minutes) / self.sd_minutes
        b = (self.hi_minutes - self.mu_minutes) / self.sd_minutes
        return stats.truncnorm(a, b, loc=self.mu_minutes, scale=self.sd_minutes)

    @property
    def mean_minutes(self) -> float:  # type: ignore[override]
        if self.sd_minutes == 0:
            return float(np.clip(self.mu_minutes, self.lo_minutes, self.hi_minutes))
        return float(self._dist().mean())

    @property
    def var_minutes2(self) -> float:  # type: ignore[override]
        return 0.0 if self.sd_minutes == 0 else float(self._dist().var())

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.sd_minutes == 0:
            return np.full(n, self.mean_minutes)
        # inversion with special functions: the frozen scipy distribution costs
        # ~0.75 ms to build and ~0.25 ms per ppf call, this ~2 us
        a = (self.lo_minutes - self.mu_minutes) / self.sd_minutes
        b = (self.hi_minutes - self.mu_minutes) / self.sd_minutes
        u = rng.random(n)
        if a > 0.0:  # interval in the upper tail: work with the mirror image
            pa, pb = special.ndtr(-b), special.ndtr(-a)
            z = -special.ndtri(pb - u * (pb - pa))
        else:
            pa, pb = special.ndtr(a), special.ndtr(b)
            z = special.ndtri(pa + u * (pb - pa))
        return self.mu_minutes + self.sd_minutes * np.clip(z, a, b)

    def survival(self, minutes: np.ndarray) -> np.ndarray:
        x = np.asarray(minutes, dtype=float)
        if self.sd_minutes == 0:
            return (x < self.mean_minutes).astype(float)
        a = (self.lo_minutes - self.mu_minutes) / self.sd_minutes
        b = (self.hi_minutes - self.mu_minutes) / self.sd_minutes
        z = np.clip((x - self.mu_minutes) / self.sd_minutes, a, b)
        pa, pb = special.ndtr(a), special.ndtr(b)
        return np.asarray(np.clip((pb - special.ndtr(z)) / (pb - pa), 0.0, 1.0))


@dataclass(frozen=True)
class Uniform(StayDistribution):
    lo_minutes: float
    hi_minutes: float

    @property
    def mean_minutes(self) -> float:  # type: ignore[override]
        return (self.lo_minutes + self.hi_minutes) / 2.0

    @property
    def var_minutes2(self) -> float:  # type: ignore[override]
        return (self.hi_minutes - self.lo_minutes) ** 2 / 12.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.lo_minutes, self.hi_minutes, n)

    def survival(self, minutes: np.ndarray) -> np.ndarray:
        x = np.asarray(minutes, dtype=float)
        width = self.hi_minutes - self.lo_minutes
        if width <= 0:
            return (x < self.lo_minutes).astype(float)
        return np.asarray(np.clip((self.hi_minutes - x) / width, 0.0, 1.0))


@dataclass(frozen=True)
class Fixed(StayDistribution):
    mean_minutes: float

    @property
    def var_minutes2(self) -> float:  # type: ignore[override]
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.mean_minutes)

    def survival(self, minutes: np.ndarray) -> np.ndarray:
        return (np.asarray(minutes, dtype=float) < self.mean_minutes).astype(float)


def stay_distribution(stay: Stay) -> StayDistribution:
    """The distribution object for a scenario's ``stay = {...}`` (hours → minutes)."""
    m = (stay.mean_hours or 0.0) * 60.0
    sd = (stay.sd_hours or 0.0) * 60.0
    if stay.dist == "exponential":
        return Exponential(m)
    if stay.dist == "lognormal":
        return Lognormal(m, sd)
    if stay.dist == "normal":
        lo = (stay.min_hours if stay.min_hours is not None else 0.0) * 60.0
        hi = (stay.max_hours if stay.max_hours is not None else 24.0) * 60.0
        return TruncatedNormal(m, sd, lo, hi)
    if stay.dist == "uniform":
        assert stay.min_hours is not None and stay.max_hours is not None
        return Uniform(stay.min_hours * 60.0, stay.max_hours * 60.0)
    return Fixed(m)


# -- arrival profiles -----------------------------------------------------------


@dataclass(frozen=True)
class ArrivalProfile:
    """A piecewise-constant arrival intensity over a window, normalised to mass 1.

    ``edges`` (minutes) bound the pieces; ``mass[i]`` is the share of the day's
    arrivals expected in piece ``i``.
    """

    edges: np.ndarray
    mass: np.ndarray
    _starts: np.ndarray = field(init=False, repr=False, compare=False)
    """Start of each piece, ``edges[:-1]`` (minutes)."""
    _widths: np.ndarray = field(init=False, repr=False, compare=False)
    """Width of each piece, ``diff(edges)`` (minutes)."""
    _mass: tuple[float, ...] = field(init=False, repr=False, compare=False)
    """``mass`` as Python floats."""

    def __post_init__(self) -> None:
        # fixed once here: sample() runs once per facility, care type and age class a day
        object.__setattr__(self, "_starts", self.edges[:-1])
        object.__setattr__(self, "_widths", np.diff(self.edges))
        object.__setattr__(self, "_mass", tuple(np.asarray(self.mass, dtype=float).tolist()))

    @classmethod
    def for_care_type(
        cls, care_type: CareType, open_min: float, close_min: float
    ) -> ArrivalProfile:
        lo, hi = care_type.window if care_type.window is not None else (open_min, close_min)
        if care_type.profile == "flat":
            return cls(np.array([lo, hi]), np.array([1.0]))
        weights = np.asarray(care_type.profile, dtype=float)
        edges = np.minimum(lo + 60.0 * np.arange(len(weights) + 1), hi)
        widths = np.diff(edges)
        mass = weights * widths
        return cls(edges, mass / mass.sum())

    def rate_per_min(self, expected_total: float) -> np.ndarray:
        """The intensity in each piece, arrivals per minute."""
        return expected_total * self.mass / np.diff(self.edges)

    def sample(self, rng: np.random.Generator, expected_total: float) -> np.ndarray:
        """Arrival times of one day, sorted, for a day expecting ``expected_total``.

        Exact for a piecewise-constant intensity: the count in each piece is
        Poisson, and given the count the times are independent uniforms.
        """
        if expected_total <= 0:
            return np.zeros(0)
        # one Poisson draw per piece, in piece order: the draws, and the products
        # expected_total * mass[i], of rng.poisson(expected_total * self.mass),
        # without the cost of broadcasting over a tiny array
        mass = self._mass
        if len(mass) == 1:
            # one piece (a flat profile): the same draws and the same arithmetic,
            # start + width * u, without repeating the piece's bounds n times
            n = int(rng.poisson(expected_total * mass[0]))
            times = self._starts[0] + self._widths[0] * rng.random(n)
        else:
            counts = [rng.poisson(expected_total * m) for m in mass]
            starts = np.repeat(self._starts, counts)
            widths = np.repeat(self._widths, counts)
            times = starts + widths * rng.random(starts.size)
        times.sort()
        return times


# -- who goes where ---------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One enrolled place: one child, or children of sessions sharing it.

    ``members`` are ``(care type index, session index)`` pairs; a slot is held
    from opening until its last attending child leaves.
    """

    age: int
    members: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class FacilityDemand:
    """What one facility receives."""

    slots: tuple[Slot, ...]
    enrolled: np.ndarray
    """Enrolled children by care type and age class, shape (K, C)."""
    waitlist: int
    walk_in_per_day: np.ndarray
    """Expected walk-in arrivals per open day by care type and age class, (K, C)."""
    origins: tuple[tuple[np.ndarray, np.ndarray], ...]
    """Per care type: (community indices, probabilities) of where walk-ins come from."""
    waitlist_by_age: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    """The waitlist by age class, shape (C,)."""
    waitlist_from: tuple[int, ...] = ()
    """Communities (indices) whose children are on the waitlist."""


@dataclass(frozen=True)
class DemandPlan:
    """Demand placed on every facility, from :func:`plan_demand`."""

    care_types: tuple[str, ...]
    ages: tuple[str, ...]
    facilities: tuple[FacilityDemand, ...]
    reach: tuple[np.ndarray, ...]
    """Per community: facility indices within the cut-off, nearest first."""
    unreached_enrolled: int
    unreached_walk_in_per_day: float
    enrolled_demand: int
    notes: tuple[str, ...] = field(default=())


def decay_weights(dist_m: np.ndarray, scenario: Scenario) -> np.ndarray:
    """Relative attraction of facilities at ``dist_m`` under the scenario's assignment.

    ``nearest``: 1 for the nearest, 0 for the others. ``decay``: the distance decay
    of :func:`tuoyu_sim.geography.decay_factor`; linear decay reaches 0 just past
    the cut-off and keeps a floor of 1e-12, so a community whose facilities all sit
    at the cut-off still splits its demand among them.
    """
    geo = scenario.geography
    if geo.assignment == "nearest":
        w = np.zeros_like(dist_m)
        if dist_m.size:
            w[int(np.argmin(dist_m))] = 1.0
        return w
    kind = geo.decay.kind
    if kind == "linear":
        return decay_factor(dist_m, kind, geo.decay.beta, geo.reach_m * (1 + 1e-9)) + 1e-12
    return decay_factor(dist_m, kind, geo.decay.beta, geo.reach_m)


def demand_count(expected: float) -> int:
    """Children as a whole number: rounded half up."""
    return math.floor(expected + 0.5)


def plan_demand(scenario: Scenario) -> DemandPlan:
    """Place every community's demand on facilities within the cut-off.

    Enrolled demand (children x age share x propensity, rounded) is placed nearest
    pair first, up to each facility's enrolable places (places less reserved
    walk-in places); children of a type with sessions share a place across its
    sessions. What does not fit joins the waitlist of the nearest facility within
    reach. Walk-in demand goes to the nearest facility offering places of the
    child's age class (or is split by distance decay); redirects later follow
    ``reach`` from the child's community. With ``[takeup]`` the communities'
    shares are first taken at the scenario's fees (:mod:`tuoyu_sim.takeup`).
    """
    scenario = at_fees(scenario)  # without [takeup]: the scenario itself
    split = logit_split(scenario)  # None unless [takeup] choice = "logit"
    types = tuple(k for k in CARE_TYPES if k in scenario.care_types)
    ages = tuple(scenario.age_groups)
    K, C, F = len(types), len(ages), len(scenario.facilities)
    comms = scenario.communities
    facs = scenario.facilities
    pairs = pairs_within(scenario, comms, facs, scenario.geography.reach_m)
    reach = tuple(pairs.targets_of(i)[0] for i in range(len(comms)))
    reach_d = tuple(pairs.targets_of(i)[1] for i in range(len(comms)))

    places = np.array([[f.places.get(a, 0) for a in ages] for f in facs], dtype=int).reshape(F, C)
    reserved = np.zeros((F, C), dtype=int)
    for j, f in enumerate(facs):
        for r in f.reserved.values():
            if isinstance(r, dict):
                for age_name, n in r.items():
                    reserved[j, ages.index(age_name)] += n
            else:
                reserved[j] += _spread(r, places[j])
    capacity = places - reserved

    enrolled_types = [k for k, t in enumerate(types) if scenario.care_types[t].mode == "enrolled"]
    walk_types = [k for k, t in enumerate(types) if scenario.care_types[t].mode == "walk_in"]
    sessions = [len(scenario.care_types[t].sessions or ()) or 1 for t in types]

    # enrolled: remaining demand per community (K, C)
    want = np.zeros((len(comms), K, C), dtype=int)
    for i, c in enumerate(comms):
        for k in enrolled_types:
            p = c.demand.get(types[k], 0.0)
            for age_name, share in c.age_mix.items():
                want[i, k, ages.index(age_name)] = demand_count(c.under3 * share * p)
    total_enrolled_demand = int(want.sum())
    enrolled = np.zeros((F, K, C), dtype=int)
    used = np.zeros((F, C), dtype=int)  # places used by enrolled children
    order = np.argsort(pairs.dist_m, kind="stable")
    for idx in order:
        i, j = int(pairs.rows[idx]), int(pairs.cols[idx])
        for k in enrolled_types:
            s = sessions[k]
            for a in range(C):
                n = want[i, k, a]
                if n == 0:
                    continue
                # place usage of this type here: ceil(children / sessions)
                have = enrolled[j, k, a]
                free = capacity[j, a] - used[j, a] + math.ceil(have / s)
                can = max(0, free * s - have)
                take = min(n, can)
                if take:
                    enrolled[j, k, a] += take
                    want[i, k, a] -= take
                    used[j, a] += math.ceil((have + take) / s) - math.ceil(have / s)
    waitlist = np.zeros(F, dtype=int)
    waitlist_age = np.zeros((F, C), dtype=int)
    waitlist_from: list[list[int]] = [[] for _ in range(F)]
    unreached = 0
    for i in range(len(comms)):
        left = int(want[i].sum())
        if not left:
            continue
        if reach[i].size:
            waitlist[int(reach[i][0])] += left
            waitlist_age[int(reach[i][0])] += want[i].sum(axis=0)
            waitlist_from[int(reach[i][0])].append(i)
        else:
            unreached += left

    # walk-in rates and origins
    walk = np.zeros((F, K, C))
    origin_lists: list[list[list[tuple[int, float]]]] = [[[] for _ in types] for _ in facs]
    unreached_walk = 0.0
    for i, c in enumerate(comms):
        for k in walk_types:
            p = c.demand.get(types[k], 0.0)
            if p <= 0:
                continue
            for a_name, share in c.age_mix.items():
                a = ages.index(a_name)
                lam = c.under3 * share * p
                if lam <= 0:
                    continue
                js, ds = reach[i], reach_d[i]
                offer = places[js, a] > 0 if js.size else np.zeros(0, bool)
                if js.size and offer.any():
                    js, ds = js[offer], ds[offer]
                if not js.size:
                    unreached_walk += lam
                    continue
                w = decay_weights(ds, scenario) if split is None else split(js, ds, k)
                w = w / w.sum()
                for j, wj in zip(js.tolist(), w.tolist(), strict=True):
                    if wj > 0:
                        walk[j, k, a] += lam * wj
                        origin_lists[j][k].append((i, lam * wj))

    out: list[FacilityDemand] = []
    for j in range(F):
        slots: list[Slot] = []
        for a in range(C):
            for k in enrolled_types:
                n, s = int(enrolled[j, k, a]), sessions[k]
                for start in range(0, n, s):
                    members = tuple((k, m) for m in range(min(s, n - start)))
                    slots.append(Slot(a, members))
        origins = []
        for k in range(K):
            lst = origin_lists[j][k]
            if lst:
                idx = np.array([x[0] for x in lst], dtype=np.int64)
                w = np.array([x[1] for x in lst])
                origins.append((idx, w / w.sum()))
            else:
                origins.append((np.zeros(0, np.int64), np.zeros(0)))
        out.append(
            FacilityDemand(
                slots=tuple(slots),
                enrolled=enrolled[j],
                waitlist=int(waitlist[j]),
                waitlist_by_age=waitlist_age[j],
                waitlist_from=tuple(waitlist_from[j]),
                walk_in_per_day=walk[j],
                origins=tuple(origins),
            )
        )
    return DemandPlan(
        care_types=types,
        ages=ages,
        facilities=tuple(out),
        reach=reach,
        unreached_enrolled=unreached,
        unreached_walk_in_per_day=unreached_walk,
        enrolled_demand=total_enrolled_demand,
    )


def _spread(total: int, places: np.ndarray) -> np.ndarray:
    """Split ``total`` reserved places over age classes in proportion to places."""
    out = np.zeros_like(places)
    if total <= 0 or places.sum() == 0:
        return out
    exact = total * places / places.sum()
    out = np.floor(exact).astype(int)
    rest = total - int(out.sum())
    for a in np.argsort(-(exact - out), kind="stable")[:rest]:
        out[a] += 1
    return np.minimum(out, places)

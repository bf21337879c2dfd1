"""The theory cases: the simulation against exact queueing results, as reusable cases.

Each :class:`Case` is a small scenario (one community, one facility, one
walk-in care type, flat arrival profile, no absence) whose figures are known
exactly, from :mod:`tuoyu_sim.queueing` or from Little's law. :func:`run_case`
simulates a case and returns, for every quantity it checks, the simulated mean
over replications with a Student-t confidence interval and the exact value.
The experiment ``experiments/06_validation.py`` tabulates and plots every case;
the test suite can assert on the same cases (``exact`` inside the interval).

The cases mirror ``tests/test_theory_simulation.py`` (same scenarios, seeds and
settings), plus Erlang B with caregivers binding:

============================  ===================================================
``erlang_b_places``           steady state, places binding: turn-away = B(5, 4)
``erlang_b_caregivers``       steady state, caregivers binding: 2 caregivers at
                              1:5 admit at most 10 children, turn-away = B(10, 8)
``transient_places``          one day starting empty, 8 places binding
``transient_caregivers``      one day starting empty, 2 caregivers at 1:5 binding
``transient_two_classes``     infants 1:3 and toddlers 1:5 sharing 3 caregivers
``insensitivity_lognormal``   lognormal stays (cv 1.5), same mean: still B(5, 4)
``littles_law``               L / (lambda_admitted x W) = 1, lognormal stays
============================  ===================================================

Estimators are per replication (replications are independent): turn-away is
turned away / arrivals pooled over the replication's days; mean occupancy is
child-minutes / (days x opening minutes). Clock: minutes.

Nothing here prints or writes files; every function is pure given its seed.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuoyu_sim.metrics import mean_ci
from tuoyu_sim.queueing import LossSystem, erlang_b, transient
from tuoyu_sim.scenario import validate_data
from tuoyu_sim.simulation import SimulationResult, simulate

AGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "infant": {"months": [6, 12], "ratio": 3, "class_size": 10},
    "toddler": {"months": [12, 24], "ratio": 5, "class_size": 15},
    "older": {"months": [24, 36], "ratio": 7, "class_size": 20},
}
"""National standard 2019, art. 19–20: months, children per caregiver, class size."""

DAY_MIN = 690.0
"""Opening minutes of the 07:30–19:00 day used by the finite-horizon cases."""

LONG_DAY_MIN = 1440.0
"""Opening minutes of the 00:00–24:00 day used by the steady-state cases."""


def walk_in_data(
    *,
    places: Mapping[str, int],
    arrivals_per_day: Mapping[str, float],
    caregivers: int = 100,
    ratios: Mapping[str, int] | None = None,
    stay: Mapping[str, Any] | None = None,
    open_: str = "07:30",
    close: str = "19:00",
    window: tuple[str, str] | None = None,
    days: int = 10,
    replications: int = 10,
    seed: int = 1,
    care_type: str = "drop_in",
) -> dict[str, Any]:
    """A scenario dict with one community, one facility and one walk-in type.

    Parameters
    ----------
    places
        Places per age class (``infant``, ``toddler``, ``older`` or any name).
    arrivals_per_day
        Expected walk-in arrivals per open day by age class, > 0 in total. The
        community has 1,000 children under three, so the drop-in propensity is
        ``total / 1000`` arrivals per child per day and the age mix is
        proportional to the arrivals.
    caregivers
        Direct caregivers (teachers) on shift all opening hours, >= 0.
    ratios
        Children per caregiver by class, overriding the national defaults.
    stay
        The ``stay`` table of the care type (hours); exponential 1 h if omitted.
    open_, close
        Opening hours, ``"HH:MM"``.
    window
        Arrival window; the opening hours if omitted.
    days, replications, seed
        The ``[simulation]`` section.

    Returns
    -------
    dict
        A plain scenario dict (the TOML contract), for :func:`validate_data`.
    """
    total = float(sum(arrivals_per_day.values()))
    if total <= 0:
        raise ValueError("arrivals_per_day must add up to more than 0")
    children = 1000.0
    ages: dict[str, dict[str, Any]] = {}
    for a in places:
        ages[a] = dict(AGE_DEFAULTS.get(a, {"months": [0, 36], "ratio": 5, "class_size": 20}))
    for a, r in (ratios or {}).items():
        ages[a]["ratio"] = int(r)
    care: dict[str, Any] = {
        "mode": "walk_in",
        "profile": "flat",
        "stay": dict(stay) if stay else {"dist": "exponential", "mean_hours": 1.0},
        "redirect": False,
    }
    if window is not None:
        care["window"] = list(window)
    return {
        "name": "validation case",
        "simulation": {
            "days": days,
            "replications": replications,
            "seed": seed,
            "open": open_,
            "close": close,
            "curve_step_minutes": 60,
        },
        "geography": {"distance": "euclidean", "service_radius_m": 1000},
        "age_groups": ages,
        "care_types": {care_type: care},
        "staff": {"absence_probability": 0.0, "min_health_per_facility": 0},
        "communities": [
            {
                "id": "c1",
                "population": 10_000,
                "children_under3": children,
                "x_m": 0,
                "y_m": 0,
                "age_mix": {a: v / total for a, v in arrivals_per_day.items()},
                "demand": {care_type: total / children},
            }
        ],
        "facilities": [
            {
                "id": "f1",
                "x_m": 0,
                "y_m": 0,
                "places": dict(places),
                "staff": {"teacher": caregivers, "nursery": 0, "health": 0},
            }
        ],
    }


@dataclass(frozen=True)
class Check:
    """One quantity a case compares: its name, how to estimate it, its exact value."""

    quantity: str
    """``turn_away``, ``mean_occupancy`` or ``little_ratio``."""
    exact: float
    """The exact value of what is simulated (for a day that starts empty, the
    finite-horizon solution)."""
    estimator: Callable[[SimulationResult], np.ndarray]
    """Per-replication estimates (one value per replication)."""
    steady_state: float | None = None
    """The steady-state formula (Erlang B, a(1 − B)) where the case is about it."""


@dataclass(frozen=True)
class Case:
    """A theory case: a scenario dict builder and the checks it supports.

    Attributes
    ----------
    name
        Short id, e.g. ``transient_places``.
    title
        One line for tables and figures.
    theory
        Where the exact value comes from.
    build
        ``(days, replications, seed) -> scenario dict``.
    checks
        The quantities compared, each with its exact value.
    days, replications, seed
        Full-mode settings (the test suite's).
    note
        Anything a reader should know (e.g. the start-empty bias).
    """

    name: str
    title: str
    theory: str
    build: Callable[[int, int, int], dict[str, Any]]
    checks: tuple[Check, ...]
    days: int
    replications: int
    seed: int
    note: str = ""


@dataclass(frozen=True)
class CheckResult:
    """A simulated figure against its exact value."""

    case: str
    title: str
    theory: str
    quantity: str
    exact: float
    mean: float
    ci_low: float
    ci_high: float
    level: float
    replications: int
    days: int
    ci99_low: float = math.nan
    ci99_high: float = math.nan
    steady_state: float | None = None
    note: str = ""

    @property
    def inside(self) -> bool:
        """Whether the exact value lies inside the interval (at ``level``)."""
        return self.ci_low <= self.exact <= self.ci_high

    @property
    def inside99(self) -> bool:
        """Whether the exact value lies inside the 99% interval (the test suite's)."""
        return self.ci99_low <= self.exact <= self.ci99_high

    @property
    def relative_error(self) -> float:
        """(simulated mean − exact) / exact."""
        return (self.mean - self.exact) / self.exact if self.exact else math.nan

    @property
    def relative_half_width(self) -> float:
        """Half the interval's width over the exact value."""
        return (self.ci_high - self.ci_low) / 2 / abs(self.exact) if self.exact else math.nan

    def record(self) -> dict[str, Any]:
        """A flat row for CSV and markdown tables."""
        return {
            "case": self.case,
            "title": self.title,
            "theory": self.theory,
            "quantity": self.quantity,
            "exact": self.exact,
            "steady_state": self.steady_state,
            "simulated": self.mean,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "inside": self.inside,
            "ci99_low": self.ci99_low,
            "ci99_high": self.ci99_high,
            "inside99": self.inside99,
            "relative_error": self.relative_error,
            "relative_half_width": self.relative_half_width,
            "replications": self.replications,
            "days": self.days,
            "note": self.note,
        }


# -- estimators ------------------------------------------------------------------


def _counts(result: SimulationResult) -> np.ndarray:
    return np.stack([r.counts for r in result.replications])  # (R, F, K, 6)


def _occ(result: SimulationResult) -> np.ndarray:
    return np.stack([r.occupancy_min for r in result.replications])  # (R, F, K)


def turn_away(result: SimulationResult) -> np.ndarray:
    """Per replication: walk-ins turned away / walk-in arrivals, all days pooled."""
    c = _counts(result)
    arrivals = c[:, :, :, 0].sum(axis=(1, 2)).astype(float)
    turned = c[:, :, :, 3].sum(axis=(1, 2)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(arrivals > 0, turned / np.maximum(arrivals, 1), np.nan)


def mean_occupancy(result: SimulationResult) -> np.ndarray:
    """Per replication: child-minutes / (days x opening minutes)."""
    sim = result.scenario.simulation
    return _occ(result).sum(axis=(1, 2)) / (sim.days * sim.open_minutes)


def little_ratio(result: SimulationResult) -> np.ndarray:
    """Per replication: mean occupancy / (admitted rate x mean stay); 1 by Little's law."""
    sim = result.scenario.simulation
    stay_min = 60.0 * float(result.scenario.care_types["drop_in"].stay.mean_hours or 0.0)
    horizon = sim.days * (sim.close - sim.open)
    admitted = _counts(result)[:, :, :, 1].sum(axis=(1, 2)).astype(float)
    occupancy = _occ(result).sum(axis=(1, 2)) / horizon
    return occupancy / (admitted / horizon * stay_min)


# -- the cases ---------------------------------------------------------------------


def _long_day(
    stay: Mapping[str, Any], places: int, load: float
) -> Callable[[int, int, int], dict[str, Any]]:
    """00:00–24:00, mean stay 1.8 min: ``load`` erlangs on ``places`` places."""
    mean_min = 1.8

    def build(days: int, replications: int, seed: int) -> dict[str, Any]:
        return walk_in_data(
            places={"older": places},
            arrivals_per_day={"older": load / mean_min * LONG_DAY_MIN},
            caregivers=100,
            stay=stay,
            open_="00:00",
            close="24:00",
            days=days,
            replications=replications,
            seed=seed,
        )

    return build


def _day_case(
    places: Mapping[str, int],
    per_day: Mapping[str, float],
    caregivers: int,
    ratios: Mapping[str, int] | None,
    stay_min: float,
) -> Callable[[int, int, int], dict[str, Any]]:
    def build(days: int, replications: int, seed: int) -> dict[str, Any]:
        return walk_in_data(
            places=places,
            arrivals_per_day=per_day,
            caregivers=caregivers,
            ratios=ratios,
            stay={"dist": "exponential", "mean_hours": stay_min / 60.0},
            days=days,
            replications=replications,
            seed=seed,
        )

    return build


def _transient_checks(
    places: Mapping[str, int],
    per_day: Mapping[str, float],
    caregivers: int,
    ratios: Mapping[str, int] | None,
    stay_min: float,
) -> tuple[Check, ...]:
    ages = list(places)
    r = {a: int((ratios or {}).get(a, AGE_DEFAULTS.get(a, {"ratio": 5})["ratio"])) for a in ages}
    system = LossSystem(
        places=tuple(int(places[a]) for a in ages),
        ratios=tuple(r[a] for a in ages),
        caregivers=caregivers,
        mean_stay_min=tuple(stay_min for _ in ages),
    )
    exact = transient(system, [(DAY_MIN, [per_day[a] / DAY_MIN for a in ages])])
    return (
        Check("turn_away", float(exact.blocking_fraction_total), turn_away),
        Check("mean_occupancy", float(exact.mean_occupancy_total), mean_occupancy),
    )


def _erlang_checks(servers: int, load: float, system: LossSystem) -> tuple[Check, ...]:
    """Erlang B ``B(servers, load)`` as the steady state; the exact 24-hour day from
    empty (``system`` under the same load) as the exact value."""
    b = erlang_b(servers, load)
    rate = load / system.mean_stay_min[0]
    day = transient(system, [(LONG_DAY_MIN, [rate])])
    return (
        Check("turn_away", float(day.blocking_fraction_total), turn_away, steady_state=b),
        Check(
            "mean_occupancy",
            float(day.mean_occupancy_total),
            mean_occupancy,
            steady_state=load * (1.0 - b),
        ),
    )


@functools.cache
def cases() -> tuple[Case, ...]:
    """Every theory case, in the order of ``tests/test_theory_simulation.py``.

    Built once (the exact values solve the forward equations) and cached.
    """
    lognormal = {"dist": "lognormal", "mean_hours": 0.03, "sd_hours": 0.045}
    exponential = {"dist": "exponential", "mean_hours": 0.03}
    bias = (
        "a 24-hour day that starts empty: the exact value is the finite-horizon day; "
        "the steady-state Erlang B formula differs from it by 0.1–0.2%"
    )

    def erlang_caregivers(days: int, replications: int, seed: int) -> dict[str, Any]:
        return walk_in_data(
            places={"toddler": 30},
            arrivals_per_day={"toddler": 8.0 / 1.8 * LONG_DAY_MIN},
            caregivers=2,
            ratios={"toddler": 5},
            stay=exponential,
            open_="00:00",
            close="24:00",
            days=days,
            replications=replications,
            seed=seed,
        )

    two_places = {"infant": 6, "toddler": 10}
    two_rates = {"infant": 30.0, "toddler": 50.0}
    two_ratios = {"infant": 3, "toddler": 5}
    return (
        Case(
            name="erlang_b_places",
            title="Erlang B, places binding (5 places, 4 erlangs)",
            theory="Erlang B(5, 4), a(1 − B); exact: the 24-h day from empty",
            build=_long_day(exponential, 5, 4.0),
            checks=_erlang_checks(5, 4.0, LossSystem((5,), (7,), None, (1.8,))),
            days=5,
            replications=20,
            seed=21,
            note=bias,
        ),
        Case(
            name="erlang_b_caregivers",
            title="Erlang B, caregivers binding (2 caregivers at 1:5, 30 places, 8 erlangs)",
            theory="Erlang B(10, 8) (2 x 5 = 10 servers); exact: the 24-h day from empty",
            build=erlang_caregivers,
            checks=_erlang_checks(10, 8.0, LossSystem((30,), (5,), 2, (1.8,))),
            days=5,
            replications=20,
            seed=23,
            note=bias,
        ),
        Case(
            name="transient_places",
            title="One day from empty, places binding (8 places, 60 a day, 90 min)",
            theory="forward equations of the loss CTMC over 07:30–19:00",
            build=_day_case({"older": 8}, {"older": 60.0}, 100, None, 90.0),
            checks=_transient_checks({"older": 8}, {"older": 60.0}, 100, None, 90.0),
            days=150,
            replications=30,
            seed=11,
        ),
        Case(
            name="transient_caregivers",
            title="One day from empty, caregivers binding (2 at 1:5, 30 places, 80 a day)",
            theory="forward equations of the loss CTMC over 07:30–19:00",
            build=_day_case({"toddler": 30}, {"toddler": 80.0}, 2, {"toddler": 5}, 90.0),
            checks=_transient_checks({"toddler": 30}, {"toddler": 80.0}, 2, {"toddler": 5}, 90.0),
            days=150,
            replications=30,
            seed=12,
        ),
        Case(
            name="transient_two_classes",
            title="One day from empty, infants 1:3 and toddlers 1:5 share 3 caregivers",
            theory="forward equations of the two-class CTMC, need = sum of per-class ceil",
            build=_day_case(two_places, two_rates, 3, two_ratios, 90.0),
            checks=_transient_checks(two_places, two_rates, 3, two_ratios, 90.0),
            days=150,
            replications=30,
            seed=13,
        ),
        Case(
            name="insensitivity_lognormal",
            title="Insensitivity: lognormal stays (sd 1.5 x mean), 5 places, 4 erlangs",
            theory="blocking depends on the stay only through its mean: B(5, 4)",
            build=_long_day(lognormal, 5, 4.0),
            checks=_erlang_checks(5, 4.0, LossSystem((5,), (7,), None, (1.8,))),
            days=5,
            replications=20,
            seed=22,
            note=bias,
        ),
        Case(
            name="littles_law",
            title="Little's law, lognormal stays (1 h, sd 1 h), 6 places binding",
            theory="L = lambda_admitted x W",
            build=littles_law_data,
            checks=(Check("little_ratio", 1.0, little_ratio),),
            days=100,
            replications=30,
            seed=31,
            note="arrivals 00:00–12:00 on a 24-hour day, so no stay is cut by closing",
        ),
    )


def littles_law_data(days: int, replications: int, seed: int) -> dict[str, Any]:
    """The Little's-law case: lognormal stays, arrivals 00:00–12:00 on a 24-hour day."""
    return walk_in_data(
        places={"older": 6},
        arrivals_per_day={"older": 80.0},
        caregivers=100,
        stay={"dist": "lognormal", "mean_hours": 1.0, "sd_hours": 1.0},
        open_="00:00",
        close="24:00",
        window=("00:00", "12:00"),
        days=days,
        replications=replications,
        seed=seed,
    )


def get_case(name: str) -> Case:
    """The case called ``name``; raises ``KeyError`` naming the known cases."""
    for case in cases():
        if case.name == name:
            return case
    known = ", ".join(c.name for c in cases())
    raise KeyError(f"no theory case {name!r}; known: {known}")


@dataclass(frozen=True)
class CaseRun:
    """A simulated case: its settings and one :class:`CheckResult` per quantity."""

    case: Case
    days: int
    replications: int
    seed: int
    results: tuple[CheckResult, ...] = field(default_factory=tuple)


def run_case(
    case: Case | str,
    *,
    days: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    level: float = 0.95,
    workers: int = 1,
) -> CaseRun:
    """Simulate one case and compare every quantity with its exact value.

    Parameters
    ----------
    case
        A :class:`Case` or its name.
    days, replications, seed
        Override the case's full-mode settings (e.g. fewer for a quick run);
        at least 2 replications.
    level
        Confidence level of the intervals, in (0, 1); 0.95 by default.
    workers
        Simulation processes; results do not depend on it.

    Returns
    -------
    CaseRun
        With one :class:`CheckResult` per check of the case.
    """
    c = get_case(case) if isinstance(case, str) else case
    d = c.days if days is None else int(days)
    r = c.replications if replications is None else int(replications)
    s = c.seed if seed is None else int(seed)
    if r < 2:
        raise ValueError(f"replications must be at least 2 for an interval, got {r}")
    scenario = validate_data(copy.deepcopy(c.build(d, r, s)))
    result = simulate(scenario, workers=workers)
    out = []
    for check in c.checks:
        values = check.estimator(result)
        mean, lo, hi = mean_ci(values, level)
        _, lo99, hi99 = mean_ci(values, 0.99)
        out.append(
            CheckResult(
                case=c.name,
                title=c.title,
                theory=c.theory,
                quantity=check.quantity,
                exact=check.exact,
                mean=mean,
                ci_low=lo,
                ci_high=hi,
                level=level,
                replications=r,
                days=d,
                ci99_low=lo99,
                ci99_high=hi99,
                steady_state=check.steady_state,
                note=c.note,
            )
        )
    return CaseRun(case=c, days=d, replications=r, seed=s, results=tuple(out))


def run_all(
    *,
    scale: float = 1.0,
    level: float = 0.95,
    workers: int = 1,
    names: Sequence[str] | None = None,
) -> list[CheckResult]:
    """Run every case (or those named), with days scaled by ``scale``.

    Parameters
    ----------
    scale
        Multiplies each case's days (at least 1 day) and, below 1, also its
        replications (at least 5): 1.0 is the test suite's setting.
    level
        Confidence level of the intervals.
    workers
        Simulation processes.
    names
        Case names to run; all if omitted.
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    out: list[CheckResult] = []
    for case in cases():
        if names is not None and case.name not in names:
            continue
        days = max(1, round(case.days * scale))
        reps = case.replications if scale >= 1 else max(5, round(case.replications * scale))
        out.extend(
            run_case(case, days=days, replications=reps, level=level, workers=workers).results
        )
    return out


__all__ = [
    "AGE_DEFAULTS",
    "Case",
    "CaseRun",
    "Check",
    "CheckResult",
    "cases",
    "get_case",
    "little_ratio",
    "mean_occupancy",
    "run_all",
    "run_case",
    "turn_away",
    "walk_in_data",
]

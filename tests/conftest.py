"""Shared helpers for the simulation, property, CLI and bad-input tests.

Scenarios are built as plain dicts (the TOML contract) and validated with
:func:`tuoyu_sim.scenario.validate_data`, so every test goes through the same
checks as a user's file.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from tuoyu_sim.scenario import Scenario, format_clock, validate_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MINIMAL = SCENARIOS / "minimal.toml"
BAD_SCENARIOS = Path(__file__).resolve().parent / "bad_scenarios"

AGE_DEFAULTS: dict[str, dict[str, Any]] = {
    "infant": {"months": [6, 12], "ratio": 3, "class_size": 10},
    "toddler": {"months": [12, 24], "ratio": 5, "class_size": 15},
    "older": {"months": [24, 36], "ratio": 7, "class_size": 20},
}


def clock(minutes: float) -> str:
    """Minutes after midnight as ``"HH:MM"`` (24:00 allowed)."""
    return format_clock(minutes)


def walk_in_dict(
    *,
    places: dict[str, int],
    arrivals_per_day: dict[str, float],
    caregivers: int = 100,
    ratios: dict[str, int] | None = None,
    stay: dict[str, Any] | None = None,
    open_: str = "07:30",
    close: str = "19:00",
    window: tuple[str, str] | None = None,
    days: int = 10,
    replications: int = 10,
    seed: int = 1,
    care_type: str = "drop_in",
) -> dict[str, Any]:
    """A scenario dict: one community, one facility, one walk-in care type, flat profile.

    ``arrivals_per_day`` is the expected walk-in arrivals per open day by age
    class (the community has 1,000 children under three, so the propensity is
    ``total / 1000`` and the age mix is proportional to it). ``caregivers``
    direct caregivers (teachers) work the whole opening hours; nobody is absent.
    """
    ratios = ratios or {}
    total = float(sum(arrivals_per_day.values()))
    children = 1000.0
    ages = {a: dict(AGE_DEFAULTS.get(a, {"months": [0, 36], "ratio": 5, "class_size": 20}))
            for a in places}
    for a, r in ratios.items():
        ages[a]["ratio"] = r
    ct: dict[str, Any] = {
        "mode": "walk_in",
        "profile": "flat",
        "stay": stay or {"dist": "exponential", "mean_hours": 1.0},
        "redirect": False,
    }
    if window is not None:
        ct["window"] = list(window)
    return {
        "name": "theory",
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
        "care_types": {care_type: ct},
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


def build(data: dict[str, Any]) -> Scenario:
    """Validate a scenario dict (a deep copy, so the caller may reuse it)."""
    return validate_data(copy.deepcopy(data))


def ci(values: np.ndarray | list[float], level: float = 0.99) -> tuple[float, float, float]:
    """Mean and Student-t interval ``(mean, lo, hi)`` over replications."""
    v = np.asarray(values, dtype=float)
    assert v.size >= 2, "an interval needs at least two replications"
    assert np.all(np.isfinite(v)), f"non-finite values among replications: {v}"
    mean = float(v.mean())
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


def assert_in_ci(
    values: np.ndarray | list[float],
    exact: float,
    *,
    max_rel_half_width: float,
    what: str,
    level: float = 0.99,
) -> None:
    """``exact`` lies inside the ``level`` t-interval, and the interval is narrow."""
    mean, lo, hi = ci(values, level)
    half = (hi - lo) / 2
    assert lo <= exact <= hi, (
        f"{what}: exact {exact:.6g} outside the {level:.0%} interval "
        f"[{lo:.6g}, {hi:.6g}] (mean {mean:.6g}, n={len(values)})"
    )
    assert half <= max_rel_half_width * abs(exact), (
        f"{what}: interval half-width {half:.4g} is more than "
        f"{max_rel_half_width:.1%} of {exact:.6g}; the test would not be meaningful"
    )


@pytest.fixture
def walk_in_scenario() -> Any:
    """The :func:`walk_in_dict` builder, as a fixture."""
    return walk_in_dict


@pytest.fixture(scope="session")
def minimal_path() -> Path:
    return MINIMAL

"""Shared helpers for the simulation, property, CLI and bad-input tests.

Scenarios are built as plain dicts (the TOML contract) and validated with
:func:`tuoyu_sim.scenario.validate_data`, so every test goes through the same
checks as a user's file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tuoyu_sim.metrics import mean_ci
from tuoyu_sim.scenario import Scenario, format_clock, validate_data
from tuoyu_sim.theory_cases import walk_in_data

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MINIMAL = SCENARIOS / "minimal.toml"
BAD_SCENARIOS = Path(__file__).resolve().parent / "bad_scenarios"

OPTIMIZE_SPEC_KEYS = frozenset(
    {
        "objective",
        "status",
        "solver",
        "gap",
        "solve_seconds",
        "new_sites",
        "added_places",
        "added_caregivers",
        "cost",
        "covered_children",
        "coverage_share",
        "places_per_1000_before",
        "places_per_1000_after",
        "sites",
    }
)
"""Keys of summary.json that SPEC.md requires of ``optimize`` and ``plan``."""


def clock(minutes: float) -> str:
    """Minutes after midnight as ``"HH:MM"`` (24:00 allowed)."""
    return format_clock(minutes)


walk_in_dict = walk_in_data
"""A scenario dict: one community, one facility, one walk-in care type, flat
profile (:func:`tuoyu_sim.theory_cases.walk_in_data`, shared with experiment 06)."""


def build(data: dict[str, Any]) -> Scenario:
    """Validate a scenario dict (a deep copy, so the caller may reuse it)."""
    return validate_data(copy.deepcopy(data))


def ci(values: np.ndarray | list[float], level: float = 0.99) -> tuple[float, float, float]:
    """Mean and Student-t interval ``(mean, lo, hi)`` over replications (99% here)."""
    return mean_ci(values, level)


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

"""Random districts for the allocation benchmarks (plain dict scenarios, validated)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tuoyu_sim.scenario import Scenario, validate_data

AGES = {
    "infant": {"months": [6, 12], "ratio": 3, "class_size": 10, "area_m2_per_child": 9},
    "toddler": {"months": [12, 24], "ratio": 5, "class_size": 15, "area_m2_per_child": 9},
    "older": {"months": [24, 36], "ratio": 7, "class_size": 20, "area_m2_per_child": 9},
}


def base(name: str, coverage: float = 0.0) -> dict[str, Any]:
    return {
        "name": name,
        "simulation": {"days": 1, "replications": 1, "seed": 1, "open": "07:30", "close": "19:00"},
        "geography": {"distance": "euclidean", "service_radius_m": 1000},
        "age_groups": AGES,
        "care_types": {
            "full_day": {
                "mode": "enrolled",
                "window": ["07:30", "08:30"],
                "stay": {"dist": "fixed", "mean_hours": 9.0},
            }
        },
        "staff": {"min_health_per_facility": 1, "full_time_health_from_children": 150},
        "targets": {"coverage_share": coverage},
        "costs": {
            "per_place_cny": 20000,
            "per_site_cny": 300000,
            "per_caregiver_year_cny": {"teacher": 72000, "nursery": 60000, "health": 90000},
            "years": 5,
        },
    }


def uniform(
    seed: int, n_comm: int, n_sites: int, side_m: float
) -> tuple[Scenario, np.ndarray, np.ndarray]:
    """Communities and candidate sites uniform in a square (no existing facilities)."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, side_m, (n_comm, 2))
    s = rng.uniform(0, side_m, (n_sites, 2))
    kids = rng.integers(10, 200, n_comm)
    d = base(f"uniform {n_comm}x{n_sites}")
    d["communities"] = [
        {
            "id": f"c{i}",
            "population": int(k * 30),
            "children_under3": int(k),
            "x_m": float(x),
            "y_m": float(y),
            "age_mix": {"older": 1.0},
            "demand": {"full_day": 0.1},
        }
        for i, ((x, y), k) in enumerate(zip(c, kids, strict=True))
    ]
    d["facilities"] = []
    d["candidate_sites"] = [
        {"id": f"s{j}", "x_m": float(x), "y_m": float(y), "max_places": 100}
        for j, (x, y) in enumerate(s)
    ]
    return validate_data(d), c, s


RATIO = {"infant": 3, "toddler": 5, "older": 7}
"""Children per caregiver of each class in ``AGES``."""

MIXES = {
    "three": {"infant": 0.15, "toddler": 0.35, "older": 0.5},
    "older": {"older": 1.0},
}


def clustered(
    seed: int, n_comm: int, n_sites: int, n_fac: int, coverage: float, mix: str = "three"
) -> Scenario:
    """A district of towns: communities, facilities and candidate sites around centres.

    ``mix``: ``"three"`` (every community 15% infants, 35% toddlers, 50% older)
    or ``"older"`` (every child in the oldest class, as in the spec's example).
    """
    rng = np.random.default_rng(seed)
    n_centres = max(1, n_comm // 25)
    centres = rng.uniform(0, 40_000, (n_centres, 2))

    def around(n: int, spread: float) -> np.ndarray:
        k = rng.integers(0, n_centres, n)
        return centres[k] + rng.normal(0, spread, (n, 2))

    c, s, f = around(n_comm, 600), around(n_sites, 600), around(n_fac, 600)
    d = base(f"clustered {n_comm}x{n_sites}", coverage)
    age_mix = MIXES[mix]
    d["communities"] = []
    for i, (x, y) in enumerate(c):
        pop = int(rng.integers(2000, 9000))
        d["communities"].append(
            {
                "id": f"c{i}",
                "population": pop,
                "children_under3": round(pop * 0.019, 1),
                "x_m": float(x),
                "y_m": float(y),
                "age_mix": age_mix,
                "demand": {"full_day": float(rng.uniform(0.08, 0.16))},
            }
        )
    d["facilities"] = facility_rows(
        rng,
        f,
        lambda g: {
            "infant": int(g.integers(0, 6)),
            "toddler": int(g.integers(5, 15)),
            "older": int(g.integers(10, 30)),
        },
    )
    d["candidate_sites"] = candidate_rows(rng, s)
    return validate_data(d)


def facility_rows(
    rng: np.random.Generator,
    points: Any,
    places_of: Callable[[np.random.Generator], dict[str, int]],
) -> list[dict[str, Any]]:
    """Existing facilities at ``points``: places from ``places_of(rng)``, staff for a
    full house by the ratios, floor area for the places and up to 60 more."""
    rows = []
    for j, (x, y) in enumerate(points):
        p = places_of(rng)
        direct = sum(-(-v // RATIO[a]) for a, v in p.items())
        rows.append(
            {
                "id": f"f{j}",
                "x_m": float(x),
                "y_m": float(y),
                "places": p,
                "staff": {"teacher": 1, "nursery": max(0, direct - 1), "health": 1},
                "area_m2": float(9 * (sum(p.values()) + int(rng.integers(0, 60)))),
            }
        )
    return rows


def candidate_rows(rng: np.random.Generator, points: Any) -> list[dict[str, Any]]:
    """Candidate sites at ``points`` with 60-200 places and a fixed cost."""
    return [
        {
            "id": f"s{j}",
            "x_m": float(x),
            "y_m": float(y),
            "max_places": int(rng.integers(60, 200)),
            "fixed_cost_cny": float(rng.integers(2, 9) * 50_000),
        }
        for j, (x, y) in enumerate(points)
    ]

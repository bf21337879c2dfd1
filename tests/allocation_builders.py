"""Scenario builders shared by the allocation tests (no tests of its own).

Scenarios are built as plain dicts (the TOML contract) and validated with
:func:`tuoyu_sim.scenario.validate_data`, exactly as a user's file would be.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuoyu_sim.allocate.instance import Instance, build_instance
from tuoyu_sim.allocate.mincost import MinCostOptions
from tuoyu_sim.scenario import Scenario, validate_data

BASE: dict[str, Any] = {
    "name": "allocation test",
    "simulation": {"days": 1, "replications": 1, "seed": 1, "open": "07:30", "close": "19:00"},
    "geography": {"distance": "euclidean", "detour_factor": 1.0, "service_radius_m": 1000},
    "age_groups": {
        "older": {"months": [24, 36], "ratio": 7, "class_size": 20, "area_m2_per_child": 9}
    },
    "care_types": {
        "full_day": {
            "mode": "enrolled",
            "window": ["07:30", "08:30"],
            "stay": {"dist": "fixed", "mean_hours": 9.0},
        },
    },
    "staff": {"min_health_per_facility": 0},
    "targets": {"coverage_share": 1.0, "max_turn_away": 0.05},
    "costs": {
        "per_place_cny": 20000,
        "per_site_cny": 300000,
        "per_caregiver_year_cny": {"teacher": 80000, "nursery": 60000, "health": 100000},
        "years": 1,
    },
}


def scenario_dict(
    seed: int,
    *,
    n_comm: int = 6,
    n_fac: int = 1,
    n_cand: int = 4,
    size_m: float = 2500.0,
    propensity: float = 0.1,
    walk_in: float = 0.0,
    max_places: tuple[int, int] = (5, 30),
    children: tuple[int, int] = (20, 120),
    fac_places: tuple[int, int] = (2, 12),
) -> dict[str, Any]:
    """A random district as a scenario dict (one age class; optional drop-in)."""
    rng = np.random.default_rng(seed)
    d: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    d["care_types"] = dict(BASE["care_types"])
    if walk_in > 0:
        d["care_types"]["drop_in"] = {
            "mode": "walk_in",
            "window": ["07:30", "19:00"],
            "stay": {"dist": "exponential", "mean_hours": 2.0},
        }
    d["targets"] = dict(BASE["targets"])
    d["communities"] = []
    for i in range(n_comm):
        demand = {"full_day": propensity}
        if walk_in > 0:
            demand["drop_in"] = walk_in
        d["communities"].append(
            {
                "id": f"c{i}",
                "group": f"g{i % 2}",
                "population": int(rng.integers(2000, 8000)),
                "children_under3": int(rng.integers(*children)),
                "x_m": float(rng.uniform(0, size_m)),
                "y_m": float(rng.uniform(0, size_m)),
                "age_mix": {"older": 1.0},
                "demand": demand,
            }
        )
    d["facilities"] = []
    for k in range(n_fac):
        p = int(rng.integers(*fac_places))
        d["facilities"].append(
            {
                "id": f"f{k}",
                "x_m": float(rng.uniform(0, size_m)),
                "y_m": float(rng.uniform(0, size_m)),
                "places": {"older": p},
                "staff": {"teacher": 1, "nursery": int(p // 7)},
                "area_m2": float(9 * (p + int(rng.integers(0, 10)))),
            }
        )
    d["candidate_sites"] = []
    for k in range(n_cand):
        d["candidate_sites"].append(
            {
                "id": f"s{k}",
                "x_m": float(rng.uniform(0, size_m)),
                "y_m": float(rng.uniform(0, size_m)),
                "max_places": int(rng.integers(*max_places)),
                "fixed_cost_cny": float(rng.integers(1, 6) * 50000),
            }
        )
    return d


def rich_dict(seed: int, walk_in: float = 0.05, **kw: object) -> dict:
    """A random district with three age classes, walk-in demand and health rules."""
    d = scenario_dict(seed, walk_in=walk_in, **kw)  # type: ignore[arg-type]
    d["age_groups"] = {
        "infant": {"months": [6, 12], "ratio": 3, "class_size": 10, "area_m2_per_child": 9},
        "toddler": {"months": [12, 24], "ratio": 5, "class_size": 15, "area_m2_per_child": 8},
        "older": {"months": [24, 36], "ratio": 7, "class_size": 20, "area_m2_per_child": 7},
    }
    for c in d["communities"]:
        c["age_mix"] = {"infant": 0.2, "toddler": 0.35, "older": 0.45}
    for f in d["facilities"]:
        f["places"] = {"infant": 2, "toddler": 4, "older": f["places"]["older"]}
    d["staff"] = {"min_health_per_facility": 1, "full_time_health_from_children": 40}
    d["targets"]["coverage_share"] = 0.85
    d["targets"]["min_community_share"] = 0.3
    d["targets"]["places_per_1000"] = 2.0
    for s in d["candidate_sites"]:
        s["area_m2"] = float(s["max_places"] * 8)
    return d


def make(d: dict[str, Any]) -> Scenario:
    return validate_data(d)


def cbc_trap(seed: int) -> tuple[Instance, MinCostOptions]:
    """A small district of the shape on which the CBC bundled with PuLP, with its
    flow cover cuts on, proved dearer plans optimal: three age classes, walk-in
    places, health rules, the first candidate forced open; the whole model."""
    d = rich_dict(
        seed, n_comm=12, n_fac=2, n_cand=8, size_m=3500, max_places=(20, 60), walk_in=0.15
    )
    inst = build_instance(make(d))
    opts = MinCostOptions(
        coverage_share=0.4,
        places_per_1000=1.5,
        fixed_open={inst.n_existing: True},
        decompose=False,
    )
    return inst, opts

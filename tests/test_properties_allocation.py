"""Every min-cost plan passes the independent checker; the checker catches broken
plans; Hypothesis properties that follow from the models' structure."""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from allocation_builders import make, rich_dict, scenario_dict
from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize, verify_plan
from tuoyu_sim.allocate.solvers import highs_available
from tuoyu_sim.errors import InfeasibleError
from tuoyu_sim.geography import distance_m

CBC = SolverSpec("cbc", time_limit_s=60, gap=0.0)  # brute-force comparisons: prove optimality
HYP = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


FEASIBLE = (1, 4, 5, 8, 9, 10)
"""Seeds (400 + s) of districts whose targets can be met; 0, 2 and 3 cannot."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("seed", "solver"),
    [(s, "highs" if i % 2 and highs_available() else "cbc") for i, s in enumerate(FEASIBLE)],
)
def test_every_min_cost_plan_passes_the_checker(seed: int, solver: str) -> None:
    d = rich_dict(400 + seed, n_comm=8, n_fac=2, n_cand=4, size_m=2200, max_places=(20, 60))
    sc = make(d)
    plan = optimize(sc, OptimizeOptions(), SolverSpec(solver, time_limit_s=10))
    assert plan.status in ("optimal", "feasible")  # a time-limited plan must hold too
    assert verify_plan(sc, plan) == []
    assert plan.places_per_1000_after >= 2.0 - 1e-9


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_targets_that_cannot_be_met_are_explained(seed: int) -> None:
    d = rich_dict(400 + seed, n_comm=8, n_fac=2, n_cand=4, size_m=2200, max_places=(20, 60))
    with pytest.raises(InfeasibleError, match="cannot"):
        optimize(make(d), OptimizeOptions(), SolverSpec("highs" if highs_available() else "cbc"))


def _one_plan() -> tuple:
    d = rich_dict(401, n_comm=10, n_fac=2, n_cand=5, size_m=2500, max_places=(20, 60))
    d["targets"]["min_community_share"] = 0.0
    d["targets"]["coverage_share"] = 0.5
    sc = make(d)
    return sc, optimize(sc, OptimizeOptions(), CBC)


@pytest.mark.slow
def test_checker_catches_broken_plans() -> None:
    """The checker is not vacuous: each kind of tampering is reported."""
    sc, plan = _one_plan()
    assert verify_plan(sc, plan) == []
    busiest = max(plan.sites, key=lambda s: sum(s.places.values()))
    fewer = dataclasses.replace(busiest, places={a: 0 for a in busiest.places})
    broken = dataclasses.replace(
        plan, sites=tuple(fewer if s is busiest else s for s in plan.sites)
    )
    assert any("exceed" in m or "fall" in m for m in verify_plan(sc, broken))
    # serve a community at a site beyond the radius
    pts = {p.id: p for p in [*sc.facilities, *sc.candidate_sites]}
    far = next(
        (c.id, s.id)
        for c in sc.communities
        for s in plan.sites
        if distance_m(sc, c, pts[s.id]) > 1000.0
    )
    moved = dataclasses.replace(plan, assignment=(*plan.assignment, (*far, 0.0001)))
    assert any("beyond" in m for m in verify_plan(sc, moved))
    # understaff a site
    s0 = plan.sites[0]
    thin = dataclasses.replace(
        s0,
        staff={**s0.staff, "teacher": 0, "nursery": 0},
        staff_before={"teacher": 0, "nursery": 0, "health": 0},
    )
    broken = dataclasses.replace(plan, sites=(thin, *plan.sites[1:]))
    assert any("caregivers" in m for m in verify_plan(sc, broken))
    # misreport the cost
    assert any(
        "cost reported" in m
        for m in verify_plan(sc, dataclasses.replace(plan, cost_cny=plan.cost_cny - 1000))
    )
    # a tighter target than the plan meets
    strict = dataclasses.replace(plan, targets={**plan.targets, "places_per_1000": 99.0})
    assert any("per 1,000" in m for m in verify_plan(sc, strict))


@pytest.mark.slow
@settings(
    max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000))
def test_no_site_receives_more_than_its_places(seed: int) -> None:
    d = rich_dict(seed, walk_in=0.02, n_comm=6, n_fac=1, n_cand=3, size_m=1800, max_places=(20, 60))
    sc = make(d)
    try:
        plan = optimize(sc, OptimizeOptions(), CBC)
    except InfeasibleError:
        assume(False)  # a draw whose targets cannot be met says nothing here
    demand = {
        c.id: {a: c.under3 * sh * c.demand["full_day"] for a, sh in c.age_mix.items()}
        for c in sc.communities
    }
    received: dict[tuple[str, str], float] = defaultdict(float)
    for cid, sid, share in plan.assignment:
        for a, x in demand[cid].items():
            received[(sid, a)] += x * share
    for s in plan.sites:
        for a, n in s.places.items():
            walk = (s.walk_in_places or {}).get(a, 0)
            assert received[(s.id, a)] + walk <= n + 1e-6


@HYP
@given(seed=st.integers(0, 10_000), b1=st.integers(0, 12), extra=st.integers(0, 12))
def test_more_budget_never_lowers_coverage(seed: int, b1: int, extra: int) -> None:
    d = scenario_dict(seed, n_comm=25, n_fac=1, n_cand=8, size_m=4000)
    sc = make(d)
    lo = optimize(sc, OptimizeOptions(objective="max-coverage", budget_cny=50000.0 * b1), CBC)
    hi = optimize(
        sc, OptimizeOptions(objective="max-coverage", budget_cny=50000.0 * (b1 + extra)), CBC
    )
    assert hi.covered_children >= lo.covered_children - 1e-9


@pytest.mark.slow
@HYP
@given(
    seed=st.integers(0, 10_000),
    x=st.floats(0, 2500),
    y=st.floats(0, 2500),
    cap=st.integers(0, 60),
    cost=st.integers(0, 8),
)
def test_adding_a_candidate_never_raises_the_optimal_cost(
    seed: int, x: float, y: float, cap: int, cost: int
) -> None:
    d = rich_dict(seed, walk_in=0.0, n_comm=8, n_fac=1, n_cand=3, size_m=2500, max_places=(20, 60))
    try:
        base = optimize(make(d), OptimizeOptions(), CBC)
    except InfeasibleError:
        assume(False)  # a draw whose targets cannot be met says nothing here
    d["candidate_sites"].append(
        {
            "id": "extra",
            "x_m": x,
            "y_m": y,
            "max_places": cap,
            "area_m2": float(max(cap, 1) * 9),
            "fixed_cost_cny": 50000.0 * cost,
        }
    )
    more = optimize(make(d), OptimizeOptions(), CBC)
    assert more.cost_cny <= base.cost_cny + 1e-6

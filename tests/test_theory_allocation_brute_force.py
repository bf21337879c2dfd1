"""Theory tests of the allocation models: every objective equals brute-force
enumeration on small instances, walk-in sizing equals Erlang B exactly, and the
min-cost plan of the minimal scenario equals its hand calculation.

Brute force here never touches the model code: coverage is recomputed from
coordinates with numpy, and min-cost feasibility of a split assignment is
checked with Hall's condition (for every set of communities, their demand is
at most the places within reach of the set).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from allocation_builders import make, scenario_dict
from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, build_instance, optimize, verify_plan
from tuoyu_sim.allocate.solvers import highs_available
from tuoyu_sim.errors import InfeasibleError
from tuoyu_sim.queueing import erlang_b, erlang_b_servers
from tuoyu_sim.scenario import load_scenario

CBC = SolverSpec("cbc", time_limit_s=60, gap=0.0)  # brute-force comparisons: prove optimality


def _coords(rows: list[dict]) -> np.ndarray:
    return np.array([[r["x_m"], r["y_m"]] for r in rows], dtype=float).reshape(-1, 2)


def _cover(d: dict, radius: float) -> np.ndarray:
    """Boolean (communities x (facilities + candidates)) within the radius, dense (tests only)."""
    c = _coords(d["communities"])
    s = _coords(d["facilities"] + d["candidate_sites"])
    dist = np.hypot(c[:, None, 0] - s[None, :, 0], c[:, None, 1] - s[None, :, 1])
    return dist <= radius


@pytest.mark.parametrize("seed", range(6))
def test_cover_all_equals_brute_force(seed: int) -> None:
    d = scenario_dict(seed, n_comm=10, n_fac=1, n_cand=8, size_m=2500)
    cov = _cover(d, 1000.0)
    n_f = len(d["facilities"])
    sc = make(d)
    if not cov.any(axis=1).all():
        with pytest.raises(InfeasibleError, match="no facility or candidate site within"):
            optimize(sc, OptimizeOptions(objective="cover-all"), CBC)
        return
    best = None
    for k in range(0, 9):
        for subset in itertools.combinations(range(8), k):
            open_ = np.zeros(cov.shape[1], dtype=bool)
            open_[:n_f] = True
            open_[[n_f + j for j in subset]] = True
            if cov[:, open_].any(axis=1).all():
                best = k
                break
        if best is not None:
            break
    plan = optimize(sc, OptimizeOptions(objective="cover-all"), CBC)
    assert plan.status == "optimal"
    assert len(plan.new_sites) == best
    assert verify_plan(sc, plan) == []


@pytest.mark.parametrize(("seed", "p"), [(s, p) for s in range(4) for p in (1, 2, 3)])
def test_max_coverage_equals_brute_force(seed: int, p: int) -> None:
    d = scenario_dict(100 + seed, n_comm=12, n_fac=1, n_cand=7, size_m=3000)
    cov = _cover(d, 1000.0)
    kids = np.array([c["children_under3"] for c in d["communities"]], dtype=float)
    n_f = len(d["facilities"])
    best = 0.0
    for subset in itertools.combinations(range(7), p):
        open_ = np.zeros(cov.shape[1], dtype=bool)
        open_[:n_f] = True
        open_[[n_f + j for j in subset]] = True
        best = max(best, float(kids[cov[:, open_].any(axis=1)].sum()))
    sc = make(d)
    plan = optimize(sc, OptimizeOptions(objective="max-coverage", max_sites=p), CBC)
    assert plan.status == "optimal"
    assert plan.covered_children == pytest.approx(best, abs=1e-6)
    assert plan.objective_value == pytest.approx(best, abs=1e-6)
    assert len(plan.new_sites) <= p
    assert verify_plan(sc, plan) == []


@pytest.mark.parametrize("seed", range(4))
def test_max_coverage_budget_equals_brute_force(seed: int) -> None:
    d = scenario_dict(200 + seed, n_comm=12, n_fac=0, n_cand=7, size_m=3000)
    cov = _cover(d, 1000.0)
    kids = np.array([c["children_under3"] for c in d["communities"]], dtype=float)
    cost = np.array([s["fixed_cost_cny"] for s in d["candidate_sites"]])
    budget = 400000.0
    best = 0.0
    for k in range(8):
        for subset in itertools.combinations(range(7), k):
            if cost[list(subset)].sum() <= budget:
                open_ = np.zeros(7, dtype=bool)
                open_[list(subset)] = True
                best = max(best, float(kids[cov[:, open_].any(axis=1)].sum()))
    sc = make(d)
    plan = optimize(sc, OptimizeOptions(objective="max-coverage", budget_cny=budget), CBC)
    assert plan.covered_children == pytest.approx(best, abs=1e-6)
    assert verify_plan(sc, plan) == []


def _brute_min_cost(d: dict, target: float | None) -> float | None:
    """Least cost over every integer place vector, by Hall's condition (one class)."""
    cov = _cover(d, 1000.0)
    dem = np.array([c["children_under3"] * c["demand"]["full_day"] for c in d["communities"]])
    facs, cands = d["facilities"], d["candidate_sites"]
    p0 = [f["places"]["older"] for f in facs] + [0] * len(cands)
    s0 = [f["staff"]["teacher"] + f["staff"]["nursery"] for f in facs] + [0] * len(cands)
    ub = [math.floor(f["area_m2"] / 9 + 1e-9) - f["places"]["older"] for f in facs]
    ub += [min(s["max_places"], 10**9) for s in cands]
    site_cost = [0.0] * len(facs) + [s["fixed_cost_cny"] for s in cands]
    pop = sum(c["population"] for c in d["communities"])
    need = 0.0 if target is None else target * pop / 1000.0 - sum(p0)
    n_i = len(dem)
    subsets = [
        np.array(s) for k in range(1, n_i + 1) for s in itertools.combinations(range(n_i), k)
    ]
    reach = [cov[s].any(axis=0) for s in subsets]
    want = [float(dem[s].sum()) for s in subsets]
    best = None
    for x in itertools.product(*[range(u + 1) for u in ub]):
        xa = np.array(x)
        if xa.sum() < need - 1e-9:
            continue
        places = np.array(p0) + xa
        if any(w > float(places[r].sum()) + 1e-9 for w, r in zip(want, reach, strict=True)):
            continue
        cost = 0.0
        for j in range(len(x)):
            if j >= len(facs) and x[j] == 0:
                continue
            cost += site_cost[j] + 20000.0 * x[j]
            cost += 60000.0 * max(0, math.ceil(places[j] / 7) - s0[j])
        if best is None or cost < best:
            best = cost
    return best


@pytest.mark.parametrize(
    ("seed", "target"),
    [(0, None), (1, None), (2, 0.6), (3, 0.8), (4, None), (5, 1.0), (6, 0.7), (7, 2.5)],
)
def test_min_cost_equals_brute_force(seed: int, target: float | None) -> None:
    d = scenario_dict(
        300 + seed,
        n_comm=5,
        n_fac=1,
        n_cand=3,
        size_m=1800,
        max_places=(3, 9),
        children=(10, 60),
        fac_places=(2, 6),
    )
    d["facilities"][0]["area_m2"] = 9.0 * (d["facilities"][0]["places"]["older"] + 4)
    d["targets"]["places_per_1000"] = target
    if target is None:
        del d["targets"]["places_per_1000"]
    sc = make(d)
    best = _brute_min_cost(d, target)
    if best is None:
        with pytest.raises(InfeasibleError):
            optimize(sc, OptimizeOptions(), CBC)
        return
    plan = optimize(sc, OptimizeOptions(), CBC)
    assert plan.status == "optimal"
    assert plan.cost_cny == pytest.approx(best, abs=1e-6)
    assert plan.objective_value == pytest.approx(best, abs=1e-6)
    assert verify_plan(sc, plan) == []


@pytest.mark.parametrize("arrivals", [0.02, 0.1, 0.35, 1.0])
@pytest.mark.parametrize("beta", [0.01, 0.05, 0.2])
def test_walk_in_places_equal_erlang_b_sizing(arrivals: float, beta: float) -> None:
    """One community, one site, walk-in only: the model adds exactly the Erlang-B size."""
    d = scenario_dict(
        7, n_comm=1, n_fac=0, n_cand=1, propensity=0.0, walk_in=arrivals, max_places=(200, 201)
    )
    d["candidate_sites"][0].update(x_m=d["communities"][0]["x_m"], y_m=d["communities"][0]["y_m"])
    d["targets"]["max_turn_away"] = beta
    sc = make(d)
    load = d["communities"][0]["children_under3"] * arrivals * 2.0 / 11.5
    plan = optimize(sc, OptimizeOptions(), CBC)
    (site,) = plan.sites
    assert site.walk_in_places == {"older": erlang_b_servers(load, beta)}
    assert sum(site.places.values()) == erlang_b_servers(load, beta)
    assert erlang_b(site.walk_in_places["older"], load) <= beta
    assert verify_plan(sc, plan) == []


def test_minimal_scenario_hand_calculation() -> None:
    """minimal.toml: 4.5 per 1,000 of 10,000 residents = 45 places at f1 (8 today, area
    500 m² / 9 = 55 at most); ceil(45/7) = 7 caregivers, 3 today, so 4 nursery
    (cheaper) for 5 years; opening s1 (250,000) never pays."""
    sc = load_scenario("scenarios/minimal.toml")
    for solver in ("cbc", "highs") if highs_available() else ("cbc",):
        plan = optimize(sc, OptimizeOptions(), SolverSpec(solver, gap=0.0))
        assert plan.status == "optimal"
        assert plan.new_sites == []
        assert plan.added_places == 37
        assert plan.added_caregivers == {"teacher": 0, "nursery": 4, "health": 0}
        assert plan.cost_cny == pytest.approx(37 * 20000 + 4 * 60000 * 5)
        (f1,) = plan.sites
        load = 300 * 0.1 * 2.0 / 11.5
        assert f1.walk_in_places is not None
        assert erlang_b(f1.walk_in_places["older"], load) <= 0.05
        assert verify_plan(sc, plan) == []


def test_decay_weights_coverage() -> None:
    """With exponential decay, max-coverage credits u_i * exp(-beta d) of the best open site."""
    d = scenario_dict(11, n_comm=8, n_fac=0, n_cand=5, size_m=2000)
    d["geography"]["assignment"] = "decay"
    d["geography"]["decay"] = {"kind": "exponential", "beta": 0.001}
    sc = make(d)
    c = _coords(d["communities"])
    s = _coords(d["candidate_sites"])
    dist = np.hypot(c[:, None, 0] - s[None, :, 0], c[:, None, 1] - s[None, :, 1])
    w = np.where(dist <= 1000, np.exp(-0.001 * dist), 0.0)
    kids = np.array([r["children_under3"] for r in d["communities"]], dtype=float)
    best = max(
        float((kids * w[:, list(sub)].max(axis=1)).sum())
        for sub in itertools.combinations(range(5), 2)
    )
    plan = optimize(sc, OptimizeOptions(objective="max-coverage", max_sites=2), CBC)
    assert plan.objective_value == pytest.approx(best, rel=1e-9)
    assert plan.covered_children == pytest.approx(best, rel=1e-9)


def test_instance_is_sparse_and_within_radius() -> None:
    d = scenario_dict(5, n_comm=30, n_fac=2, n_cand=10, size_m=6000)
    sc = make(d)
    inst = build_instance(sc)
    cov = _cover(d, 1000.0)
    assert len(inst.pairs) == int(cov.sum())
    assert set(zip(inst.pairs.rows.tolist(), inst.pairs.cols.tolist(), strict=True)) == {
        (int(i), int(j)) for i, j in zip(*np.nonzero(cov), strict=True)
    }


@pytest.mark.parametrize("seed", range(3))
def test_greedy_warm_start_is_feasible_and_not_better_than_optimal(seed: int) -> None:
    """The greedy start satisfies every constraint of the model it warms, and the
    solver's optimum is never worse than it."""
    import pulp

    from tuoyu_sim.allocate.greedy import greedy_start
    from tuoyu_sim.allocate.mincost import (
        MinCostOptions,
        build_min_cost,
        set_warm_start,
        solve_min_cost,
    )

    d = scenario_dict(
        700 + seed, n_comm=12, n_fac=2, n_cand=5, size_m=1500, walk_in=0.05, max_places=(40, 80)
    )
    inst = build_instance(make(d))
    opts = MinCostOptions(coverage_share=0.8, places_per_1000=2.0)
    start = greedy_start(inst, 0.8, 0.0, 2.0)
    assert start is not None
    model = build_min_cost(inst, opts)
    assert set_warm_start(model, start)
    greedy_cost = float(pulp.value(model.cost))
    sol = solve_min_cost(build_min_cost(inst, opts), CBC)
    assert sol.outcome.status == "optimal"
    assert sol.outcome.objective is not None
    assert sol.outcome.objective <= greedy_cost + 1e-6

"""The min-cost model solved by parts (``allocate/decompose.py``) against the whole.

The parts partition the instance; the Lagrangian bound never exceeds the
proven optimum of the whole model; the parts' plan is never cheaper than it;
when the parts' answer is called optimal it equals it; and every plan passes
the independent checker.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocation_builders import make, rich_dict, scenario_dict
from tuoyu_sim.allocate import (
    OptimizeOptions,
    SolverSpec,
    build_instance,
    decompose,
    optimize,
    verify_plan,
)
from tuoyu_sim.allocate.api import min_cost_options
from tuoyu_sim.allocate.decompose import (
    _Budget,
    _line_search,
    _lp_duals,
    _pricers,
    parts,
    solve_decomposed,
    sub_instance,
)
from tuoyu_sim.allocate.mincost import MinCostOptions, build_min_cost, solve_min_cost
from tuoyu_sim.allocate.solvers import PROVEN_GAP, SolverName, highs_available
from tuoyu_sim.allocate.strategy import solve_model, use_parts

SOLVER: SolverName = "highs" if highs_available() else "cbc"


def _spread(seed: int) -> dict:
    """Three classes, walk-in demand, health rules, over a district wide enough to
    fall apart into several parts."""
    d = rich_dict(seed, n_comm=10, n_fac=2, n_cand=7, size_m=3500, max_places=(20, 60))
    d["targets"].update(coverage_share=0.5, min_community_share=0.0, places_per_1000=1.0)
    return d


def test_parts_partition_the_instance() -> None:
    inst = build_instance(make(scenario_dict(3, n_comm=40, n_fac=3, n_cand=15, size_m=8000)))
    ps = parts(inst)
    assert sum(1 for p in ps if p.communities.size) >= 3
    pairs = np.concatenate([p.pairs for p in ps])
    assert np.array_equal(np.sort(pairs), np.arange(len(inst.pairs)))
    sites = np.concatenate([p.sites for p in ps])
    assert np.array_equal(np.sort(sites), np.arange(inst.n_sites))
    comms = np.concatenate([p.communities for p in ps])
    assert np.array_equal(np.sort(comms), np.unique(inst.pairs.rows))
    for p in ps:
        sub = sub_instance(inst, p)
        assert sub.n_existing == int(np.count_nonzero(p.sites < inst.n_existing))
        for k, q in enumerate(p.pairs):
            assert sub.community_ids[sub.pairs.rows[k]] == inst.community_ids[inst.pairs.rows[q]]
            assert sub.site_ids[sub.pairs.cols[k]] == inst.site_ids[inst.pairs.cols[q]]
        assert np.all(np.diff(sub.pairs.rows) >= 0)  # sorted by community, as pairs_within


# draws of _spread that fall apart into two or more parts
SPLIT = (700, 701, 702, 706, 707)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SPLIT)
def test_parts_bound_and_plan_bracket_the_whole_optimum(seed: int) -> None:
    sc = make(_spread(seed))
    inst = build_instance(sc)
    opts = min_cost_options(sc, OptimizeOptions())
    assert use_parts(inst, opts)
    # the reference is the plain model: no cut of the strengthened one can hide here
    whole = solve_min_cost(
        build_min_cost(inst, dataclasses.replace(opts, decompose=False, strengthen=False)),
        SolverSpec(SOLVER, gap=0.0),
        warm_start=False,
    )
    if whole.outcome.status == "infeasible":
        pytest.skip("targets out of reach for this draw")
    assert whole.outcome.status == "optimal"
    best = float(whole.outcome.objective or 0.0)
    tol = 1e-6 * max(1.0, best)
    # odd seeds price the parts on two threads
    by_parts = solve_decomposed(inst, opts, SolverSpec(SOLVER, gap=0.0, threads=1 + seed % 2))
    o = by_parts.outcome
    assert o.has_solution and o.objective is not None and o.bound is not None
    assert o.bound <= best + tol  # a valid lower bound
    assert o.objective >= best - tol  # a feasible plan
    final = solve_model(inst, opts, SolverSpec(SOLVER, gap=0.0))
    f = final.outcome
    assert f.objective is not None and f.bound is not None and f.gap is not None
    assert f.bound <= best + tol <= f.objective + 2 * tol
    if f.status == "optimal":
        assert f.objective == pytest.approx(best, rel=1e-6)
        assert f.gap <= PROVEN_GAP


@pytest.mark.slow
@pytest.mark.parametrize("seed", (708, 709, 710, 711))
def test_plans_found_by_parts_pass_the_checker(seed: int) -> None:
    sc = make(_spread(seed))  # feasible draws: the checker must see a plan
    plan = optimize(sc, OptimizeOptions(), SolverSpec(SOLVER, time_limit_s=30))
    assert verify_plan(sc, plan) == []
    assert plan.places_per_1000_after >= 1.0 - 1e-9


@pytest.mark.slow
def test_with_cbc_the_solve_by_parts_calls_no_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver asked for solves everything: the parts, the whole model's LP
    relaxation and both masters; with CBC, HiGHS (highspy or SciPy's) is never
    called, and the plan passes the checker."""
    import scipy.optimize

    from tuoyu_sim.allocate import solvers

    def no_highs(*_args: object, **_kw: object) -> None:
        raise AssertionError("HiGHS called in a solve with CBC")

    monkeypatch.setattr(solvers._WarmHiGHS, "actualSolve", no_highs)
    monkeypatch.setattr(scipy.optimize, "linprog", no_highs)
    monkeypatch.setattr(scipy.optimize, "milp", no_highs)
    sc = make(_spread(708))
    inst = build_instance(sc)
    opts = min_cost_options(sc, OptimizeOptions())
    assert use_parts(inst, opts)
    sol = solve_decomposed(inst, opts, SolverSpec("cbc"))
    assert sol.outcome.has_solution and sol.outcome.message.startswith("decomposed")
    plan = optimize(sc, OptimizeOptions(), SolverSpec("cbc"))
    assert plan.solver == "cbc" and verify_plan(sc, plan) == []


def test_one_part_or_a_budget_solves_the_whole_model() -> None:
    one = build_instance(make(scenario_dict(1, n_comm=6, n_cand=3, size_m=300)))
    assert not use_parts(one, MinCostOptions(coverage_share=0.5))
    many = build_instance(make(scenario_dict(3, n_comm=40, n_fac=3, n_cand=15, size_m=8000)))
    assert use_parts(many, MinCostOptions(coverage_share=0.5))
    assert not use_parts(many, MinCostOptions(coverage_share=0.5, budget_cny=1e9))
    assert not use_parts(many, MinCostOptions(coverage_share=0.5, decompose=False))
    assert not use_parts(many, MinCostOptions(objective="coverage"))


def test_a_time_limited_solve_by_parts_states_its_gap() -> None:
    sc = make(_spread(712))
    inst = build_instance(sc)
    sol = solve_model(inst, MinCostOptions(coverage_share=0.5), SolverSpec(SOLVER, time_limit_s=1))
    o = sol.outcome
    assert o.status in ("optimal", "feasible", "no_solution")
    if o.status == "feasible":
        assert o.gap is not None and o.gap > PROVEN_GAP
    if o.status == "optimal":
        assert o.gap is not None and o.gap <= PROVEN_GAP


@pytest.mark.slow
def test_cover_every_community_by_parts_matches_the_whole_model() -> None:
    sc = make(_spread(702))  # every community has a site in reach, two or more parts
    inst = build_instance(sc)
    opts = MinCostOptions(coverage_share=0.5, places_per_1000=1.0, cover_every_community=True)
    assert use_parts(inst, opts)
    whole = solve_min_cost(
        build_min_cost(inst, dataclasses.replace(opts, decompose=False)),
        SolverSpec(SOLVER, gap=0.0),
    )
    final = solve_model(inst, opts, SolverSpec(SOLVER, gap=0.0))
    assert whole.outcome.status == final.outcome.status == "optimal"
    assert final.outcome.objective == pytest.approx(whole.outcome.objective, rel=1e-6)


def test_a_community_out_of_reach_with_cover_every_community_is_left_to_the_whole_model() -> None:
    d = scenario_dict(3, n_comm=40, n_fac=3, n_cand=15, size_m=8000)
    d["communities"][0].update(x_m=90_000.0, y_m=90_000.0)  # nothing within 1 km
    inst = build_instance(make(d))
    assert use_parts(inst, MinCostOptions(coverage_share=0.5))
    assert not use_parts(inst, MinCostOptions(coverage_share=0.5, cover_every_community=True))


@pytest.mark.slow
@pytest.mark.parametrize("threads", (1, 2))
def test_plans_found_by_parts_under_cbc_pass_the_checker(threads: int) -> None:
    sc = make(_spread(708))  # two threads: two CBC processes at once
    plan = optimize(sc, OptimizeOptions(), SolverSpec("cbc", time_limit_s=60, threads=threads))
    assert verify_plan(sc, plan) == []
    assert plan.status in ("optimal", "feasible")


def test_the_shared_slack_is_never_overspent() -> None:
    """Claims and shortfalls of one round never add up to more than its slack, and
    what the quick parts leave goes to the last."""
    budget = _Budget(100.0, 1.0)
    a = budget.claim(0.25)
    b = budget.claim(0.25)
    assert a == pytest.approx(25.0) and b == pytest.approx(25.0)
    budget.settle(a, 5.0)  # used 5 of 25
    budget.settle(b, 40.0)  # a part that ran out of time hands nothing back
    last = budget.claim(0.5)
    assert last == pytest.approx(70.0)
    assert 5.0 + 25.0 + last <= 100.0 + 1e-9


def test_parts_priced_on_threads_claim_the_same_whatever_the_order() -> None:
    """On several threads a part's claim is its weight's share of the round's slack,
    whichever thread claims or finishes first (repeatable plans)."""
    claims = []
    for order in ((0.2, 0.3, 0.5), (0.5, 0.3, 0.2)):
        budget = _Budget(100.0, 1.0, hand_back=False)
        got = {}
        for w in order:
            got[w] = budget.claim(w)
            budget.settle(got[w], 0.0)  # nothing is handed back
        claims.append(got)
    assert claims[0] == claims[1] == {0.2: 20.0, 0.3: 30.0, 0.5: 50.0}


@pytest.mark.slow
@pytest.mark.parametrize("seed", SPLIT)
def test_the_line_search_moves_the_duals_the_right_way_and_its_bound_is_valid(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With exact pricing (no cap), the search steps the duals up when the parts'
    best plans at the LP's duals give less than is needed, down when they give
    more; the bound it returns is below the whole model's proven optimum."""
    monkeypatch.setattr(decompose, "SEARCH_NODES", 10**9)
    monkeypatch.setattr(decompose, "SEARCH_GAP", 0.0)
    sc = make(_spread(seed))
    inst = build_instance(sc)
    opts = min_cost_options(sc, OptimizeOptions())
    whole = solve_min_cost(
        build_min_cost(inst, dataclasses.replace(opts, decompose=False, strengthen=False)),
        SolverSpec(SOLVER, gap=0.0),
        warm_start=False,
    )
    if whole.outcome.status == "infeasible":
        pytest.skip("targets out of reach for this draw")
    best = float(whole.outcome.objective or 0.0)
    spec = SolverSpec(SOLVER, gap=0.0)
    base = _lp_duals(inst, opts, spec, None)
    assert base is not None
    if base == (0.0, 0.0):
        pytest.skip("no district row binds in the LP")
    need_served = opts.coverage_share * float(inst.demand.sum())
    need_places = inst.places_needed_per_1000(opts.places_per_1000)
    pricers = _pricers(inst, opts)
    served = places = 0.0
    for p in pricers:  # the parts' optimal plans at the LP's duals
        col, _bound = p.price(base[0], base[1], spec)
        assert col is not None
        p.columns.append(col)
        served, places = served + col.served, places + col.places
    slope = base[0] * (need_served - served) + base[1] * (need_places - places)
    scale = base[0] * need_served + base[1] * need_places
    took = np.zeros(len(pricers))
    (lam, mu), bound = _line_search(pricers, base, need_served, need_places, spec, None, took)
    step = lam / base[0] if base[0] > 0 else mu / base[1]
    assert (lam, mu) == pytest.approx((step * base[0], step * base[1]))  # on the ray
    if slope > 5e-3 * scale:
        assert step > 1.0
    elif slope < -5e-3 * scale:
        assert step < 1.0
    assert bound <= best + 1e-6 * max(1.0, best)
    # what orders the parts later is the solvers' effort, not a clock
    assert list(took) == [p.work for p in pricers]

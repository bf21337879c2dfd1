"""The envelope cuts of the min-cost model (``allocate/envelope.py``): they lie
below each site's least cost, and they never cut off a plan of the plain model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from allocation_builders import make, rich_dict
from tuoyu_sim.allocate import SolverSpec, build_instance
from tuoyu_sim.allocate.envelope import envelope, site_curve
from tuoyu_sim.allocate.mincost import (
    MinCostOptions,
    build_min_cost,
    set_warm_start,
    solve_min_cost,
)
from tuoyu_sim.allocate.solvers import highs_available

SOLVER = "highs" if highs_available() else "cbc"


def _mixed(seed: int, **kw: object) -> dict:
    """Three classes with a different age mix in every community, existing staff
    below the ratio, walk-in demand."""
    d = rich_dict(seed, **kw)
    rng = np.random.default_rng(seed + 1)
    for c in d["communities"]:
        w = rng.dirichlet([2.0, 3.0, 4.0])
        c["age_mix"] = {
            "infant": float(w[0]),
            "toddler": float(w[1]),
            "older": 1.0 - float(w[0] + w[1]),
        }
    return d


def test_envelope_lines_lie_below_every_point_and_touch_the_hull() -> None:
    pts = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 6.0], [3.0, 9.0], [4.0, 9.5]])
    lines = envelope(pts)
    assert lines
    for slope, icpt in lines:
        assert np.all(slope * pts[:, 0] + icpt <= pts[:, 1] + 1e-9)
    # at each hull vertex the best line is within the margin of the point; (3, 9)
    # lies above the hull: the chord from (2, 6) to (4, 9.5) passes at 7.75
    best = np.max([[s * x + b for s, b in lines] for x in pts[:, 0]], axis=1)
    assert best == pytest.approx([5.0, 5.0, 6.0, 7.75, 9.5], abs=1.01)
    assert envelope(pts[:1]) == []
    flat = envelope(np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]))  # collinear
    assert len(flat) == 1 and flat[0][0] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(4))
def test_site_curve_is_the_least_cost_by_hand(seed: int) -> None:
    """Every point of a site's curve is what the cheapest staffing of that load costs."""
    inst = build_instance(make(_mixed(seed)))
    mix = np.array([0.2, 0.3, 0.5])
    for j in range(inst.n_sites):
        ub = inst.class_add_cap()[j].astype(float)
        pts = site_curve(inst, j, mix, ub)
        assert pts.shape[0] >= 1 and pts[0, 0] == 0.0
        assert np.all(np.diff(pts[:, 0]) > 0) and np.all(np.diff(pts[:, 1]) >= 0)
        for t, f in pts[:: max(1, len(pts) // 7)]:
            need = np.ceil(mix * t - 1e-9)
            x = np.maximum(0, need - inst.places0[j])
            assert np.all(x <= ub)
            tot = inst.places0[j] + x
            direct = sum(int(np.ceil(tot[a] / inst.ratio[a] - 1e-9)) for a in range(3))
            carers = max(0, direct - inst.staff0[j, 0] - inst.staff0[j, 1])
            health = max(inst.min_health, 1 if tot.sum() >= inst.full_time_health_from else 0)
            cost = (
                inst.site_cost[j]
                + inst.place_cost * x.sum()
                + carers * min(inst.role_cost[0], inst.role_cost[1])
                + max(0, health - inst.staff0[j, 2]) * inst.role_cost[2]
            )
            assert f == pytest.approx(cost)


@pytest.mark.slow
@pytest.mark.parametrize("seed", (0, 1, 2, 5, 6, 7, 8))  # draws with a feasible plan
def test_cuts_keep_the_plain_optimum(seed: int) -> None:
    """The plain model's optimal plan satisfies every envelope row, and the model
    with the cuts reaches the same least cost."""
    d = _mixed(seed, n_comm=10, n_fac=2, n_cand=6, size_m=2500, max_places=(20, 60))
    inst = build_instance(make(d))
    t = make(d).targets
    opts = MinCostOptions(
        coverage_share=t.coverage_share,
        min_community_share=t.min_community_share,
        places_per_1000=t.places_per_1000,
        decompose=False,
        fixed_open={inst.n_existing: True} if seed % 2 else {},
        cover_every_community=seed % 3 == 0,
    )
    plain = solve_min_cost(
        build_min_cost(inst, dataclasses.replace(opts, strengthen=False)),
        SolverSpec(SOLVER, gap=0.0),
        warm_start=False,
    )
    assert plain.outcome.status == "optimal"
    strong = build_min_cost(inst, opts)
    assert any(name.startswith("envelope_") for name in strong.prob.constraints)
    assert set_warm_start(strong, plain.as_start(), eps=1e-6)
    cut = solve_min_cost(strong, SolverSpec(SOLVER, gap=0.0), warm_start=False)
    assert cut.outcome.status == "optimal"
    assert cut.outcome.objective == pytest.approx(plain.outcome.objective, rel=1e-6)

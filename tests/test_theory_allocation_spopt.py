"""``cover-all`` and ``max-coverage`` equal spopt's LSCP and MCLP on random instances.

spopt (PySAL) is a test-only dependency; without it these tests are skipped.
Instances have no existing facilities (spopt's plain models know none), and the
same Euclidean distances feed both.
"""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from allocation_builders import make, scenario_dict
from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize

spopt_locate = pytest.importorskip(
    "spopt.locate", reason="spopt is not installed (pip install spopt; test-only dependency)"
)

CBC = SolverSpec("cbc", time_limit_s=60, gap=0.0)  # brute-force comparisons: prove optimality


def _instance(seed: int, n_comm: int, n_cand: int, size_m: float) -> tuple[dict, np.ndarray]:
    d = scenario_dict(seed, n_comm=n_comm, n_fac=0, n_cand=n_cand, size_m=size_m)
    c = np.array([[r["x_m"], r["y_m"]] for r in d["communities"]])
    s = np.array([[r["x_m"], r["y_m"]] for r in d["candidate_sites"]])
    dist = np.hypot(c[:, None, 0] - s[None, :, 0], c[:, None, 1] - s[None, :, 1])
    return d, dist


@pytest.mark.parametrize("seed", range(5))
def test_cover_all_equals_spopt_lscp(seed: int) -> None:
    d, dist = _instance(500 + seed, 80, 25, 5000)
    keep = (dist <= 1000).any(axis=1)  # LSCP needs every community coverable
    d["communities"] = [c for c, k in zip(d["communities"], keep, strict=True) if k]
    dist = dist[keep]
    lscp = spopt_locate.LSCP.from_cost_matrix(dist, 1000.0)
    lscp.solve(pulp.PULP_CBC_CMD(msg=False))
    expected = pulp.value(lscp.problem.objective)
    plan = optimize(make(d), OptimizeOptions(objective="cover-all"), CBC)
    assert plan.status == "optimal"
    assert len(plan.new_sites) == pytest.approx(expected)


@pytest.mark.parametrize(("seed", "p"), [(0, 3), (1, 5), (2, 8), (3, 4), (4, 10)])
def test_max_coverage_equals_spopt_mclp(seed: int, p: int) -> None:
    d, dist = _instance(600 + seed, 120, 30, 6000)
    weights = np.array([c["children_under3"] for c in d["communities"]], dtype=float)
    mclp = spopt_locate.MCLP.from_cost_matrix(dist, weights, 1000.0, p_facilities=p)
    mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    expected = pulp.value(mclp.problem.objective)
    plan = optimize(make(d), OptimizeOptions(objective="max-coverage", max_sites=p), CBC)
    assert plan.status == "optimal"
    assert plan.covered_children == pytest.approx(expected, rel=1e-9)
    assert plan.objective_value == pytest.approx(expected, rel=1e-9)

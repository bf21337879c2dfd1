"""Theory tests of the multi-year (phased) min-cost model, ``allocate/phased.py``.

Constant births give the one-year plan held every year, at its cost; the phased
optimum equals brute-force enumeration of every yearly network on tiny
districts (places by year, sites open, caregivers, costs and discounting
recomputed here with numpy, coverage by Hall's condition); the objective equals
the accounting of ``phase_rows``; ``verify_phases`` accepts every plan the model
makes and rejects hand-broken ones; properties (Hypothesis) on random districts.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from allocation_builders import make, scenario_dict
from tuoyu_sim.allocate import (
    OptimizeOptions,
    SolverSpec,
    optimize,
    optimize_phased,
    phase_rows,
    present_cost,
    verify_phases,
)
from tuoyu_sim.allocate.phased import build_phased, weights
from tuoyu_sim.allocate.solvers import solve
from tuoyu_sim.errors import InfeasibleError, ScenarioError, UserError
from tuoyu_sim.projection import scenario_for_year

EXACT = SolverSpec(gap=0.0)
YEARS = (2026, 2027)


def with_projection(
    d: dict[str, Any], births: dict[int, float], phasing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``d`` with a projection: 1,000 births a year to 2025, then ``births``."""
    d = copy.deepcopy(d)
    last = max(births)
    d["projection"] = {
        "base_year": 2025,
        "horizon": [2026, last],
        "births": {
            "observed": {str(y): 1000 for y in range(2020, 2026)},
            "variants": {"central": {str(y): b for y, b in births.items()}},
        },
    }
    if phasing is not None:
        d["phasing"] = phasing
    return d


def tiny(seed: int, **kw: Any) -> dict[str, Any]:
    """A tiny district: one class, one facility that may expand, two candidates."""
    d = scenario_dict(
        seed,
        n_comm=4,
        n_fac=1,
        n_cand=2,
        size_m=1500,
        max_places=(3, 8),
        children=(10, 50),
        fac_places=(2, 6),
        **kw,
    )
    d["facilities"][0]["area_m2"] = 9.0 * (d["facilities"][0]["places"]["older"] + 3)
    return d


# -- constant births: the one-year plan held --------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_constant_births_give_the_one_year_plan_held(seed: int) -> None:
    """No discount, no release saving, nothing to convert (one class): a phased plan
    costs at least its largest network's capital plus every year's salaries, so the
    one-year plan with ``costs.years`` = the number of years, held, is optimal."""
    years = (2026, 2027, 2028)
    d = with_projection(tiny(700 + seed), dict.fromkeys(years, 1000.0))
    d["costs"]["years"] = len(years)
    sc = make(d)
    try:
        one = optimize(sc, OptimizeOptions(), EXACT)
    except InfeasibleError:
        with pytest.raises(InfeasibleError):
            optimize_phased(sc, years, OptimizeOptions(), EXACT)
        return
    phased = optimize_phased(sc, years, OptimizeOptions(), EXACT)
    assert phased.status == "optimal"
    rc = sc.costs.per_caregiver_year_cny
    kept = sum(
        f.staff.teacher * rc.teacher + f.staff.nursery * rc.nursery + f.staff.health * rc.health
        for f in sc.facilities
    )
    assert phased.objective_cny == pytest.approx(one.cost_cny + len(years) * kept, rel=1e-9)
    assert verify_phases(sc, years, "central", phased.rows, plans=phased.plans) == []


# -- brute force ------------------------------------------------------------------------


def _hall(cov: np.ndarray, dem: np.ndarray, places: np.ndarray) -> bool:
    """Every set of communities has at most the places within its reach."""
    n = len(dem)
    for k in range(1, n + 1):
        for s in itertools.combinations(range(n), k):
            idx = list(s)
            if dem[idx].sum() > places[cov[idx].any(axis=0)].sum() + 1e-9:
                return False
    return True


def _brute_phased(d: dict[str, Any], sc: Any, years: tuple[int, ...]) -> float | None:
    """Least present cost over every pair of yearly place vectors (one class, coverage
    1, salaries of the cheapest direct role, hires and let-go by the change)."""
    c = np.array([[r["x_m"], r["y_m"]] for r in d["communities"]])
    s = np.array([[r["x_m"], r["y_m"]] for r in d["facilities"] + d["candidate_sites"]])
    cov = np.hypot(c[:, None, 0] - s[None, :, 0], c[:, None, 1] - s[None, :, 1]) <= 1000.0
    f = d["facilities"][0]
    p0 = f["places"]["older"]
    s0 = f["staff"]["teacher"] + f["staff"]["nursery"]
    top = [math.floor(f["area_m2"] / 9 + 1e-9)] + [k["max_places"] for k in d["candidate_sites"]]
    site_cost = [0.0] + [k["fixed_cost_cny"] for k in d["candidate_sites"]]
    ph = d.get("phasing", {})
    rate = ph.get("discount_rate", 0.0)
    saving = ph.get("release_saving_per_place_cny", 0.0)
    hire_c, let_c = ph.get("hire_cost_cny", 0.0), ph.get("let_go_cost_cny", 0.0)
    per = ph.get("per_1000", {})
    pop = sum(k["population"] for k in d["communities"])
    w = [(1 + rate) ** -t for t in range(len(years))]
    salary = d["costs"]["per_caregiver_year_cny"]
    nurse = salary["nursery"]
    kept = f["staff"]["teacher"] * salary["teacher"] + f["staff"]["nursery"] * nurse
    feasible: list[list[tuple[int, ...]]] = []
    for y in years:
        ysc = scenario_for_year(sc, y)
        dem = np.array([k.under3 * k.demand["full_day"] for k in ysc.communities])
        target = float(per.get(str(y), 0.0))
        ok = [
            p
            for p in itertools.product(*[range(u + 1) for u in top])
            if sum(p) >= target * pop / 1000.0 - 1e-9 and _hall(cov, dem, np.array(p))
        ]
        feasible.append(ok)
    best = None
    for path in itertools.product(*feasible):
        cost = 0.0
        before = [p0] + [0] * len(d["candidate_sites"])
        opened = [True] + [False] * len(d["candidate_sites"])
        hired_before = [0] * len(before)
        for t, p in enumerate(path):
            for j, n in enumerate(p):
                if n > 0 and not opened[j]:
                    opened[j] = True
                    cost += w[t] * site_cost[j]
                change = n - before[j]
                cost += w[t] * (20000.0 * max(0, change) - saving * max(0, -change))
                hired = max(0, math.ceil(n / 7) - (s0 if j == 0 else 0))
                cost += w[t] * nurse * hired
                move = hired - hired_before[j]
                cost += w[t] * (hire_c * max(0, move) + let_c * max(0, -move))
                hired_before[j] = hired
            cost += w[t] * kept
            before = list(p)
        if best is None or cost < best:
            best = cost
    return best


@pytest.mark.parametrize(
    ("seed", "births", "phasing"),
    [
        (0, {2026: 1000, 2027: 600}, {}),
        (1, {2026: 1300, 2027: 700}, {"discount_rate": 0.05, "release_saving_per_place_cny": 8000}),
        (2, {2026: 700, 2027: 1300}, {"discount_rate": 0.1, "hire_cost_cny": 5000}),
        (3, {2026: 1200, 2027: 500}, {"let_go_cost_cny": 7000, "per_1000": {"2027": 1.0}}),
        (4, {2026: 900, 2027: 1100}, {"per_1000": {"2026": 1.5, "2027": 0.5}}),
        (5, {2026: 1500, 2027: 400}, {"release_saving_per_place_cny": 20000}),
    ],
)
def test_phased_equals_brute_force(
    seed: int, births: dict[int, float], phasing: dict[str, Any]
) -> None:
    d = with_projection(tiny(800 + seed), births, phasing)
    sc = make(d)
    best = _brute_phased(d, sc, YEARS)
    if best is None:
        with pytest.raises(InfeasibleError):
            optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)
        return
    plan = optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)
    assert plan.status == "optimal"
    assert plan.objective_cny == pytest.approx(best, rel=1e-9)
    assert verify_phases(sc, YEARS, "central", plan.rows, plans=plan.plans) == []


# -- the objective is the accounting; the checker -------------------------------------------


RICH_PHASING = {
    "discount_rate": 0.04,
    "release_saving_per_place_cny": 6000,
    "convert_cost_per_place_cny": 3000,
    "hire_cost_cny": 4000,
    "let_go_cost_cny": 9000,
    "max_hires_per_year": 40,
    "empty_place_year_cny": 2000,
}


def _rich(seed: int) -> tuple[Any, Any]:
    from allocation_builders import rich_dict

    d = rich_dict(seed, n_comm=5, n_fac=1, n_cand=3, size_m=1200, max_places=(20, 50))
    d["targets"]["places_per_1000"] = 0.5
    d = with_projection(d, {2026: 900, 2027: 600}, RICH_PHASING)
    sc = make(d)
    return sc, optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 5])
def test_objective_equals_present_cost_of_the_rows(seed: int) -> None:
    """The solver's objective (built from the model's variables) and the present
    value of ``phase_rows`` of the networks read back are the same number."""
    sc, plan = _rich(seed)
    assert plan.status == "optimal"
    for y in YEARS:
        assert plan.plans[y].objective_value == pytest.approx(plan.objective_cny, rel=1e-7)
    rows = phase_rows(sc, plan.networks, empty_places=plan.empty_places)
    assert present_cost(rows) == pytest.approx(plan.objective_cny, rel=1e-12)
    assert verify_phases(sc, YEARS, "central", plan.rows, plans=plan.plans) == []


def _one(d: dict[str, Any]) -> tuple[Any, Any]:
    sc = make(with_projection(d, {2026: 1000, 2027: 500}, {"release_saving_per_place_cny": 5000}))
    return sc, optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)


def test_verify_phases_rejects_broken_rows() -> None:
    sc, plan = _one(tiny(813))
    rows = plan.rows
    assert verify_phases(sc, YEARS, "central", rows, plans=plan.plans) == []

    def broken(change: Any) -> list[str]:
        r = copy.deepcopy(rows)
        change(r)
        return verify_phases(sc, YEARS, "central", r, plans=plan.plans)

    def cheaper(r: list[dict[str, Any]]) -> None:
        row = next(x for x in r if x["action"] in ("add", "open"))
        row["cost_cny"] /= 2
        row["discounted_cny"] /= 2

    def drop_staff(r: list[dict[str, Any]]) -> None:
        r.remove(next(x for x in r if x["action"] == "staff" and x["year"] == YEARS[-1]))

    def release_all(r: list[dict[str, Any]]) -> None:
        site = sc.facilities[0].id
        n = sc.facilities[0].places["older"]
        r.append(
            {
                "year": YEARS[0],
                "site": site,
                "kind": "existing",
                "action": "release",
                "age_class": "older",
                "role": "",
                "count": -n,
                "cost_cny": -5000.0 * n,
                "discounted_cny": -5000.0 * n,
            }
        )

    def reopen(r: list[dict[str, Any]]) -> None:
        row = next((x for x in r if x["action"] == "open"), None)
        assert row is not None
        r.append({**row, "year": YEARS[-1]})

    assert any("cost" in line for line in broken(cheaper))
    assert any("staff rows" in line for line in broken(drop_staff))
    assert broken(release_all)  # places gone: capacity, coverage or per-1,000 fail
    assert any("open already" in line for line in broken(reopen))


def test_floors_are_lower_bounds() -> None:
    """A floor forces a site open with its places and staff; the plan meets it."""
    sc, plan = _one(tiny(814))
    closed = [c for c in sc.candidate_sites if c.id not in plan.plans[YEARS[-1]].new_sites]
    assume_site = closed[0] if closed else None
    if assume_site is None:
        pytest.skip("every candidate is open already")
    data = plan.networks[YEARS[-1]].to_dict()
    data["facilities"].append(
        {
            "id": assume_site.id,
            "x_m": assume_site.x_m,
            "y_m": assume_site.y_m,
            "places": {"older": 2},
            "staff": {"teacher": 0, "nursery": 1, "health": 0},
        }
    )
    data["candidate_sites"] = [c for c in data["candidate_sites"] if c["id"] != assume_site.id]
    from tuoyu_sim.scenario import validate_data

    floor = validate_data(data)
    with_floor = optimize_phased(sc, YEARS, OptimizeOptions(), EXACT, floors={YEARS[0]: floor})
    for y in YEARS:  # a site stays open
        site = {s.id: s for s in with_floor.plans[y].sites}[assume_site.id]
        if y == YEARS[0]:
            assert site.places["older"] >= 2
            assert site.staff["nursery"] >= 1
    assert with_floor.objective_cny >= plan.objective_cny - 1e-6
    assert verify_phases(sc, YEARS, "central", with_floor.rows, plans=with_floor.plans) == []


# -- properties -------------------------------------------------------------------------------


PROP = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@PROP
@given(seed=st.integers(0, 10_000), fall=st.floats(0.3, 0.9))
def test_no_site_opens_unless_used(seed: int, fall: float) -> None:
    """No site opens in a year after which it never holds a place (with a site cost,
    an empty site only costs)."""
    d = with_projection(tiny(seed), {2026: 1000, 2027: 1000 * fall}, {"discount_rate": 0.03})
    sc = make(d)
    try:
        plan = optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)
    except InfeasibleError:
        assume(False)
        return
    for c in sc.candidate_sites:
        held = [sum(s.places.values()) for y in YEARS for s in plan.plans[y].sites if s.id == c.id]
        assert not held or max(held) > 0, c.id


@pytest.mark.slow
@PROP
@given(seed=st.integers(0, 10_000), extra=st.floats(0.2, 1.5))
def test_a_later_target_never_makes_an_earlier_year_cheaper(seed: int, extra: float) -> None:
    """Raising the last year's per-1,000 target above what the plan has never
    lowers the present cost (every plan of the harder problem is a plan of the
    easier one), and the harder plan's first year still meets the first year's
    targets."""
    base = tiny(seed)
    d = with_projection(base, {2026: 1000, 2027: 900})
    sc = make(d)
    try:
        plan = optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)
    except InfeasibleError:
        assume(False)
        return
    have = sum(sum(s.places.values()) for s in plan.plans[YEARS[-1]].sites)
    pop = sum(c.population for c in sc.communities)
    target = 1000.0 * have / pop + extra
    d2 = with_projection(base, {2026: 1000, 2027: 900}, {"per_1000": {"2027": target}})
    sc2 = make(d2)
    try:
        harder = optimize_phased(sc2, YEARS, OptimizeOptions(), EXACT)
    except InfeasibleError:
        return
    assert harder.objective_cny >= plan.objective_cny - 1e-6
    assert verify_phases(sc, YEARS, "central", harder.rows, plans=harder.plans) == []


@pytest.mark.slow
@PROP
@given(seed=st.integers(0, 10_000), fall=st.floats(0.3, 0.8), mu=st.floats(0.5, 0.9))
def test_falling_births_with_a_utilization_floor_never_grow_the_last_year(
    seed: int, fall: float, mu: float
) -> None:
    """With falling births and a utilization floor, the last year never has more
    places than its demand over the floor, nor more than the year before."""
    births = {2026: 1000.0, 2027: 1000.0 * fall}
    d = with_projection(tiny(seed), births, {"min_utilization": mu})
    sc = make(d)
    try:
        plan = optimize_phased(sc, YEARS, OptimizeOptions(), EXACT)
    except InfeasibleError:
        assume(False)
        return
    last, before = YEARS[-1], YEARS[-2]
    total = {y: sum(sum(s.places.values()) for s in plan.plans[y].sites) for y in YEARS}
    demand = sum(c.under3 * c.demand["full_day"] for c in scenario_for_year(sc, last).communities)
    assert total[last] <= demand / mu + 1e-6
    assert total[last] <= total[before]
    assert verify_phases(sc, YEARS, "central", plan.rows, plans=plan.plans) == []


# -- bad input ---------------------------------------------------------------------------------


def test_bad_years_and_sections_are_one_message_each() -> None:
    d = with_projection(tiny(1), {2026: 1000, 2027: 900})
    sc = make(d)
    with pytest.raises(UserError, match=r"within projection\.horizon"):
        optimize_phased(sc, (2026, 2027, 2028), OptimizeOptions(), EXACT)
    with pytest.raises(UserError, match="consecutive years"):
        optimize_phased(sc, (2027, 2026), OptimizeOptions(), EXACT)
    plain = make(tiny(1))
    with pytest.raises(UserError, match=r"\[projection\]"):
        optimize_phased(plain, YEARS, OptimizeOptions(), EXACT)
    for phasing, match in [
        ({"release_saving_per_place_cny": 30000}, "at most costs.per_place_cny"),
        ({"per_1000": {"2031": 2.0}}, "a year of projection.horizon"),
        ({"per_1000": {"20x": 2.0}}, "a year from"),
        ({"min_utilization": 1.5}, "min_utilization"),
        ({"discount_rate": -0.1}, "discount_rate"),
    ]:
        with pytest.raises(ScenarioError, match=match) as err:
            make(with_projection(tiny(1), {2026: 1000, 2027: 900}, phasing))
        assert "Traceback" not in str(err.value)
    with pytest.raises(ScenarioError, match="births"):
        bad = with_projection(tiny(1), {2026: 1000, 2027: 900})
        bad["projection"]["births"]["variants"]["central"]["2027"] = -5
        make(bad)
    with pytest.raises(ScenarioError, match=r"projection\.horizon"):
        short = with_projection(tiny(1), {2026: 1000})
        short["projection"]["horizon"] = [2026, 2029]
        make(short)


def test_weights_discount_from_the_first_year() -> None:
    w = weights((2026, 2027, 2028), 0.1)
    assert w[2026] == 1.0
    assert w[2028] == pytest.approx(1 / 1.21)


def test_model_objective_without_a_solution_path_is_the_constant() -> None:
    """With nothing to decide (a facility already meets a tiny demand), the objective
    is the existing caregivers' salaries in present value."""
    d = tiny(3)
    for c in d["communities"]:
        c["demand"]["full_day"] = 0.0
    d["targets"]["coverage_share"] = 0.0
    d = with_projection(d, {2026: 1000, 2027: 1000}, {"discount_rate": 0.05})
    sc = make(d)
    m = build_phased(sc, YEARS, OptimizeOptions())
    out = solve(m.prob, EXACT)
    f = sc.facilities[0]
    rc = sc.costs.per_caregiver_year_cny
    kept = f.staff.teacher * rc.teacher + f.staff.nursery * rc.nursery
    assert out.objective == pytest.approx(kept * (1 + 1 / 1.05))

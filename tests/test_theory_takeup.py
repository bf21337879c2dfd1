"""The take-up model (:mod:`tuoyu_sim.takeup`) against its definition.

* "No response" is the old model: without ``[takeup]`` the scenario is used
  as it is, and a take-up whose every factor is 1 (net fee 0, distance off)
  places exactly the same demand.
* Demand never rises when the net fee rises or the distance grows (Hypothesis).
* A subsidy bringing the net fee to 0 with places to spare gives the model's
  maximum take-up; the Huff (logit) split is its closed form.
* Simulated walk-in arrivals match the expected take-up within the 95% interval.
* The default full-day curve goes through its two sourced anchor points.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from conftest import MINIMAL, SCENARIOS, build
from tuoyu_sim.demand import demand_count, plan_demand
from tuoyu_sim.fees import net_fees
from tuoyu_sim.metrics import mean_ci
from tuoyu_sim.scenario import DEFAULT_FEE_RESPONSE, FeeResponse, Scenario, load_scenario
from tuoyu_sim.simulation import simulate
from tuoyu_sim.takeup import at_fees, expected_takeup, fee_response, takeup_model

BUILT_IN = sorted(SCENARIOS.glob("*.toml")) + sorted((SCENARIOS / "examples").glob("*.toml"))

FREE = {
    "fees": {"monthly_cny": {"full_day": 0.0}, "hourly_cny": {"drop_in": 0.0}},
    "takeup": {
        "distance": "off",
        "fee_response": {"drop_in": {"midpoint_cny": 40.0, "scale_cny": 15.0}},
    },
}
"""Take-up on, every factor 1: fees of 0 and no distance response."""


def _same_plan(a: Any, b: Any) -> None:
    assert a.enrolled_demand == b.enrolled_demand
    assert a.unreached_enrolled == b.unreached_enrolled
    assert a.unreached_walk_in_per_day == b.unreached_walk_in_per_day
    for fa, fb in zip(a.facilities, b.facilities, strict=True):
        assert fa.enrolled.tobytes() == fb.enrolled.tobytes()
        assert fa.walk_in_per_day.tobytes() == fb.walk_in_per_day.tobytes()
        assert fa.waitlist == fb.waitlist and fa.slots == fb.slots


@pytest.mark.parametrize("path", BUILT_IN, ids=lambda p: p.name)
def test_without_takeup_the_scenario_is_used_as_it_is(path: Any) -> None:
    sc = load_scenario(path)
    assert sc.takeup is None
    assert at_fees(sc) is sc


@pytest.mark.parametrize("path", [MINIMAL, SCENARIOS / "examples" / "two_facilities_redirect.toml"])
def test_factors_of_one_are_no_response(path: Any) -> None:
    sc = load_scenario(path)
    types = set(sc.care_types)
    changes: dict[str, Any] = {
        "fees.monthly_cny": {t: 0.0 for t in types if sc.care_types[t].mode == "enrolled"},
        "fees.hourly_cny": {t: 0.0 for t in types if sc.care_types[t].mode == "walk_in"},
        "takeup.distance": "off",
        "takeup.fee_response": {t: {"midpoint_cny": 40.0, "scale_cny": 15.0} for t in types},
    }
    on = sc.with_changes(changes)
    _same_plan(plan_demand(sc), plan_demand(on))


# -- monotone in fee and distance --------------------------------------------------


def _district(
    xs: list[float], fees: list[float], curve: str, choice: str, decay: str
) -> dict[str, Any]:
    data = copy.deepcopy(load_scenario(MINIMAL).to_dict())
    data["geography"]["service_radius_m"] = 1_000_000
    data["geography"]["decay"] = {"kind": decay, "beta": 0.001 if decay == "exponential" else 1.0}
    data["communities"] = [
        {**data["communities"][0], "id": f"c{i}", "x_m": 300.0 * i, "y_m": 0.0} for i in range(3)
    ]
    data["communities"][0]["demand"] = {"drop_in": 0.2, "full_day": 0.3}
    data["facilities"] = [
        {**data["facilities"][0], "id": f"f{j}", "x_m": x, "y_m": 100.0, "fee_cny": {"full_day": f}}
        for j, (x, f) in enumerate(zip(xs, fees, strict=True))
    ]
    response = (
        {"full_day": {"midpoint_cny": 1500.0, "scale_cny": 400.0}}
        if curve == "logistic"
        else {"full_day": {"elasticity": 0.8, "saturation_cny": 800.0}}
    )
    response["drop_in"] = (
        {"midpoint_cny": 40.0, "scale_cny": 15.0}
        if curve == "logistic"
        else {"elasticity": 0.8, "saturation_cny": 10.0}
    )
    data["fees"] = {"monthly_cny": {"full_day": 1900.0}, "hourly_cny": {"drop_in": 30.0}}
    data["takeup"] = {"curve": curve, "choice": choice, "fee_response": response}
    return data


def _facility_demand(sc: Scenario) -> np.ndarray:
    """Take-up of full-day care each community sends to each facility, (I, F)."""
    model = takeup_model(sc)
    assert model is not None
    k = model.types.index("full_day")
    out = np.zeros((len(sc.communities), len(sc.facilities)))
    for i, c in enumerate(sc.communities):
        d = np.array(
            [
                math.hypot((c.x_m or 0) - (f.x_m or 0), (c.y_m or 0) - (f.y_m or 0))
                for f in sc.facilities
            ]
        )
        js = np.arange(len(sc.facilities))
        p, g = model.by_option(js, d, k)
        level = g.max() if sc.takeup.choice == "logit" else p @ g  # type: ignore[union-attr]
        out[i] = c.demand.get("full_day", 0.0) * level * p
    return out


DISTRICT = dict(
    xs=st.lists(st.floats(0, 5000), min_size=1, max_size=4),
    fee=st.floats(0, 6000),
    rise=st.floats(0, 3000),
    curve=st.sampled_from(["logistic", "elasticity"]),
    choice=st.sampled_from(["nearest", "logit"]),
    decay=st.sampled_from(["exponential", "power", "linear"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DISTRICT, which=st.integers(0, 3))
def test_demand_never_rises_with_the_fee(
    xs: list[float], fee: float, rise: float, curve: str, choice: str, decay: str, which: int
) -> None:
    fees = [fee + 100.0 * j for j in range(len(xs))]
    data = _district(xs, fees, curve, choice, decay)
    before = build(data)
    # one facility dearer: its own demand never rises
    j = which % len(xs)
    data["facilities"][j]["fee_cny"]["full_day"] += rise
    one = build(data)
    assert np.all(_facility_demand(one)[:, j] <= _facility_demand(before)[:, j] + 1e-12)
    # every facility dearer: no community takes up more
    for f in data["facilities"]:
        f["fee_cny"]["full_day"] = f["fee_cny"]["full_day"] + rise
    allf = build(data)
    assert np.all(takeup_model(allf).factors() <= takeup_model(before).factors() + 1e-12)  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**DISTRICT, stretch=st.floats(1.0, 5.0), which=st.integers(0, 3))
def test_demand_never_rises_with_the_distance(
    xs: list[float],
    fee: float,
    rise: float,
    curve: str,
    choice: str,
    decay: str,
    stretch: float,
    which: int,
) -> None:
    data = _district(xs, [fee] * len(xs), curve, choice, decay)
    before = build(data)
    # one facility farther: its own demand never rises
    j = which % len(xs)
    data["facilities"][j]["y_m"] += rise
    one = build(data)
    assert np.all(_facility_demand(one)[:, j] <= _facility_demand(before)[:, j] + 1e-12)
    # every distance longer (a detour factor): no community takes up more
    data = _district(xs, [fee] * len(xs), curve, choice, decay)
    data["geography"]["detour_factor"] = stretch
    longer = build(data)
    assert np.all(takeup_model(longer).factors() <= takeup_model(before).factors() + 1e-12)  # type: ignore[union-attr]


# -- closed forms -------------------------------------------------------------------


def test_curves_are_one_at_zero_and_fall() -> None:
    fees = np.linspace(0, 10_000, 501)
    for curve, params in (
        ("logistic", FeeResponse(midpoint_cny=1500, scale_cny=300)),
        ("elasticity", FeeResponse(elasticity=1.3, saturation_cny=700)),
    ):
        r = fee_response(fees, curve, params)
        assert r[0] == 1.0 and np.all(np.diff(r) <= 0) and np.all(r > 0)
    # closed forms: half the plateau of the logistic at its midpoint, 2^-eps at twice f0
    assert fee_response(1500.0, "logistic", FeeResponse(midpoint_cny=1500, scale_cny=300)) == (
        pytest.approx(0.5 / expit(5.0), rel=1e-12)
    )
    r = fee_response(1400.0, "elasticity", FeeResponse(elasticity=1.3, saturation_cny=700))
    assert r == pytest.approx(2**-1.3, rel=1e-12)


def test_default_full_day_curve_goes_through_its_anchors() -> None:
    """Over 70 % accept under 2,000 yuan (30 % at 2,000); 12 % of 35 % at 1,900."""
    p = DEFAULT_FEE_RESPONSE["logistic"]["full_day"]
    m, s = float(p.midpoint_cny or 0), float(p.scale_cny or 1)
    assert expit((m - 2000) / s) == pytest.approx(0.30, abs=0.01)
    assert expit((m - 1900) / s) == pytest.approx(12 / 35, abs=0.01)


def _free_subsidised(sc_data: dict[str, Any], pass_through: float = 1.0) -> Scenario:
    data = copy.deepcopy(sc_data)
    data["fees"] = {"monthly_cny": {"full_day": 1800.0}, "hourly_cny": {"drop_in": 30.0}}
    data["subsidies"] = {
        "operator_per_child_month_cny": 1800.0,
        "pass_through": pass_through,
        "family_allowance_per_child_year_cny": 0.0,
    }
    data["takeup"] = {
        "fee_response": {
            "full_day": {"midpoint_cny": 1500.0, "scale_cny": 300.0},
            "drop_in": {"midpoint_cny": 40.0, "scale_cny": 15.0},
        },
        "distance": "off",
    }
    return build(data)


def test_a_subsidy_down_to_zero_with_places_to_spare_gives_the_maximum() -> None:
    data = copy.deepcopy(load_scenario(MINIMAL).to_dict())
    data["communities"][0]["demand"] = {"drop_in": 0.1, "full_day": 0.3}
    data["facilities"][0]["places"] = {"older": 10_000}
    sc = _free_subsidised(data)
    plan = plan_demand(sc)
    assert np.all(net_fees(sc)[:, plan.care_types.index("full_day")] == 0.0)
    c = sc.communities[0]
    k_full = plan.care_types.index("full_day")
    k_drop = plan.care_types.index("drop_in")
    enrolled = sum(int(f.enrolled[k_full].sum()) for f in plan.facilities)
    walk = sum(float(f.walk_in_per_day[k_drop].sum()) for f in plan.facilities)
    assert enrolled == demand_count(c.under3 * 0.3)  # the maximum, all enrolled
    assert walk == pytest.approx(c.under3 * 0.1 * expit((40 - 30) / 15) / expit(40 / 15))
    assert plan.facilities[0].waitlist == 0
    # the same subsidy kept by the operator: families still pay 1,800 and fewer come
    kept = _free_subsidised(data, pass_through=0.0)
    assert sum(int(f.enrolled[k_full].sum()) for f in plan_demand(kept).facilities) == (
        demand_count(c.under3 * 0.3 * expit((1500 - 1800) / 300) / expit(1500 / 300))
    )


def test_logit_split_is_the_huff_closed_form() -> None:
    data = _district([0.0, 1000.0], [1000.0, 1600.0], "logistic", "logit", "exponential")
    data["takeup"]["logit_per_km"] = 2.0
    data["takeup"]["logit_per_100_cny"] = 0.3
    data["communities"] = data["communities"][:1]
    data["communities"][0]["demand"] = {"drop_in": 0.2, "full_day": 0.0}
    data["facilities"][0]["fee_cny"]["drop_in"] = 20.0
    data["facilities"][1]["fee_cny"]["drop_in"] = 35.0
    sc = build(data)
    d = np.array([100.0, math.hypot(1000.0, 100.0)])
    f = np.array([20.0, 35.0])
    p = np.exp(-2.0 * d / 1000 - 0.3 * f / 100)
    p /= p.sum()
    g = (expit((40 - f) / 15) / expit(40 / 15)) * np.exp(-0.001 * d)
    lam = sc.communities[0].under3 * 0.2
    plan = plan_demand(sc)
    k = plan.care_types.index("drop_in")
    got = np.array([fd.walk_in_per_day[k].sum() for fd in plan.facilities])
    # the best option sets how many come (the nearer and cheaper here); the logit splits them
    assert g[0] > g[1]
    assert got == pytest.approx(lam * g[0] * p, rel=1e-12)
    assert expected_takeup(sc)["drop_in"] == pytest.approx(float(lam * g[0]), rel=1e-12)


@pytest.mark.slow
def test_simulated_walk_ins_match_the_expected_takeup() -> None:
    data = copy.deepcopy(load_scenario(MINIMAL).to_dict())
    data["simulation"].update(days=20, replications=12)
    data["facilities"][0]["places"] = {"older": 400}
    data["fees"] = {"monthly_cny": {"full_day": 1900.0}, "hourly_cny": {"drop_in": 45.0}}
    data["takeup"] = {"fee_response": {"drop_in": {"midpoint_cny": 40.0, "scale_cny": 15.0}}}
    sc = build(data)
    expected = expected_takeup(sc)["drop_in"]
    assert expected < sc.communities[0].under3 * 0.1 * 0.5  # the fee halves it at least
    result = simulate(sc, workers=1)
    k = result.model.plan.care_types.index("drop_in")
    per_day = [r.counts[:, k, 0].sum() / sc.simulation.days for r in result.replications]
    _, lo, hi = mean_ci(per_day)
    assert lo <= expected <= hi


def test_optimizer_sees_demand_at_the_scenarios_fees() -> None:
    """build_instance of a priced scenario is that of the same scenario with each
    community's demand replaced by its take-up share and no take-up model."""
    from tuoyu_sim.allocate.instance import build_instance
    from tuoyu_sim.takeup import takeup_shares

    data = _district([0.0, 2000.0], [1200.0, 2600.0], "logistic", "logit", "exponential")
    data["geography"]["service_radius_m"] = 1500
    sc = build(data)
    plain = copy.deepcopy(data)
    del plain["takeup"]
    for c, shares in zip(plain["communities"], takeup_shares(sc), strict=True):
        c["demand"] = shares
    a, b = build_instance(sc), build_instance(build(plain))
    assert a.enrolled.tobytes() == b.enrolled.tobytes()
    assert a.walk_in.tobytes() == b.walk_in.tobytes()
    assert a.enrolled.sum() < build_instance(build({**data, "takeup": None})).enrolled.sum()

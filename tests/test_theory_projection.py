"""The projection of under-threes: births -> monthly cohorts -> classes -> communities.

Theory first: constant births hold every class constant; a step in births enters
each class ``lo + 1`` months after it starts and has filled it ``hi - lo`` months
later; communities add up to the district; more births never give fewer
children. Then the bridge to the rest of the engine: the base year's scenario is
the scenario itself, and a later year's scenario carries exactly the projected
demand. Bad input gets one message each (the TOML cases are in
``tests/bad_scenarios/`` and run by ``test_bad_input_scenarios.py``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import build
from tuoyu_sim.demand import plan_demand
from tuoyu_sim.errors import ScenarioError
from tuoyu_sim.projection import (
    band_children,
    horizon_years,
    month_index,
    monthly_children,
    project,
    scenario_for_year,
    scenarios_by_year,
)
from tuoyu_sim.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BANDS = {"infant": (6, 12), "toddler": (12, 24), "older": (24, 36)}


def district(
    births: dict[int, float] | None = None,
    variants: dict[str, dict[int, float]] | None = None,
    **projection: Any,
) -> dict[str, Any]:
    """Three classes, three communities (one without children), a projection 2025–2030."""
    observed = births if births is not None else {y: 1200.0 for y in range(2020, 2026)}
    spec: dict[str, Any] = {
        "base_year": 2025,
        "horizon": [2026, 2030],
        "births": {
            "observed": {str(y): v for y, v in observed.items()},
            "variants": {
                name: {str(y): v for y, v in table.items()}
                for name, table in (
                    variants or {"central": {y: 1200.0 for y in range(2026, 2031)}}
                ).items()
            },
        },
    }
    spec.update(projection)
    age_groups = {
        name: {"months": list(band), "ratio": r, "class_size": n}
        for (name, band), r, n in zip(BANDS.items(), (3, 5, 7), (10, 15, 20), strict=True)
    }
    mix = {"infant": 0.12, "toddler": 0.36, "older": 0.52}
    return {
        "name": "projection test",
        "simulation": {"days": 1, "replications": 1, "seed": 1, "open": "07:30", "close": "19:00"},
        "age_groups": age_groups,
        "care_types": {
            "full_day": {
                "mode": "enrolled",
                "window": ["07:30", "08:30"],
                "stay": {"dist": "fixed", "mean_hours": 9.0},
            },
            "drop_in": {"mode": "walk_in", "stay": {"dist": "exponential", "mean_hours": 2.0}},
        },
        "communities": [
            {
                "id": "a",
                "group": "town",
                "population": 10000,
                "children_under3": 300,
                "x_m": 0,
                "y_m": 0,
                "age_mix": mix,
                "demand": {"full_day": 0.15, "drop_in": 0.02},
            },
            {
                "id": "b",
                "group": "city",
                "population": 20000,
                "births_per_1000": 7.0,
                "x_m": 500,
                "y_m": 0,
                "age_mix": {"infant": 0.1, "toddler": 0.3, "older": 0.6},
                "demand": {"full_day": 0.2},
            },
            {
                "id": "c",
                "group": "city",
                "population": 50,
                "children_under3": 0,
                "x_m": 900,
                "y_m": 0,
                "age_mix": {"older": 1.0},
            },
        ],
        "facilities": [
            {"id": "f", "x_m": 100, "y_m": 0, "places": {"infant": 5, "toddler": 20, "older": 40}}
        ],
        "projection": spec,
    }


def enrolled_by_community(s: Scenario) -> np.ndarray:
    """Expected demand ``(communities, types, classes)`` as plan_demand forms it."""
    types, classes = ("full_day", "drop_in"), tuple(BANDS)
    return np.array(
        [
            [
                [c.under3 * c.age_mix.get(a, 0.0) * c.demand.get(t, 0.0) for a in classes]
                for t in types
            ]
            for c in s.communities
        ]
    )


# -- theory: the cohort model -------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"survival": {"1": 0.996, "12": 0.995, "36": 0.994}, "net_migration_per_1000": -20.0},
        {"reference_month": 1},
    ],
    ids=["plain", "deaths-and-migration", "1-january"],
)
def test_constant_births_constant_children(extra: dict[str, Any]) -> None:
    s = build(district(**extra))
    proj = project(s)
    for table in (proj.model, proj.district_children, proj.children, proj.under3, proj.demand):
        assert np.array_equal(table, np.broadcast_to(table[0], table.shape))
    monthly = monthly_children(s, start=(2025, 1), end=(2030, 6))
    assert np.all(monthly.children == monthly.children[0])
    assert np.all(monthly.under3 == monthly.under3[0])
    if not extra:  # 100 births a month, each class holds its width in monthly cohorts
        assert monthly.children[0].tolist() == [600.0, 1200.0, 1200.0]
        assert monthly.under3[0] == 3600.0


def test_constant_births_with_seasonal_months_constant_each_year() -> None:
    weights = [1.2, 1.0, 1.0, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1, 1.1, 1.0, 0.9]
    s = build(district(births={y: 1200.0 for y in range(2020, 2026)}))
    data = district()
    data["projection"]["births"]["month_weights"] = weights
    seasonal = build(data)
    proj = project(seasonal)
    assert np.allclose(proj.model, proj.model[0], rtol=0, atol=1e-9)
    assert proj.model_under3[0] == pytest.approx(project(s).model_under3[0], rel=1e-12)


def test_step_in_births_moves_through_the_classes_month_by_month() -> None:
    """Births double from January 2026: each class starts changing when the first
    cohort born in 2026 completes its lower bound, gains one cohort a month, and is
    full ``hi - lo`` months later; infants first, the older class 18 months later."""
    low = {y: 1200.0 for y in range(2020, 2026)}
    high = {y: 2400.0 for y in range(2026, 2031)}
    s = build(district(births=low, variants={"central": high}))
    series = monthly_children(s, start=(2025, 1), end=(2030, 6))
    step = month_index(2026, 1)
    first_change = {}
    for a, (name, (lo, hi)) in enumerate(BANDS.items()):
        entered = np.clip(series.months - (step + lo + 1) + 1, 0, hi - lo)
        expected = 100.0 * (hi - lo) + 100.0 * entered
        assert series.children[:, a].tolist() == expected.tolist(), name
        changed = np.flatnonzero(series.children[:, a] != series.children[0, a])
        first_change[name] = int(series.months[changed[0]])
    assert first_change == {
        "infant": month_index(2026, 8),  # born January 2026, six months old on 1 August
        "toddler": month_index(2027, 2),
        "older": month_index(2028, 2),  # two years after the first cohort's first birthday month
    }
    assert series.dates[series.months.tolist().index(first_change["older"])] == "2028-02-01"


def test_yearly_figures_are_the_monthly_ones_on_the_reference_date() -> None:
    births = {2020: 900.0, 2021: 1500.0, 2022: 1100.0, 2023: 1300.0, 2024: 700.0, 2025: 1000.0}
    trend = {2026: 1200.0, 2027: 600.0, 2028: 1800.0, 2029: 300.0, 2030: 1000.0}
    for month in (1, 7, 9):
        s = build(district(births=births, variants={"central": trend}, reference_month=month))
        proj = project(s)
        series = monthly_children(s, start=(2025, 1), end=(2030, 12))
        rows = [series.months.tolist().index(month_index(y, month)) for y in proj.years]
        assert np.array_equal(proj.model, series.children[rows])
        assert np.array_equal(proj.model_under3, series.under3[rows])


def test_survival_and_migration_scale_each_cohort_by_its_age() -> None:
    data = district(survival={"12": 0.99, "36": 0.98}, net_migration_per_1000=50.0)
    proj = project(build(data))
    ages = np.arange(6, 12) + 0.5  # the infant class: completed months 6..11
    surv = np.interp(ages, [0, 12, 36], [1.0, 0.99, 0.98])
    expected = 100.0 * np.sum(surv * 1.05 ** (ages / 12))
    assert proj.model[0, 0] == pytest.approx(expected, rel=1e-12)


# -- communities and the district ---------------------------------------------------


@pytest.mark.parametrize("share", ["current", "trend"])
def test_district_is_the_sum_of_communities(share: str) -> None:
    extra = {"share": share, "trend": {"a": 0.9, "city": 1.05}} if share == "trend" else {}
    births = {2020: 900.0, 2021: 1500.0, 2022: 1100.0, 2023: 1300.0, 2024: 700.0, 2025: 1000.0}
    s = build(
        district(
            births=births, variants={"central": dict.fromkeys(range(2026, 2031), 800.0)}, **extra
        )
    )
    proj = project(s)
    assert np.allclose(proj.district_children, proj.scale * proj.model, rtol=1e-12)
    assert np.allclose(proj.district_under3, proj.scale * proj.model_under3, rtol=1e-12)
    assert np.allclose(proj.shares.sum(axis=1), 1.0, rtol=1e-12)
    assert proj.district_under3[0] == pytest.approx(s.children_under3, rel=1e-12)
    for year, ys in scenarios_by_year(s).items():
        assert ys.children_under3 == pytest.approx(proj.district_under3[proj.index(year)], rel=1e-9)
    if share == "trend":  # town community "a" shrinks against the city ones, the district does not
        assert proj.shares[-1, 0] < proj.shares[0, 0]
        assert proj.shares[-1, 1] > proj.shares[0, 1]
        assert proj.under3[:, 2].tolist() == [0.0] * len(proj.years)


def test_base_year_is_the_scenario() -> None:
    s = build(district())
    base = scenario_for_year(s, 2025)
    assert base.communities == s.communities
    assert base.projection is None
    before, after = plan_demand(s), plan_demand(base)
    assert after.enrolled_demand == before.enrolled_demand
    for f0, f1 in zip(before.facilities, after.facilities, strict=True):
        assert np.array_equal(f0.enrolled, f1.enrolled)
        assert np.array_equal(f0.walk_in_per_day, f1.walk_in_per_day)


def test_without_a_projection_every_year_is_the_scenario() -> None:
    data = district()
    del data["projection"]
    s = build(data)
    assert scenario_for_year(s, 2030) is s
    assert horizon_years(s) == ()
    with pytest.raises(ScenarioError, match=r"no \[projection\] section"):
        project(s)


def test_constant_births_keep_every_years_demand() -> None:
    s = build(district())
    for ys in scenarios_by_year(s).values():
        assert np.allclose(enrolled_by_community(ys), enrolled_by_community(s), rtol=1e-12)
        assert plan_demand(ys).enrolled_demand == plan_demand(s).enrolled_demand


@pytest.mark.parametrize("share", ["current", "trend"])
def test_a_years_scenario_carries_the_projected_demand(share: str) -> None:
    extra = {"share": share, "trend": {"b": 1.1}} if share == "trend" else {}
    births = {2020: 900.0, 2021: 1500.0, 2022: 1100.0, 2023: 1300.0, 2024: 700.0, 2025: 1000.0}
    trend = {2026: 1200.0, 2027: 600.0, 2028: 1800.0, 2029: 300.0, 2030: 1000.0}
    data = district(births=births, variants={"central": trend}, **extra)
    data["projection"]["propensity"] = {"multiplier_per_year": 1.05}
    s = build(data)
    proj = project(s)
    for year, ys in scenarios_by_year(s).items():
        y = proj.index(year)
        types = [proj.care_types.index(t) for t in ("full_day", "drop_in")]
        assert np.allclose(enrolled_by_community(ys), proj.demand[y][:, types, :], rtol=1e-9)
        assert ys.projection is None
        assert all(c.births_per_1000 is None for c in ys.communities)
        # walk-in demand follows the children, enrolled demand also the propensity
        base = enrolled_by_community(s)
        growth = proj.children[y, 0] / proj.children[0, 0]
        assert enrolled_by_community(ys)[0, 1] == pytest.approx(base[0, 1] * growth, rel=1e-9)
        assert enrolled_by_community(ys)[0, 0] == pytest.approx(
            base[0, 0] * growth * 1.05 ** (year - 2025), rel=1e-9
        )


def test_points_per_year_raise_the_enrolled_share_by_that_much() -> None:
    s = build(district(propensity={"points_per_year": 0.012}))
    frame = project(s).district_frame()
    rises = np.diff(frame["enrolled_share"].to_numpy())
    assert np.allclose(rises, 0.012, rtol=1e-9)
    assert frame["enrolled_share"].iloc[-1] == pytest.approx(frame["enrolled_share"].iloc[0] + 0.06)


# -- property: more births never give fewer children ---------------------------------

YEARS = list(range(2020, 2031))
counts = st.lists(st.integers(0, 5000), min_size=len(YEARS), max_size=len(YEARS))


def _spec_with(births: list[int]) -> Scenario:
    observed = dict(zip(YEARS[:6], map(float, births[:6]), strict=True))
    observed = {y: max(v, 1.0) for y, v in observed.items()}  # the base year's births are > 0
    assumed = dict(zip(YEARS[6:], map(float, births[6:]), strict=True))
    return build(district(births=observed, variants={"central": assumed}))


@settings(max_examples=60, deadline=None)
@given(counts, counts)
def test_more_births_never_give_fewer_children(births: list[int], more: list[int]) -> None:
    s, s_more = _spec_with(births), _spec_with([b + m for b, m in zip(births, more, strict=True)])
    months = np.arange(month_index(2025, 1), month_index(2030, 7))
    bands = [*BANDS.values(), (0, 36)]
    assert s.projection is not None and s_more.projection is not None
    few = band_children(s.projection, "central", bands, months)
    many = band_children(s_more.projection, "central", bands, months)
    assert np.all(many >= few)


@settings(max_examples=40, deadline=None)
@given(counts, st.lists(st.integers(0, 5000), min_size=5, max_size=5))
def test_more_births_after_the_base_year_never_give_fewer_projected_children(
    births: list[int], more: list[int]
) -> None:
    """Calibrated to the scenario, a year's children grow with the births after the base
    year (births the base year's children came from set the level, not the change)."""
    s = _spec_with(births)
    s_more = _spec_with(births[:6] + [b + m for b, m in zip(births[6:], more, strict=True)])
    few, many = project(s), project(s_more)
    assert np.all(many.children >= few.children - 1e-9 * np.abs(few.children))
    assert np.all(many.under3 >= few.under3 - 1e-9 * np.abs(few.under3))


# -- bad input: one message each ----------------------------------------------------


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        build(data)
    return exc.value.problems


def test_horizon_outside_the_births_series() -> None:
    data = district()
    data["projection"]["horizon"] = [2026, 2032]
    del data["projection"]["births"]["observed"]["2020"]
    (line,) = _problems(data)
    assert "projection.horizon = [2026, 2032]" in line
    assert "2031–2032 (variant central)" in line


def test_base_year_before_the_births_series() -> None:
    data = district()
    for y in ("2020", "2021", "2022"):
        del data["projection"]["births"]["observed"][y]
    (line,) = _problems(data)
    assert "projection.base_year = 2025" in line
    assert "2022" in line


def test_negative_birth_count() -> None:
    data = district()
    data["projection"]["births"]["variants"]["central"]["2028"] = -1
    (line,) = _problems(data)
    assert "projection.births.variants.central.2028 = -1" in line
    assert "≥ 0" in line


def test_no_births_in_the_base_years_window() -> None:
    data = district()
    data["projection"]["births"]["observed"]["2023"] = 0
    (line,) = _problems(data)
    assert "projection.births.observed.2023 = 0.0" in line


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"horizon": [2024, 2030]}, "projection.horizon = [2024, 2030]: years from the base year"),
        ({"horizon": [2030, 2026]}, "first ≤ last"),
        ({"share": "trend"}, "projection.trend = {}"),
        ({"trend": {"a": 1.1}}, 'applies to share = "trend" only'),
        ({"share": "trend", "trend": {"zz": 1.1}}, "projection.trend.zz"),
        ({"survival": {"12": 0.99, "24": 0.995}}, "projection.survival.24 = 0.995"),
        ({"propensity": {"multiplier_per_year": 1.1, "points_per_year": 0.01}}, "not both"),
        ({"propensity": {"points_per_year": -0.1}}, "would fall below 0 by 2030"),
        ({"reference_month": 13}, "projection.reference_month = 13"),
        ({"colour": "red"}, "projection.colour"),
    ],
)
def test_other_bad_projection_values(change: dict[str, Any], needle: str) -> None:
    data = district()
    data["projection"].update(change)
    (line,) = _problems(data)
    assert needle in line


def test_assumed_year_that_was_observed() -> None:
    data = district()
    data["projection"]["births"]["variants"]["low"] = {"2025": 10, "2026": 10}
    lines = _problems(data)
    assert len(lines) == 1
    assert "projection.births.variants.low.2025" in lines[0]
    assert "after the observed ones (the last is 2025)" in lines[0]


def test_year_table_keys_are_years() -> None:
    data = district()
    data["projection"]["births"]["observed"]["twenty"] = 5
    (line,) = _problems(data)
    assert 'projection.births.observed.twenty = "twenty": a year' in line


def test_unknown_variant() -> None:
    s = build(district())
    for call in (lambda: scenario_for_year(s, 2027, "hihg"), lambda: project(s, "hihg")):
        with pytest.raises(ScenarioError) as exc:
            call()
        (line,) = exc.value.problems
        assert "variant = 'hihg'" in line
        assert "one of central" in line


@pytest.mark.parametrize(("year", "needle"), [(2024, "from the base year 2025"), (2031, "at most")])
def test_year_outside_the_projection(year: int, needle: str) -> None:
    s = build(district())
    with pytest.raises(ScenarioError) as exc:
        scenario_for_year(s, year)
    (line,) = exc.value.problems
    assert f"year = {year}" in line
    assert needle in line


def test_monthly_series_outside_the_births() -> None:
    s = build(district())
    with pytest.raises(ScenarioError, match="no births for 2019"):
        monthly_children(s, start=(2022, 1), end=(2023, 1))


# -- Yanzhou ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yanzhou() -> Scenario:
    return load_scenario(SCENARIOS / "yanzhou.toml")


def test_yanzhou_variants_are_ordered(yanzhou: Scenario) -> None:
    assert horizon_years(yanzhou) == (2026, 2027, 2028, 2029, 2030)
    low, central, high = (project(yanzhou, v) for v in ("low", "central", "high"))
    assert np.all(low.children <= central.children + 1e-9)
    assert np.all(central.children <= high.children + 1e-9)
    # the census-anchored births and the communities' 6.42 per 1,000 agree within 10%
    assert 0.9 < central.scale < 1.1
    # falling births: fewer under-threes in 2030 than in 2025 in every variant
    for proj in (low, central, high):
        assert proj.district_under3[-1] < proj.district_under3[0]


def test_yanzhou_year_scenario_is_a_plain_scenario(yanzhou: Scenario) -> None:
    y2030 = scenario_for_year(yanzhou, 2030, "low")
    assert y2030.projection is None
    assert y2030.facilities == yanzhou.facilities
    assert y2030.candidate_sites == yanzhou.candidate_sites
    assert y2030.population == yanzhou.population
    assert y2030.children_under3 < yanzhou.children_under3
    assert plan_demand(y2030).enrolled_demand > 0


def test_projection_section_survives_a_round_trip(yanzhou: Scenario) -> None:
    again = build(copy.deepcopy(yanzhou.to_dict()))
    assert again.projection == yanzhou.projection

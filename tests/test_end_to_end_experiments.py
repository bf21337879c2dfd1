"""Every experiment script runs (quick mode), and the theory cases behave.

The scripts are run as a user runs them — ``python experiments/NN_name.py
--quick --out DIR`` in a subprocess — and must exit 0, write ``summary.md``
with its key answer and the figures it links. The unit tests of
:mod:`tuoyu_sim.theory_cases` check that the exact values are what the queueing
module says and that one fast case puts the exact value inside its interval.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tuoyu_sim.metrics import mean_ci
from tuoyu_sim.queueing import LossSystem, erlang_b, transient
from tuoyu_sim.scenario import validate_data
from tuoyu_sim.theory_cases import (
    DAY_MIN,
    cases,
    get_case,
    run_all,
    run_case,
    walk_in_data,
)

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"

SCRIPTS = {
    "01_ruyituo_day": (
        ("station_day.png", "drop_in_sweep.png"),
        ("drop-in places", "Erlang B", "refused at the station"),
    ),
    "02_yanzhou_today": (
        ("utilization_by_group.png", "map.png", "empty_places.png"),
        (
            "Outside the 1 km circle",
            "Child-care deserts",
            "Center for American Progress",
            "empty place-hours",
        ),
    ),
    "03_yanzhou_targets": (
        ("plans.png", "per_1000_by_group.png"),
        ("per 1,000", "every community in the circle", "utilization"),
    ),
    "04_birth_decline": (
        ("utilization_by_year.png", "emptying_first.png", "conversion.png"),
        ("children_under3", "Which empty first", "Converting places"),
    ),
    "05_staff_absence": (
        ("caregivers_needed.png",),
        ("ratio rule", "caregivers needed", "× the ratio rule"),
    ),
    "06_validation": (
        ("validation.png",),
        ("comparisons", "inside the 99% interval", "Erlang B"),
    ),
    "07_yanzhou_2030": (
        ("present_cost.png", "places_by_year.png"),
        ("phased plan", "present value", "empty place-years", "years with a target missed"),
    ),
    "08_fees_and_subsidies": (
        ("levers.png",),
        ("public cost", "new sites", "allowance 7,200", "普惠 cap"),
    ),
}


def test_every_script_is_tested() -> None:
    found = {p.stem for p in EXPERIMENTS.glob("[0-9][0-9]_*.py")}
    assert found == set(SCRIPTS), (
        f"scripts without a test or tests without a script: {found ^ set(SCRIPTS)}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_experiment_runs_quick(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / f"{name}.py"), "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}"
    summary = out / "summary.md"
    assert summary.is_file(), f"{name} wrote no summary.md"
    text = summary.read_text(encoding="utf-8")
    pngs, phrases = SCRIPTS[name]
    for phrase in phrases:
        assert phrase in text, f"{name}: summary.md does not mention {phrase!r}"
    for section in ("## Question", "## Method", "## Answer", "## Figures", "## Caveats"):
        assert section in text, f"{name}: summary.md has no {section!r}"
    for png in pngs:
        path = out / png
        assert path.is_file() and path.stat().st_size > 5_000, f"{name}: {png} missing or empty"
        assert f"]({png})" in text, f"{name}: summary.md does not link {png}"
    assert "nan%" not in text.lower(), f"{name}: a NaN reached the summary"


# -- tuoyu_sim.theory_cases ----------------------------------------------------------------


@pytest.mark.slow
def test_case_names_are_unique_and_found() -> None:
    names = [c.name for c in cases()]
    assert len(names) == len(set(names))
    assert get_case("littles_law").name == "littles_law"
    with pytest.raises(KeyError, match="known: erlang_b_places"):
        get_case("no_such_case")


def test_every_case_builds_a_valid_scenario() -> None:
    for case in cases():
        sc = validate_data(case.build(2, 2, 1))
        assert len(sc.facilities) == 1 and len(sc.communities) == 1, case.name


def test_exact_values_come_from_the_queueing_module() -> None:
    b = erlang_b(5, 4.0)
    places = get_case("erlang_b_places")
    assert places.checks[0].steady_state == pytest.approx(b, rel=1e-12)
    assert places.checks[1].steady_state == pytest.approx(4.0 * (1 - b), rel=1e-12)
    day = transient(LossSystem((5,), (7,), None, (1.8,)), [(1440.0, [4.0 / 1.8])])
    assert places.checks[0].exact == pytest.approx(day.blocking_fraction_total, rel=1e-12)
    # a day that starts empty is within 0.5% of the steady state here
    assert abs(places.checks[0].exact - b) < 0.005 * b
    # caregivers binding: 2 caregivers at 1:5 are 10 servers
    cg = get_case("erlang_b_caregivers").checks[0]
    assert cg.steady_state == pytest.approx(erlang_b(10, 8.0), rel=1e-12)
    assert abs(cg.exact - cg.steady_state) < 0.005 * cg.steady_state
    exact = transient(LossSystem((8,), (7,), 100, (90.0,)), [(DAY_MIN, [60.0 / DAY_MIN])])
    assert get_case("transient_places").checks[0].exact == pytest.approx(
        exact.blocking_fraction_total, rel=1e-12
    )
    assert get_case("littles_law").checks[0].exact == 1.0


def test_walk_in_data_demand_is_what_was_asked() -> None:
    data = walk_in_data(
        places={"infant": 3, "toddler": 5},
        arrivals_per_day={"infant": 10.0, "toddler": 30.0},
        caregivers=2,
    )
    sc = validate_data(data)
    c = sc.communities[0]
    assert c.under3 * c.demand["drop_in"] == pytest.approx(40.0)
    assert c.age_mix == pytest.approx({"infant": 0.25, "toddler": 0.75})
    with pytest.raises(ValueError, match="add up to more than 0"):
        walk_in_data(places={"older": 1}, arrivals_per_day={"older": 0.0})


def test_mean_ci_needs_two_values() -> None:
    mean, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert lo < mean < hi
    with pytest.raises(ValueError):
        mean_ci([1.0])


@pytest.mark.slow
def test_fast_case_exact_inside_interval() -> None:
    """Places binding over one day from empty: exact turn-away and occupancy inside the 99% CI."""
    run = run_case("transient_places", days=100, replications=20, seed=101)
    assert len(run.results) == 2
    for r in run.results:
        assert r.ci99_low <= r.exact <= r.ci99_high, r.record()
        assert r.relative_half_width < 0.05, r.record()  # narrow enough to mean something
        assert r.ci99_low <= r.ci_low <= r.mean <= r.ci_high <= r.ci99_high


def test_run_all_filters_and_scales() -> None:
    results = run_all(scale=0.05, names=["littles_law"])
    assert [r.case for r in results] == ["littles_law"]
    assert results[0].replications == 5 and results[0].days == 5
    assert np.isfinite(results[0].mean)
    with pytest.raises(ValueError):
        run_all(scale=0)

"""A plan over several years, as a planner gets it: API and CLI folders, tables, report, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tuoyu_sim as ty
from tuoyu_sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
FALLING = ROOT / "scenarios" / "examples" / "falling_births.toml"
RUYITUO = ROOT / "scenarios" / "ruyituo.toml"
VOLATILE = {"run_seconds", "solve_seconds", "versions", "scenario_file"}


@pytest.fixture(scope="module")
def phased() -> ty.PhasedRun:
    return ty.optimize(FALLING, years="2026-2028")


def _summary(folder: Path) -> dict:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k not in VOLATILE}


def test_the_years_table_follows_the_projection_and_the_networks(phased: ty.PhasedRun) -> None:
    from tuoyu_sim.projection import project

    years = phased.per_year
    assert list(years["year"]) == [2026, 2027, 2028]
    frame = project(phased.scenario, "central").district_frame().set_index("year")
    for _, row in years.iterrows():
        y = int(row["year"])
        assert row["under3"] == pytest.approx(frame.loc[y, "under3"], abs=0.05)
        net = phased.networks[y]
        assert row["places"] == sum(f.total_places for f in net.facilities)
        assert row["places_per_1000"] == pytest.approx(net.places_per_1000, abs=5e-4)
        assert 0 <= row["expected_enrolled"] <= row["enrolled_demand"] + 1e-6


def test_costs_add_up_from_the_phases(phased: ty.PhasedRun) -> None:
    phases = phased.phases
    years = phased.per_year
    assert phased.present_cost_cny == pytest.approx(phases["discounted_cny"].sum(), abs=0.01)
    assert years["cost_cny"].sum() == pytest.approx(phases["cost_cny"].sum(), abs=0.05)
    opened = phases[phases["action"] == "open"]
    assert len(set(opened["site"])) == len(opened)  # a site opens once
    assert phased.summary["model_objective_cny"] == pytest.approx(
        phased.present_cost_cny, rel=1e-6, abs=1.0
    )


def test_api_and_cli_write_the_same_folder(tmp_path: Path, phased: ty.PhasedRun) -> None:
    out = tmp_path / "cli"
    assert main(["optimize", str(FALLING), "--years", "2026-2028", "--out", str(out)]) == 0
    phased.save(tmp_path / "api")
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "api").iterdir())
    for name in names:
        if name.endswith((".csv", ".toml", ".xlsx")):
            assert (out / name).read_bytes() == (tmp_path / "api" / name).read_bytes(), name
    assert _summary(out) == _summary(tmp_path / "api")
    for name in ("phases.csv", "years.csv", "network.csv", "trajectory.png", "map_phased.png"):
        assert (out / name).is_file(), name
    for y in (2026, 2027, 2028):
        again = ty.load_scenario(out / f"scenario.planned.{y}.toml")
        assert again.total_places == phased.networks[y].total_places


def test_years_alone_is_the_horizon(tmp_path: Path) -> None:
    out = tmp_path / "h"
    assert main(["optimize", str(FALLING), "--years", "--no-figures", "--out", str(out)]) == 0
    assert _summary(out)["years"] == [2026, 2027, 2028]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_has_a_section_for_the_years(
    tmp_path: Path, phased: ty.PhasedRun, lang: str
) -> None:
    folder = phased.save(tmp_path / "run", figures=True)
    assert main(["report", str(folder), "--lang", lang]) == 0
    page = (folder / "report.html").read_text(encoding="utf-8")
    title = "2026–2028 年分期规划" if lang == "zh" else "Phased plan 2026–2028"
    assert title in page
    assert 'data-figure="trajectory"' in page
    assert 'data-figure="map_phased"' in page


@pytest.mark.slow
def test_plan_over_years_simulates_every_year(tmp_path: Path) -> None:
    seen: list[int] = []
    run = ty.plan(FALLING, years="2026-2027", workers=1, on_year=lambda y, it: seen.append(y))
    assert set(seen) == {2026, 2027}
    years = run.per_year
    assert {"utilization", "utilization_low", "utilization_high", "holds"} <= set(years.columns)
    assert run.summary["converged"] == all(years["holds"])
    assert run.summary["first_failing_year"] is None or run.summary["first_failing_year"] in (
        2026,
        2027,
    )
    assert set(run.table("iterations")["year"]) == {2026, 2027}
    run.save(tmp_path / "plan")
    assert main(["report", str(tmp_path / "plan"), "--lang", "en"]) == 0
    page = (tmp_path / "plan" / "report.html").read_text(encoding="utf-8")
    assert "simulated utilization" in page


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["optimize", str(RUYITUO), "--years", "2026-2028"], "no [projection] section"),
        (["optimize", str(FALLING), "--years", "2024-2026"], "within projection.horizon"),
        (["optimize", str(FALLING), "--years", "2026-2031"], "within projection.horizon"),
        (
            ["optimize", str(FALLING), "--years", "2026-2027", "--variant", "boom"],
            "names the variants",
        ),
        (["optimize", str(FALLING), "--variant", "low"], "--variant"),
        (
            ["optimize", str(FALLING), "--years", "2026-2027", "--objective", "max-coverage"],
            "min-cost only",
        ),
    ],
)
def test_bad_years_are_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err
    assert not out.exists()


def test_a_malformed_year_range_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["optimize", str(FALLING), "--years", "2028-2026"])
    assert exc.value.code == 2
    assert "the last year comes before the first" in capsys.readouterr().err


def test_a_sweep_over_births_variants_runs_every_year(tmp_path: Path) -> None:
    grid = {"projection.variant": ["low", "high"]}
    run = ty.sweep(FALLING, grid, years="2026-2027", replications=2, days=1, workers=1)
    frame = run.frame
    assert list(frame["projection.variant"]) == ["low", "high"]
    for y in (2026, 2027):
        assert {f"utilization_{y}", f"enrolled_demand_{y}", f"places_{y}"} <= set(frame.columns)
    # the last year's figures under their usual names
    assert list(frame["enrolled_demand"]) == list(frame["enrolled_demand_2027"])
    # fewer births, less demand by 2027; the same network in 2026 and 2027 (not optimized)
    low, high = frame.iloc[0], frame.iloc[1]
    assert low["enrolled_demand_2027"] <= high["enrolled_demand_2027"]
    assert low["places_2026"] == low["places_2027"] == high["places_2027"]
    assert run.summary["years"] == [2026, 2027]

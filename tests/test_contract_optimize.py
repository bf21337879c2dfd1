"""``tuoyu-sim optimize``: outputs, messages, exit codes; infeasibility explained with
numbers before and after solving; honest solver status."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from allocation_builders import make, scenario_dict
from conftest import OPTIMIZE_SPEC_KEYS
from tuoyu_sim.allocate import OptimizeOptions, SolverSpec, optimize
from tuoyu_sim.allocate import solvers as solvers_mod
from tuoyu_sim.allocate.instance import build_instance
from tuoyu_sim.allocate.mincost import MinCostOptions, build_min_cost, solve_min_cost
from tuoyu_sim.cli import main
from tuoyu_sim.errors import InfeasibleError, SolverError, UserError
from tuoyu_sim.scenario import dump_toml, load_scenario

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = ROOT / "scenarios" / "minimal.toml"
SPEC_KEYS = OPTIMIZE_SPEC_KEYS | {"scenario", "seed", "versions"}


def _write(tmp_path: Path, d: dict, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(dump_toml(make(d)), encoding="utf-8")
    return path


def test_optimize_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["optimize", str(MINIMAL), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "min-cost" in printed and "optimal" in printed and "1,940,000" in printed
    for name in (
        "summary.json",
        "plan.csv",
        "assignment.csv",
        "places_by_group.csv",
        "scenario.planned.toml",
        "map.png",
        "per_1000_by_group.png",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= SPEC_KEYS
    assert summary["status"] == "optimal" and summary["gap"] == 0.0
    assert summary["added_places"] == 37
    assert summary["added_caregivers"] == {"teacher": 0, "nursery": 4, "health": 0}
    assert summary["cost"] == 1_940_000
    assert summary["places_per_1000_before"] == pytest.approx(0.8)
    assert summary["places_per_1000_after"] == pytest.approx(4.5)
    assert summary["sites"][0]["id"] == "f1" and summary["sites"][0]["places_total"] == 45
    rows = list(csv.DictReader((out / "plan.csv").open(encoding="utf-8")))
    assert rows[0]["site"] == "f1" and rows[0]["places_older"] == "45"
    assert rows[0]["added_nursery"] == "4" and float(rows[0]["cost_cny"]) == 1_940_000
    planned = load_scenario(out / "scenario.planned.toml")
    assert planned.facilities[0].places == {"older": 45}
    assert planned.facilities[0].staff.nursery == 6
    assert planned.places_per_1000 == pytest.approx(4.5)


def test_planned_scenario_simulates(tmp_path: Path) -> None:
    """scenario.planned.toml is ready for simulate (tiny run)."""
    from tuoyu_sim.simulation import simulate

    d = scenario_dict(
        3, n_comm=6, n_fac=1, n_cand=4, size_m=1200, walk_in=0.05, max_places=(20, 40)
    )
    d["targets"]["coverage_share"] = 0.8
    path = _write(tmp_path, d)
    out = tmp_path / "out"
    assert main(["optimize", str(path), "--out", str(out), "--no-figures"]) == 0
    planned = load_scenario(out / "scenario.planned.toml")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert len(planned.facilities) == 1 + len(summary["new_sites"])
    result = simulate(planned.with_changes({"simulation.days": 1, "simulation.replications": 1}))
    assert result is not None


@pytest.mark.parametrize("objective", ["cover-all", "max-coverage"])
def test_covering_objectives_cli(tmp_path: Path, objective: str) -> None:
    d = scenario_dict(21, n_comm=12, n_fac=1, n_cand=8, size_m=2500)
    path = _write(tmp_path, d)
    out = tmp_path / objective
    extra = ["--sites", "2"] if objective == "max-coverage" else []
    code = main(["optimize", str(path), "--objective", objective, "--out", str(out), *extra])
    if code != 0:  # some community beyond every site: cover-all is infeasible
        assert objective == "cover-all"
        return
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == objective
    assert summary["status"] == "optimal"
    if objective == "cover-all":
        assert summary["coverage_share"] == pytest.approx(1.0)
    load_scenario(out / "scenario.planned.toml")


def test_unreachable_community_is_explained_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = scenario_dict(1, n_comm=3, n_fac=1, n_cand=1, size_m=500)
    d["communities"].append(
        {
            "id": "far",
            "population": 3000,
            "children_under3": 90,
            "x_m": 9000.0,
            "y_m": 9000.0,
            "age_mix": {"older": 1.0},
            "demand": {"full_day": 0.1},
        }
    )
    path = _write(tmp_path, d)
    out = tmp_path / "out"
    assert main(["optimize", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "community far (90.0 children under 3" in err
    assert "no facility or candidate site within 1,000 m" in err
    assert not out.exists()  # nothing written
    assert main(["optimize", str(path), "--objective", "cover-all", "--out", str(out)]) == 1
    assert "cover-all cannot cover every community: 1 of 4" in capsys.readouterr().err


def test_per_1000_beyond_capacity_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", str(MINIMAL), "--target-per-1000", "20"]) == 1
    err = capsys.readouterr().err
    # f1 can grow to 500 / 9 = 55 places, s1 holds 60: 115 places = 11.50 per 1,000
    assert "needs 192 more places" in err and "can add at most 107" in err
    assert "the most reachable is 11.50 per 1,000" in err


def test_budget_below_lower_bound_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", str(MINIMAL), "--budget", "100000"]) == 1
    err = capsys.readouterr().err
    assert "costs at least 1,940,000 yuan" in err and "the budget is 100,000 yuan" in err


def _needs_a_site() -> dict:
    """c1 next to f1; c2 1.6 km away, reachable only by s1 (site 250,000)."""
    d = scenario_dict(0, n_comm=0, n_fac=0, n_cand=0)
    d["communities"] = [
        {
            "id": "c1",
            "population": 5000,
            "children_under3": 100,
            "x_m": 0.0,
            "y_m": 0.0,
            "age_mix": {"older": 1.0},
            "demand": {"full_day": 0.1},
        },
        {
            "id": "c2",
            "population": 5000,
            "children_under3": 100,
            "x_m": 1600.0,
            "y_m": 0.0,
            "age_mix": {"older": 1.0},
            "demand": {"full_day": 0.1},
        },
    ]
    d["facilities"] = [
        {
            "id": "f1",
            "x_m": 0.0,
            "y_m": 0.0,
            "places": {"older": 10},
            "staff": {"teacher": 1, "nursery": 1},
            "area_m2": 200.0,
        }
    ]
    d["candidate_sites"] = [
        {"id": "s1", "x_m": 1000.0, "y_m": 0.0, "max_places": 30, "fixed_cost_cny": 250000.0}
    ]
    return d


def test_budget_shortfall_found_after_solving() -> None:
    """The pre-check passes (no per-1,000 target), the solve is infeasible, and the
    message gives the least budget that meets the targets and what the budget buys."""
    sc = make(_needs_a_site())
    free = optimize(sc, OptimizeOptions(), SolverSpec())
    # s1 (250,000) + 10 places (200,000) + ceil(10/7) = 2 nursery (120,000)
    assert free.cost_cny == 570000
    with pytest.raises(InfeasibleError) as info:
        optimize(sc, OptimizeOptions(budget_cny=300000), SolverSpec())
    text = str(info.value)
    assert "the targets need at least 570,000 yuan" in text
    assert "is 270,000 yuan short" in text
    assert "within the budget the most demand served within 1,000 m is 50.0%" in text


def test_failing_block_found_after_solving() -> None:
    """No budget; coverage 100% fails only because s1 is too small: the coverage block is
    named, with the most coverage reachable."""
    d = _needs_a_site()
    d["candidate_sites"][0]["max_places"] = 4
    sc = make(d)
    with pytest.raises(InfeasibleError) as info:
        optimize(sc, OptimizeOptions(), SolverSpec())
    text = str(info.value)
    assert "coverage: at most 70.0% of demand (14.0 of 20.0 places' worth)" in text


def test_bad_options_are_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", str(MINIMAL), "--objective", "max-coverage"]) == 1
    assert "max-coverage needs" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["optimize", str(MINIMAL), "--gap", "2"])
    assert info.value.code == 2
    assert main(["optimize", str(tmp_path / "missing.toml")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_the_cli_names_its_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", str(MINIMAL), "--objective", "max-coverage"]) == 1
    err = capsys.readouterr().err
    assert "--sites" in err and "--budget" in err and "max_sites" not in err


@pytest.mark.parametrize(
    ("make_it", "names"),
    [
        (lambda: SolverSpec("glpk"), "solver name 'glpk'"),  # type: ignore[arg-type]
        (lambda: SolverSpec(time_limit_s=0), "time_limit_s 0"),
        (lambda: SolverSpec(gap=2.0), "gap 2.0"),
        (lambda: SolverSpec(threads=0), "threads 0"),
        (lambda: SolverSpec(node_limit=0), "node_limit 0"),
        (lambda: OptimizeOptions(objective="most"), "objective 'most'"),  # type: ignore[arg-type]
        (lambda: OptimizeOptions(max_sites=-1), "max_sites -1"),
        (lambda: OptimizeOptions(budget_cny=-1.0), "budget_cny -1.0"),
        (lambda: OptimizeOptions(target_per_1000=2000.0), "target_per_1000 2000.0"),
        (lambda: build_instance(load_scenario(MINIMAL), radius_m=-5.0), "radius_m -5.0"),
        (lambda: build_instance(load_scenario(MINIMAL), decay="power", beta=-1.0), "beta -1.0"),
        (
            lambda: optimize(
                load_scenario(MINIMAL), OptimizeOptions(objective="max-coverage"), SolverSpec()
            ),
            "needs max_sites or budget_cny",
        ),
    ],
)
def test_library_errors_name_parameters_not_flags(make_it: object, names: str) -> None:
    """The library names its own parameters; command-line flags are the CLI's."""
    with pytest.raises(UserError) as info:
        make_it()  # type: ignore[operator]
    assert names in str(info.value)
    assert "--" not in str(info.value)


def test_highs_missing_is_a_clear_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solvers_mod, "highs_available", lambda: False)
    with pytest.raises(SolverError, match="needs the highspy package") as info:
        solvers_mod.make_solver(SolverSpec("highs"))
    assert "--" not in str(info.value)


def test_cbc_log_is_read_for_the_gap() -> None:
    log = (
        "Result - Stopped on time limit\n\nObjective value:                84160000.00000000\n"
        "Lower bound:                    84000000.000\nGap:                            0.00\n"
    )
    parsed = solvers_mod._parse_cbc_log(log)
    assert parsed == {
        "result": "Stopped on time limit",
        "objective": 84160000.0,
        "bound": 84000000.0,
        "gap": 0.0,
    }
    assert solvers_mod.rel_gap(84160000.0, 84000000.0) == pytest.approx(0.0019011, rel=1e-4)


@pytest.mark.parametrize("solver", ["cbc", "highs"])
def test_time_limited_solve_is_not_called_optimal(solver: str) -> None:
    """A solve cut short reports 'feasible' with its gap (or no solution), never 'optimal'
    unless the bound proves it."""
    if solver == "highs" and not solvers_mod.highs_available():
        pytest.skip("highspy is not installed")
    d = scenario_dict(
        9, n_comm=60, n_fac=2, n_cand=25, size_m=5000, walk_in=0.05, max_places=(20, 60)
    )
    d["targets"]["coverage_share"] = 0.9
    inst = build_instance(make(d))
    model = build_min_cost(inst, MinCostOptions(coverage_share=0.9))
    sol = solve_min_cost(model, SolverSpec(solver, time_limit_s=0.3))
    out = sol.outcome
    assert out.status in ("optimal", "feasible", "no_solution")
    if out.status == "optimal":
        assert out.gap is not None and out.gap <= solvers_mod.PROVEN_GAP
    if out.status == "feasible":
        assert out.gap is not None and out.gap > solvers_mod.PROVEN_GAP


@pytest.mark.slow
def test_python_dash_m_runs_optimize(tmp_path: Path) -> None:
    if not solvers_mod.highs_available():
        pytest.skip("highspy is not installed")
    out = tmp_path / "m"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuoyu_sim",
            "optimize",
            str(MINIMAL),
            "--out",
            str(out),
            "--no-figures",
            "--solver",
            "highs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Running HiGHS" not in proc.stdout
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["solver"] == "highs"


def test_highs_start_is_not_taken_for_the_answer() -> None:
    """HiGHS 1.16 can hand back the start instead of its solution when presolve
    solves the whole model; the solve is repeated without the start."""
    if not solvers_mod.highs_available():
        pytest.skip("highspy is not installed")
    import pulp

    data = json.loads((Path(__file__).parent / "data" / "highs_stale_start.json").read_text())
    variables, prob = pulp.LpProblem.fromDict(data["model"])
    for name, v in variables.items():
        v.setInitialValue(data["start"][name], check=False)
    out = solvers_mod.solve(prob, SolverSpec("highs"), warm_start=True)
    assert out.status == "optimal"
    assert out.objective == pytest.approx(-657661578.94, rel=1e-9)  # the start's is 220,000
    assert out.objective == pytest.approx(pulp.value(prob.objective))
